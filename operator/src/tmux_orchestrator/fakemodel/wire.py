"""What one API request asks and how an answer is written back, independent of the API (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Prompt:
    """The part of a request the script and the recording care about."""

    api: str  # "anthropic-messages", "openai-responses", "openai-chat"
    model: str
    text: str  # the newest user message, as text ("" if it is only a tool result)
    after_tool: bool  # the newest user turn carries a tool result
    stream: bool
    tools: tuple[str, ...] = ()  # names of the tools the client offers
    side: bool = False  # a request the CLI makes on its own (a session title ...), not the conversation


@dataclass(frozen=True)
class Chunk:
    """Bytes to send after waiting `delay` seconds."""

    data: bytes
    delay: float = 0.0


@dataclass(frozen=True)
class Answer:
    """A whole HTTP response: a JSON body, or a stream of chunks (server-sent events)."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    chunks: tuple[Chunk, ...] = field(default_factory=tuple)

    @property
    def streaming(self) -> bool:
        return bool(self.chunks)


def json_answer(status: int, payload: Any, *headers: tuple[str, str]) -> Answer:
    return Answer(status, (("Content-Type", "application/json"), *headers), json.dumps(payload).encode())


def sse_event(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    body = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {body}\n\n".encode()


def sse_answer(events: list[bytes], seconds: float) -> Answer:
    """Events spread evenly over `seconds` (the first one at once)."""
    delay = seconds / max(1, len(events) - 1) if seconds else 0.0
    chunks = tuple(Chunk(data, delay if index else 0.0) for index, data in enumerate(events))
    return Answer(200, (("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")), chunks=chunks)


def text_pieces(text: str, seconds: float) -> list[str]:
    """How a text is cut for streaming: word by word when slow, in a few pieces when quick."""
    words = text.split(" ")
    pieces = [word + " " for word in words[:-1]] + [words[-1]]
    if seconds <= 0 and len(pieces) > 4:
        size = (len(pieces) + 3) // 4
        pieces = ["".join(pieces[i : i + size]) for i in range(0, len(pieces), size)]
    return [piece for piece in pieces if piece]


def content_text(content: Any) -> str:
    """What the user wrote in a message: a string, or the last text block of a list of blocks (CLIs put
    their own context, such as reminders, in blocks before the user's text)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        for block in reversed(content):
            if isinstance(block, dict) and block.get("type") in ("text", "input_text") and "text" in block:
                return str(block["text"])
    return ""
