"""Every request the fake model received, kept in memory and appended to a JSON-lines file if asked."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .wire import Prompt


@dataclass(frozen=True)
class Received:
    """One request: which API, what the newest user message said, what the script answered."""

    api: str
    path: str
    model: str
    text: str
    after_tool: bool
    stream: bool
    side: bool  # the CLI's own request (a title ...), not the conversation
    reply: str  # "text", "tool", "error 429" ...
    time: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Recording:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.items: list[Received] = []

    def add(self, prompt: Prompt, path: str, reply: str) -> Received:
        item = Received(
            prompt.api,
            path,
            prompt.model,
            prompt.text,
            prompt.after_tool,
            prompt.stream,
            prompt.side,
            reply,
            time.time(),
        )
        self.items.append(item)
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
        return item
