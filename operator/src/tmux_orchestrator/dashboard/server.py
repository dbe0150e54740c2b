"""Runs the dashboard (its watches and its HTTP server) inside an event loop: the operator's, or the one of
`tmux-orchestrator dashboard`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from tmux_orchestrator.asgi import EmbeddedServer, bind, socket_url
from tmux_orchestrator.kube.client import Kube

from .app import Dashboard, DashboardOptions
from .fleet import Fleet


@contextlib.asynccontextmanager
async def start_dashboard(
    kube: Kube,
    host: str,
    port: int,
    *,
    namespaces: tuple[str, ...] = (),
    options: DashboardOptions | None = None,
) -> AsyncIterator[str]:
    """Serve the dashboard while the block runs; yields its URL (port 0 picks a free port)."""
    sock = bind(host, port)
    fleet = Fleet(kube, namespaces)
    dashboard = Dashboard(kube, fleet, options)
    server = EmbeddedServer(dashboard.app(), sock)
    watches = asyncio.create_task(fleet.run(), name="dashboard-watches")
    server.start()
    try:
        yield socket_url(sock)
    finally:
        await server.stop()
        watches.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watches
        await dashboard.close()


async def run_dashboard(
    kube: Kube,
    host: str,
    port: int,
    *,
    namespaces: tuple[str, ...] = (),
    options: DashboardOptions | None = None,
) -> None:
    """Serve until cancelled, printing the URL once it listens."""
    async with start_dashboard(kube, host, port, namespaces=namespaces, options=options) as url:
        print(f"dashboard: {url}/", flush=True)
        await asyncio.Event().wait()
