"""An ASGI app served by uvicorn inside an event loop that already runs (the operator's, the node agent's).

uvicorn's own `serve()` takes over SIGINT/SIGTERM and re-raises them when it stops; embedded, the host
process owns the signals (kopf, the node agent's SIGTERM handler), so this server never touches them. The
listening socket is bound before serving so that port 0 yields a real port the caller can advertise.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

_GRACEFUL_SHUTDOWN_SECONDS = 1  # open Server-Sent Event streams never end by themselves


class _QuietSignals(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 picks a free one."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def socket_url(sock: socket.socket, host: str | None = None) -> str:
    """http://HOST:PORT of a bound socket (HOST: `host`, else the address it is bound to)."""
    address, port = sock.getsockname()[:2]
    host = host or address
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class EmbeddedServer:
    """Serves `app` on a socket from `bind` in the background: `start()`, then `stop()`."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        self._socket = sock
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS,
        )
        self._server = _QuietSignals(config)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]), name="http")
        return self._task

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._socket.close()
