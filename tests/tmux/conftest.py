"""Fixtures: a private tmux server per test (never a mock), the control client, the fake agent."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tmux_sidecar.tmux.control import ControlClient

T = TypeVar("T")

FAKE_AGENT = [sys.executable, "-m", "tmux_sidecar.fake_agent"]
SESSION = "test"


def fake_agent(*args: str) -> list[str]:
    """argv of the fake agent with these flags."""
    return [*FAKE_AGENT, *args]


@pytest.fixture
def tmux_socket() -> Iterator[str]:
    """A unique `-L` socket name; its server is killed afterwards, whatever the test left running."""
    name = f"tmo-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, check=False)
    socket_path(name).unlink(missing_ok=True)  # tmux leaves the socket file behind


def socket_path(name: str) -> Path:
    """Where tmux puts the socket of `-L name`."""
    return Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}" / name


@pytest.fixture
async def tmux(tmux_socket: str) -> AsyncIterator[ControlClient]:
    """A control client of a fresh tmux server (no user config) with a session SESSION of 120x40."""
    client = await ControlClient.connect(tmux_socket, config_file="/dev/null")
    await client.new_session(SESSION, width=120, height=40)
    yield client
    await client.close()


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 15.0, interval: float = 0.05) -> T:
    """Poll `check` until it returns something truthy; fail with its last value after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(interval)


async def screen_text(client: ControlClient, pane_id: str) -> str:
    return "\n".join(await client.capture_pane(pane_id))


async def screen_contains(client: ControlClient, pane_id: str, text: str, timeout: float = 15.0) -> str:
    """Wait until the pane shows `text`; the screen."""

    async def check() -> str:
        screen = await screen_text(client, pane_id)
        return screen if text in screen else ""

    return await eventually(check, timeout)
