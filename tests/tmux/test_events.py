"""Process exits as events: exit status, signal, closed windows, replay, simultaneous exits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tmux_sidecar.tmux.control import ControlClient
from tmux_sidecar.tmux.events import ExitWatcher, PaneExited, ProcessEvent, ServerExited, WindowClosed

from .conftest import SESSION, eventually, fake_agent, screen_contains


async def next_of(watcher: ExitWatcher, kind: type[ProcessEvent], timeout: float = 15.0) -> ProcessEvent:
    """The next event of `kind` (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        event = await watcher.next_event(max(0.01, deadline - time.monotonic()))
        if isinstance(event, kind):
            return event


async def test_exit_status_is_reported(tmux: ControlClient) -> None:
    async with ExitWatcher(tmux) as watcher:
        ref = await tmux.new_window(SESSION, "agent", fake_agent("--step", "print about to fail; exit 3"))
        event = await next_of(watcher, PaneExited)
    assert isinstance(event, PaneExited)
    assert (event.pane.pane_id, event.pane.pid) == (ref.pane_id, ref.pid)
    assert (event.pane.exit_status, event.pane.exit_signal, event.pane.dead) == (3, None, True)


async def test_a_signal_is_reported(tmux: ControlClient) -> None:
    async with ExitWatcher(tmux) as watcher:
        await tmux.new_window(SESSION, "agent", fake_agent("--step", "signal TERM"))
        event = await next_of(watcher, PaneExited)
    assert isinstance(event, PaneExited)
    assert (event.pane.exit_status, event.pane.exit_signal) == (None, signal.SIGTERM)


async def test_a_killed_process_is_noticed_within_a_second(tmux: ControlClient) -> None:
    ref = await tmux.new_window(SESSION, "agent", fake_agent())
    await screen_contains(tmux, ref.pane_id, "? for shortcuts")
    async with ExitWatcher(tmux) as watcher:
        assert ref.pid is not None
        killed_at = time.monotonic()
        os.kill(ref.pid, signal.SIGKILL)
        event = await next_of(watcher, PaneExited, timeout=5)
        latency = time.monotonic() - killed_at
    assert isinstance(event, PaneExited) and event.pane.exit_signal == signal.SIGKILL
    assert latency < 1.0


async def test_exits_at_the_same_moment_are_all_reported(tmux: ControlClient) -> None:
    # One shared deadline: the processes end together and tmux collects them in one go.
    deadline = time.time() + 1.5
    code = (
        f"import sys, time; time.sleep(max(0, {deadline} - time.time())); raise SystemExit(int(sys.argv[1]))"
    )
    async with ExitWatcher(tmux) as watcher:
        refs = [
            await tmux.new_window(SESSION, f"w{i}", [sys.executable, "-c", code, str(i)]) for i in range(12)
        ]
        statuses: dict[str, int | None] = {}
        while len(statuses) < len(refs):
            event = await next_of(watcher, PaneExited)
            assert isinstance(event, PaneExited)
            assert event.pane.pane_id not in statuses  # reported once
            statuses[event.pane.pane_id] = event.pane.exit_status
    assert statuses == {ref.pane_id: i for i, ref in enumerate(refs)}


async def test_exits_while_no_watcher_ran_are_reported_on_start(tmux: ControlClient) -> None:
    # Like a node agent restart: the settings stay in tmux, an agent exits, then a new watcher starts.
    async with ExitWatcher(tmux):
        pass
    ref = await tmux.new_window(SESSION, "agent", fake_agent("--step", "exit 7"))

    async def collected() -> bool:
        tmux.nudge_reaper()
        return f"{ref.pane_id} 7" in await tmux.list_panes("#{pane_id} #{pane_dead_status}")

    await eventually(collected)
    async with ExitWatcher(tmux) as watcher:
        event = await next_of(watcher, PaneExited)
    assert isinstance(event, PaneExited)
    assert (event.pane.pane_id, event.pane.exit_status) == (ref.pane_id, 7)


async def test_a_respawned_pane_reports_its_next_exit_again(tmux: ControlClient) -> None:
    async with ExitWatcher(tmux) as watcher:
        ref = await tmux.new_window(SESSION, "agent", fake_agent("--step", "exit 1"))
        first = await next_of(watcher, PaneExited)
        again = await tmux.respawn_pane(ref.pane_id, fake_agent("--step", "exit 2"))
        second = await next_of(watcher, PaneExited)
    assert isinstance(first, PaneExited) and isinstance(second, PaneExited)
    assert (first.pane.exit_status, second.pane.exit_status) == (1, 2)
    assert (second.pane.pane_id, second.pane.pid) == (ref.pane_id, again.pid)


async def test_a_closed_window_is_reported(tmux: ControlClient) -> None:
    ref = await tmux.new_window(SESSION, "agent", ["sleep", "60"])
    async with ExitWatcher(tmux) as watcher:
        subprocess.run(["tmux", *tmux.socket_args, "kill-window", "-t", ref.window_id], check=True)
        event = await next_of(watcher, WindowClosed)
    assert event == WindowClosed(ref.window_id, event.observed_at)


async def test_the_server_going_away_ends_the_stream(tmux: ControlClient) -> None:
    async with ExitWatcher(tmux) as watcher:
        subprocess.run(["tmux", *tmux.socket_args, "kill-server"], check=True)
        event = await next_of(watcher, ServerExited)
        assert isinstance(event, ServerExited)
        assert [e async for e in watcher] == []
