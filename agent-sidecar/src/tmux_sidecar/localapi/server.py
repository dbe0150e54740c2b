"""The node agent's local API server: a unix socket that agents in this node's panes talk to (edge).

Each connection carries one request. The caller is identified by the kernel (SO_PEERCRED pid, then its
parent chain up to an agent pane's pid as tmux last reported it); a process outside every agent pane is
refused. The socket file is private to the node agent's user, the user the agent panes run as.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from .handlers import TeamApi
from .identity import Caller, find_caller
from .peer import ancestry, peer_pid
from .protocol import MAX_REQUEST_BYTES, ErrorCode, LocalApiError, Operation, decode, encode, failure, ok

log = logging.getLogger(__name__)

_READ_TIMEOUT = 10.0


class HookSink(Protocol):
    """Takes a hook event of the calling agent (the node agent records it for the next status pass) and
    answers what the hook should hand back to the CLI (e.g. additionalContext), usually nothing."""

    async def __call__(self, caller: Caller, event: str, payload: Mapping[str, Any]) -> Mapping[str, Any]: ...


def default_socket_path(node: str) -> str:
    """Under the node agent's runtime directory ($XDG_RUNTIME_DIR, else a per-user directory in /tmp)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/tmux-orchestrator-{os.getuid()}"
    return str(Path(runtime) / "tmux-orchestrator" / f"{node}.sock")


class SocketInUseError(RuntimeError):
    """Another live process serves the local API socket path."""


def claim_socket_path(path: Path) -> None:
    """Remove a socket file left by a node agent that is gone; refuse one that a live process still serves
    (another node agent with the same node name on this host would otherwise take its agents' API away)."""
    try:
        if not stat.S_ISSOCK(path.lstat().st_mode):
            return
    except FileNotFoundError:
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)  # nobody listens: left by a node agent that did not exit cleanly
        return
    finally:
        probe.close()
    raise SocketInUseError(
        f"the local API socket {path} is served by another live process (a node agent with the same node"
        " name on this host?); give each node agent its own --api-socket"
    )


class LocalApiServer:
    def __init__(
        self,
        path: str,
        api: TeamApi,
        callers: Callable[[], Mapping[int, Caller]],
        node: str,
        hooks: HookSink | None = None,
    ) -> None:
        self.path = Path(path)
        self.hooks = hooks
        self.api = api
        self.callers = callers
        self.node = node
        self.ready = asyncio.Event()

    async def serve(self) -> None:
        """Listen until cancelled; the socket file is removed on the way out."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        claim_socket_path(self.path)
        server = await asyncio.start_unix_server(
            self._serve_client, path=str(self.path), limit=MAX_REQUEST_BYTES
        )
        os.chmod(self.path, 0o600)
        log.info("local API listening on %s", self.path)
        self.ready.set()
        try:
            async with server:
                await server.serve_forever()
        finally:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            response = await self._answer(reader, writer.get_extra_info("socket"))
            writer.write(encode(response))
            await writer.drain()
        except (
            ConnectionError,
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ) as error:
            log.info("local API client went away: %s", error)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, sock: Any) -> dict[str, Any]:
        try:
            line = await asyncio.wait_for(reader.readline(), _READ_TIMEOUT)
            request = decode(line)
            pid = peer_pid(sock)
            caller = find_caller(ancestry(pid), self.callers())
            if caller is None:
                raise LocalApiError(
                    ErrorCode.NOT_AN_AGENT,
                    f"refused: process {pid} is not inside an agent pane of node {self.node}; "
                    "only agents run by this node agent can use its API",
                )
            try:
                operation = Operation(str(request.get("op")))
            except ValueError:
                raise LocalApiError(
                    ErrorCode.BAD_REQUEST, f"unknown operation {request.get('op')!r}"
                ) from None
            args = request.get("args") or {}
            if not isinstance(args, dict):
                raise LocalApiError(ErrorCode.BAD_REQUEST, "args must be a JSON object")
            if operation is Operation.HOOK:
                return ok(await self._hook(caller, args))
            return ok(await self.api.handle(caller, operation, args))
        except LocalApiError as error:
            return failure(error)

    async def _hook(self, caller: Caller, args: Mapping[str, Any]) -> dict[str, Any]:
        event, payload = args.get("event"), args.get("payload")
        if not isinstance(event, str) or not event:
            raise LocalApiError(ErrorCode.BAD_REQUEST, "event must be a hook event name, e.g. Stop")
        if not isinstance(payload, dict):
            raise LocalApiError(ErrorCode.BAD_REQUEST, "payload must be the hook's JSON object")
        answer = await self.hooks(caller, event, payload) if self.hooks is not None else {}
        return {**answer, "agent": caller.agent.short, "event": event}
