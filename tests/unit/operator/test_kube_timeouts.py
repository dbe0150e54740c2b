"""Every API call has a deadline: against a server that accepts connections and never answers (what a
SIGSTOPped API server or a network partition looks like), a call fails with a clear error instead of
waiting forever. A real listening socket and the real client; no API server is needed to hang."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from kubernetes_asyncio import client

from tmux_orchestrator.kube import Resource
from tmux_orchestrator.kube.client import ApiTimeoutError, ApiTimeouts, Kube, TimedApiClient


@dataclass
class SilentServer:
    url: str
    connections: list[asyncio.StreamWriter] = field(default_factory=list)


@pytest.fixture
async def silent_server() -> AsyncIterator[SilentServer]:
    """A TCP server that accepts and then says nothing."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield SilentServer(f"http://127.0.0.1:{port}", held)
    server.close()
    for writer in held:
        writer.close()


async def kube_for(host: str, timeouts: ApiTimeouts) -> Kube:
    configuration = client.Configuration()
    configuration.host = host
    return Kube(TimedApiClient(configuration, timeouts), timeouts=timeouts)


@pytest.mark.timeout(60)
async def test_a_call_to_a_silent_server_fails_with_a_clear_error_after_its_deadline(
    silent_server: SilentServer,
) -> None:
    kube = await kube_for(silent_server.url, ApiTimeouts(connect=1.0, request=1.5))
    started = time.monotonic()
    try:
        with pytest.raises(
            ApiTimeoutError,
            match=r"PATCH /apis/orchestrator.tmux.dev/v1alpha1/namespaces/team/agents/a1/status: no answer"
            r" .* 1.5s",
        ):
            await kube.patch_status(Resource.AGENTS, "a1", {"phase": "Running"}, "team")
    finally:
        await kube.close()
    assert 1.4 < time.monotonic() - started < 10


@pytest.mark.timeout(60)
async def test_a_silent_watch_is_given_up_and_retried(silent_server: SilentServer) -> None:
    """The watch's list hangs: it fails after the request deadline and is tried again (not stuck)."""
    kube = await kube_for(silent_server.url, ApiTimeouts(connect=1.0, request=1.0))
    try:
        watching = kube.watch(Resource.AGENTS, "team").__anext__()
        with pytest.raises(TimeoutError):
            # Two failed lists plus a backoff fit in 4 s; the watch keeps trying rather than raising.
            await asyncio.wait_for(watching, 4.0)
    finally:
        await kube.close()
    assert len(silent_server.connections) >= 2
