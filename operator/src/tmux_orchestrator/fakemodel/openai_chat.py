"""OpenAI Chat Completions (what Aider calls through litellm): POST /v1/chat/completions, SSE chunks.

Aider has no tools: it edits and runs commands from the answer's text. A tool reply is therefore written
as a fenced shell block, which Aider offers to run ("Run shell command? (Y)es/(N)o")."""

from __future__ import annotations

import time
import uuid
from typing import Any

from .script import Reply, ReplyKind
from .wire import Answer, Prompt, content_text, json_answer, sse_answer, sse_event, text_pieces

# How long the fake model tells a client to wait after an error: long enough to see the retry on screen.
RETRY_AFTER_SECONDS = 5
API = "openai-chat"
# Aider appends its edit format's rules to the newest user message (diff format); they are not the user's.
_AIDER_REMINDER = "\n\n# *SEARCH/REPLACE block* Rules:"


def read_prompt(body: dict[str, Any]) -> Prompt:
    messages = body.get("messages") or []
    user: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    last_role = messages[-1].get("role") if messages else None
    text = content_text(user.get("content")).split(_AIDER_REMINDER, 1)[0]
    return Prompt(API, str(body.get("model", "")), text, last_role == "tool", bool(body.get("stream")))


def reply_text(reply: Reply) -> str:
    if reply.kind is ReplyKind.TOOL and reply.tool is not None and reply.tool.question:
        return f"{reply.tool.question} ({' or '.join(reply.tool.options)})"
    if reply.kind is ReplyKind.TOOL and reply.tool is not None:
        lead = reply.text or "Run this:"
        return f"{lead}\n\n```bash\n{reply.tool.shell_command}\n```\n"
    return reply.text


def answer(reply: Reply, prompt: Prompt) -> Answer:
    if reply.kind is ReplyKind.ERROR:
        kind = "rate_limit_exceeded" if reply.status == 429 else "server_error"
        message = reply.text or f"fake model: {kind}"
        payload = {"error": {"message": message, "type": kind, "code": kind}}
        return json_answer(reply.status, payload, ("retry-after", str(RETRY_AFTER_SECONDS)))
    text = reply_text(reply)
    ident = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    usage = {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
    if not prompt.stream:
        return json_answer(
            200,
            {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": prompt.model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": usage,
            },
        )

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        payload = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": prompt.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return sse_event(payload)

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in text_pieces(text, reply.seconds)]
    events += [chunk({}, "stop"), sse_event("[DONE]")]
    return sse_answer(events, reply.seconds)
