"""The node agent's local API on a unix socket: names, operations and the wire format (pure, stdlib only).

One request per connection: the client writes one JSON object and a newline, the server answers with one
JSON object and a newline, then closes. Who is asking is never part of the request: the server reads it from
the socket's peer credentials (see `peer`), so an agent can act only as itself.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Final

# The pane environment (DESIGN §8, **contract**).
ENV_AGENT: Final = "TMUX_ORCHESTRATOR_AGENT"
ENV_TEAM: Final = "TMUX_ORCHESTRATOR_TEAM"
ENV_MEMBER: Final = "TMUX_ORCHESTRATOR_MEMBER"
ENV_ROLE: Final = "TMUX_ORCHESTRATOR_ROLE"
ENV_NAMESPACE: Final = "TMUX_ORCHESTRATOR_NAMESPACE"
ENV_SOCKET: Final = "TMUX_ORCHESTRATOR_SOCKET"

MAX_REQUEST_BYTES: Final = 1 << 20
MAX_TEXT_CHARS: Final = 65536  # AgentMessage spec.text


class Operation(StrEnum):
    WHOAMI = "whoami"
    SEND = "send"
    REPLY = "reply"
    STATUS = "status"
    REPORT = "report"
    CHECKIN = "checkin"
    INBOX = "inbox"
    HOOK = "hook"
    """A CLI hook event for the caller's own activity (`tmux-orchestrator hook EVENT`)."""


class ErrorCode(StrEnum):
    NOT_AN_AGENT = "NotAnAgent"
    """The caller's process is not inside any agent pane of this node."""
    BAD_REQUEST = "BadRequest"
    UNKNOWN_TARGET = "UnknownTarget"
    NOTHING_TO_REPLY_TO = "NothingToReplyTo"
    API_ERROR = "ApiError"
    """The API server refused or could not be reached."""


class LocalApiError(Exception):
    """An answer the caller should see as it is: what went wrong, in words, and a code."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def encode(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def decode(line: bytes) -> dict[str, Any]:
    """A request or response object; BAD_REQUEST when the bytes are not one JSON object."""
    try:
        value = json.loads(line.decode())
    except (UnicodeDecodeError, ValueError):
        raise LocalApiError(ErrorCode.BAD_REQUEST, "the request is not one line of JSON") from None
    if not isinstance(value, dict):
        raise LocalApiError(ErrorCode.BAD_REQUEST, "the request must be a JSON object")
    return value


def ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def failure(error: LocalApiError) -> dict[str, Any]:
    return {"ok": False, "code": error.code.value, "error": error.message}
