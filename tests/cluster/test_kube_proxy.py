"""The API client and the environment's proxy: read once when the client is made (not looked up again, with
~/.netrc, before every request), and still honoured. A real API server, reached through a real CONNECT
proxy that counts the tunnels it opened."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from tmux_orchestrator.devcluster.cluster import LocalCluster
from tmux_orchestrator.kube import Resource, connect
from tmux_orchestrator.kube.client import environment_proxy

pytestmark = pytest.mark.cluster


class ConnectProxy:
    """An HTTP proxy that only tunnels (CONNECT host:port), as a corporate proxy does for HTTPS."""

    def __init__(self) -> None:
        self.tunnels: list[str] = []
        self.url = ""

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = request.split(b"\r\n", 1)[0].decode().split(" ", 2)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            writer.close()
            return
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ConnectProxy]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        async with server:
            yield self


@pytest.mark.timeout(60)
async def test_the_environments_proxy_is_used_and_no_proxy_is_honoured(
    control_plane: LocalCluster, crds: list[str], namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with ConnectProxy().running() as proxy:
        for name in ("https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        async with await connect(str(control_plane.kubeconfig)) as kube:
            for _ in range(3):
                await kube.list(Resource.AGENTS, namespace)
        port = control_plane.server.rsplit(":", 1)[1]
        assert proxy.tunnels and set(proxy.tunnels) == {f"127.0.0.1:{port}"}

        tunnels = len(proxy.tunnels)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with await connect(str(control_plane.kubeconfig)) as kube:
            await kube.list(Resource.AGENTS, namespace)
        assert len(proxy.tunnels) == tunnels  # straight to the API server


@pytest.mark.parametrize(
    ("environment", "server", "proxy"),
    [
        ({}, "https://10.0.0.1:6443", None),
        ({"HTTPS_PROXY": "http://proxy:3128"}, "https://10.0.0.1:6443", "http://proxy:3128"),
        ({"https_proxy": "http://proxy:3128", "no_proxy": "10.0.0.1"}, "https://10.0.0.1:6443", None),
        (
            {"https_proxy": "http://proxy:3128", "no_proxy": ".cluster.local"},
            "https://api.cluster.local",
            None,
        ),
        ({"http_proxy": "http://proxy:3128"}, "https://10.0.0.1:6443", None),  # an https server's is https_
        ({"HTTPS_PROXY": "http://proxy:3128"}, "", None),
    ],
)
def test_environment_proxy(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], server: str, proxy: str | None
) -> None:
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert environment_proxy(server) == proxy
