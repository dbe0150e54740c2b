"""OpenAI Responses API (what Codex calls): POST /v1/responses with SSE events."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from .script import Reply, ReplyKind, ToolCall
from .wire import Answer, Prompt, content_text, json_answer, sse_answer, sse_event, text_pieces

# How long the fake model tells a client to wait after an error: long enough to see the retry on screen.
RETRY_AFTER_SECONDS = 5
API = "openai-responses"


def read_prompt(body: dict[str, Any]) -> Prompt:
    items = body.get("input") or []
    if isinstance(items, str):
        return Prompt(API, str(body.get("model", "")), items, False, bool(body.get("stream")))
    last = items[-1] if items and isinstance(items[-1], dict) else {}
    after_tool = str(last.get("type", "")).endswith("_call_output")
    user = next(
        (
            i
            for i in reversed(items)
            if isinstance(i, dict) and i.get("role") == "user" and i.get("type", "message") == "message"
        ),
        {},
    )
    tools = tuple(
        str(t.get("name", t.get("type", ""))) for t in body.get("tools") or [] if isinstance(t, dict)
    )
    text = content_text(user.get("content"))
    # Codex's own side requests (the task title) offer no tools; the conversation always does.
    return Prompt(
        API, str(body.get("model", "")), text, after_tool, bool(body.get("stream", True)), tools, not tools
    )


def answer(reply: Reply, prompt: Prompt) -> Answer:
    if reply.kind is ReplyKind.ERROR:
        kind = "rate_limit_exceeded" if reply.status == 429 else "server_error"
        message = reply.text or f"fake model: {kind}"
        payload = {"error": {"message": message, "type": kind, "code": kind}}
        return json_answer(reply.status, payload, ("retry-after", str(RETRY_AFTER_SECONDS)))
    response_id = f"resp_{uuid.uuid4().hex[:24]}"
    output: list[dict[str, Any]] = []
    events: list[bytes] = []
    sequence = 0

    def event(payload: dict[str, Any]) -> None:
        nonlocal sequence
        events.append(sse_event({**payload, "sequence_number": sequence}, payload["type"]))
        sequence += 1

    base = {"id": response_id, "object": "response", "created_at": int(time.time()), "model": prompt.model}
    event({"type": "response.created", "response": {**base, "status": "in_progress", "output": []}})
    if reply.text:
        item_id = f"msg_{uuid.uuid4().hex[:24]}"
        index = len(output)
        opened = {
            "type": "message",
            "id": item_id,
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        event({"type": "response.output_item.added", "output_index": index, "item": opened})
        part = {"type": "output_text", "text": "", "annotations": []}
        event(
            {
                "type": "response.content_part.added",
                "item_id": item_id,
                "output_index": index,
                "content_index": 0,
                "part": part,
            }
        )
        for piece in text_pieces(reply.text, reply.seconds):
            event(
                {
                    "type": "response.output_text.delta",
                    "item_id": item_id,
                    "output_index": index,
                    "content_index": 0,
                    "delta": piece,
                }
            )
        done_part = {**part, "text": reply.text}
        event(
            {
                "type": "response.output_text.done",
                "item_id": item_id,
                "output_index": index,
                "content_index": 0,
                "text": reply.text,
            }
        )
        event(
            {
                "type": "response.content_part.done",
                "item_id": item_id,
                "output_index": index,
                "content_index": 0,
                "part": done_part,
            }
        )
        item = {**opened, "status": "completed", "content": [done_part]}
        event({"type": "response.output_item.done", "output_index": index, "item": item})
        output.append(item)
    if reply.kind is ReplyKind.TOOL and reply.tool is not None:
        item = _tool_item(reply.tool, prompt.tools)
        event({"type": "response.output_item.added", "output_index": len(output), "item": item})
        event({"type": "response.output_item.done", "output_index": len(output), "item": item})
        output.append(item)
    usage = {
        "input_tokens": 10,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 10,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 20,
    }
    event(
        {
            "type": "response.completed",
            "response": {**base, "status": "completed", "output": output, "usage": usage},
        }
    )
    return sse_answer(events, reply.seconds)


def _tool_item(tool: ToolCall, tools: tuple[str, ...]) -> dict[str, Any]:
    """A function call of the tool the client offered (names and arguments differ by version)."""
    call_id = f"call_{uuid.uuid4().hex[:24]}"
    command = tool.shell_command
    arguments: dict[str, Any]
    namespace: dict[str, str] = {}
    if tool.name:
        name, arguments = tool.name, json.loads(tool.input)
        if tool.server:  # an MCP tool is offered inside a namespace tool named after its server
            namespace = {"namespace": f"mcp__{tool.server}"}
    elif tool.question and "request_user_input" in tools:
        options = [{"label": option, "description": f"Use {option}."} for option in tool.options]
        question = {"id": "choice", "header": "Choice", "question": tool.question, "options": options}
        name, arguments = "request_user_input", {"questions": [question]}
    elif "shell_command" in tools:
        name, arguments = "shell_command", {"command": command}
    elif "exec_command" in tools:
        # Asking to leave the sandbox is what makes Codex ask the user, whatever its sandbox mode.
        arguments = {"cmd": command, "sandbox_permissions": "require_escalated", "justification": "Run it?"}
        name = "exec_command"
    else:
        name, arguments = "shell", {"command": ["bash", "-lc", command]}
    return {
        "type": "function_call",
        **namespace,
        "id": f"fc_{uuid.uuid4().hex[:24]}",
        "call_id": call_id,
        "name": name,
        "arguments": json.dumps(arguments),
        "status": "completed",
    }
