"""Anthropic Messages API (what Claude Code calls): POST /v1/messages, streaming or not, and count_tokens."""

from __future__ import annotations

import json
import uuid
from typing import Any

from .script import Reply, ReplyKind
from .wire import Answer, Prompt, content_text, json_answer, sse_answer, sse_event, text_pieces

API = "anthropic-messages"
_ERROR_TYPES = {429: "rate_limit_error", 529: "overloaded_error", 500: "api_error", 503: "api_error"}


def read_prompt(body: dict[str, Any]) -> Prompt:
    messages = body.get("messages") or []
    user: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    content = user.get("content")
    # A tool's result is answered as such only when the user said nothing new after it.
    after_tool = (
        isinstance(content, list)
        and bool(content)
        and isinstance(content[-1], dict)
        and content[-1].get("type") == "tool_result"
    )
    tools = tuple(str(t.get("name", "")) for t in body.get("tools") or [] if isinstance(t, dict))
    model = str(body.get("model", ""))
    # Claude Code's own side requests (the session title) offer no tools; the conversation always does.
    return Prompt(API, model, content_text(content), after_tool, bool(body.get("stream")), tools, not tools)


def count_tokens(body: dict[str, Any]) -> Answer:
    size = len(json.dumps(body.get("messages") or []))
    return json_answer(200, {"input_tokens": max(1, size // 4)})


def answer(reply: Reply, prompt: Prompt) -> Answer:
    if reply.kind is ReplyKind.ERROR:
        kind = _ERROR_TYPES.get(reply.status, "api_error")
        message = reply.text or f"fake model: {kind}"
        return json_answer(
            reply.status, {"type": "error", "error": {"type": kind, "message": message}}, ("retry-after", "1")
        )
    blocks = _blocks(reply, prompt)
    stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    message_id = f"msg_{uuid.uuid4().hex[:24]}"
    usage = {
        "input_tokens": 10,
        "output_tokens": 10,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    if not prompt.stream:
        return json_answer(
            200,
            {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": prompt.model,
                "content": blocks,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": usage,
            },
        )
    start = {
        "type": "message_start",
        "message": {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": prompt.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": 1},
        },
    }
    events = [sse_event(start, "message_start")]
    for index, block in enumerate(blocks):
        events += _block_events(index, block, reply.seconds)
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": 10},
    }
    events += [sse_event(delta, "message_delta"), sse_event({"type": "message_stop"}, "message_stop")]
    return sse_answer(events, reply.seconds)


def _blocks(reply: Reply, prompt: Prompt) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text or reply.kind is ReplyKind.TEXT:
        blocks.append({"type": "text", "text": reply.text})
    if reply.kind is ReplyKind.TOOL and reply.tool is not None:
        tool = reply.tool
        arguments: dict[str, Any]
        if tool.name:
            name = f"mcp__{tool.server}__{tool.name}" if tool.server else tool.name
            arguments = json.loads(tool.input)
        elif tool.question and "AskUserQuestion" in prompt.tools:
            options = [{"label": option, "description": f"Use {option}."} for option in tool.options]
            question = {
                "question": tool.question,
                "header": "Choice",
                "options": options,
                "multiSelect": False,
            }
            name, arguments = "AskUserQuestion", {"questions": [question]}
        elif tool.path and "Write" in prompt.tools:
            name, arguments = "Write", {"file_path": tool.path, "content": tool.content}
        else:
            name, arguments = "Bash", {"command": tool.shell_command, "description": "Run a command"}
        blocks.append(
            {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": name, "input": arguments}
        )
    return blocks


def _block_events(index: int, block: dict[str, Any], seconds: float) -> list[bytes]:
    if block["type"] == "text":
        opening = {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        }
        deltas = [
            {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}
            for piece in text_pieces(block["text"], seconds)
        ]
    else:
        opening = {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}},
        }
        deltas = [
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": json.dumps(block["input"])},
            }
        ]
    closing = {"type": "content_block_stop", "index": index}
    return [
        sse_event(opening, "content_block_start"),
        *(sse_event(d, "content_block_delta") for d in deltas),
        sse_event(closing, "content_block_stop"),
    ]
