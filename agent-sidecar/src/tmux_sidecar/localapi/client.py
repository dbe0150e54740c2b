"""A client of the node agent's local API (standard library only: `team` and `mcp` start fast)."""

from __future__ import annotations

import os
import socket
from typing import Any

from .protocol import ENV_SOCKET, ErrorCode, LocalApiError, Operation, decode, encode

_TIMEOUT = 30.0


class NoLocalApiError(Exception):
    """There is no local API to talk to (not in an agent pane, or the node agent is not running)."""


def socket_path(environ: dict[str, str] | None = None) -> str:
    path = (os.environ if environ is None else environ).get(ENV_SOCKET)
    if not path:
        raise NoLocalApiError(
            f"{ENV_SOCKET} is not set: run this inside an agent's tmux pane (the node agent sets it there)"
        )
    return path


def call(
    operation: Operation,
    args: dict[str, Any] | None = None,
    *,
    path: str | None = None,
    timeout: float = _TIMEOUT,
) -> Any:
    """One request; the result, or LocalApiError with the server's code and message."""
    target = path or socket_path()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(target)
        except (FileNotFoundError, ConnectionRefusedError) as error:
            raise NoLocalApiError(f"no node agent listens on {target}: {error.strerror}") from None
        sock.sendall(encode({"op": operation.value, "args": args or {}}))
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise NoLocalApiError(f"the node agent at {target} closed the connection without an answer")
    response = decode(data)
    if not response.get("ok"):
        try:
            code = ErrorCode(str(response.get("code")))
        except ValueError:
            code = ErrorCode.API_ERROR
        raise LocalApiError(code, str(response.get("error") or "unknown error"))
    return response.get("result")
