"""Process exits as events, within milliseconds of the exit.

`remain-on-exit on` keeps a pane whose program ended: dead, with its exit status (or signal) and its last
screen. tmux runs the `pane-died` hook once it has collected that status. A hook cannot send a control-mode
notification itself (tmux suppresses notifications from hook commands), but a command it starts in the
background with `run-shell -b -C` can: the hook renames our control window, which reaches every control
client as `%window-renamed`. That notification is only a doorbell; the watcher then reads the dead panes
from tmux (`list-panes -a -f #{pane_dead}`) and reports each ended process once. Exits that happen together
therefore cannot hide each other, and exits that happened while no watcher ran are reported on start.

Backups: `%window-close`/`%unlinked-window-close` (a window closed, e.g. killed by someone) and `%exit`
(the control connection ended, usually because the server did).

tmux sometimes misses the SIGCHLD of an exiting pane (see ControlClient.nudge_reaper); until it gets another
one, the pane is dead without a status and pane-died does not fire. The watcher therefore watches the pid of
every live pane through a pidfd and sends tmux a SIGCHLD as soon as (and shortly after) a program ends, and
also every `reaper_interval` seconds for panes it could not watch (started by someone else, or no pidfd).
A pidfd that fires also makes the watcher read the dead panes right away, ahead of the doorbell.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from tmux_sidecar.pane import PANE_FORMAT, PaneInfo, parse_panes

from .commands import PaneRef, command_line, window_target
from .control import ControlClient
from .transport import ControlClosedError, Subscription

log = logging.getLogger(__name__)

# Our own index in the pane-died hook array, so that hooks of the user's own stay in place.
HOOK = "pane-died[4187]"
CONTROL_WINDOW_NAME = "control"
# Panes started by this client are watched through pidfds; this covers the others. Every nudge wakes tmux,
# which then walks all its windows: with 500 windows, 10 nudges a second cost it about 20 ms of CPU a second.
REAPER_INTERVAL = 0.25
# After a watched program ends: nudge and look at once, and again in case tmux was busy losing that very
# signal or had not collected the exit yet.
NUDGE_DELAYS = (0.0, 0.01, 0.05)
_RENAMED = frozenset({"window-renamed", "unlinked-window-renamed"})
_CLOSED = frozenset({"window-close", "unlinked-window-close"})


@dataclass(frozen=True)
class PaneExited:
    """A pane's program ended; `pane` holds its exit status or signal."""

    pane: PaneInfo
    observed_at: float  # epoch seconds


@dataclass(frozen=True)
class WindowClosed:
    window_id: str
    observed_at: float


@dataclass(frozen=True)
class ServerExited:
    """The control connection ended; no more events follow."""

    reason: str
    observed_at: float


ProcessEvent = PaneExited | WindowClosed | ServerExited


def install_commands(control_window_id: str) -> list[tuple[str, ...]]:
    """The tmux settings exit detection relies on (global: the orchestrator owns its tmux server)."""
    doorbell = command_line("rename-window", "-t", window_target(control_window_id), CONTROL_WINDOW_NAME)
    return [
        ("set-option", "-g", "-w", "remain-on-exit", "on"),
        ("set-hook", "-g", HOOK, command_line("run-shell", "-b", "-C", doorbell)),
    ]


class PidWatch:
    """Calls `on_exit` when a watched process ends, through pidfds (Linux 5.3+; otherwise a no-op)."""

    def __init__(self, on_exit: Callable[[], object]) -> None:
        self._on_exit = on_exit
        self._loop = asyncio.get_running_loop()
        self._fds: dict[int, int] = {}  # pid → pidfd
        self._timers: set[asyncio.TimerHandle] = set()

    def watch(self, pid: int | None) -> None:
        if pid is None or pid in self._fds:
            return
        try:
            fd = os.pidfd_open(pid)
        except (OSError, AttributeError):  # gone already, another PID namespace, or not Linux
            return
        self._fds[pid] = fd
        self._loop.add_reader(fd, self._ended, pid)

    def _ended(self, pid: int) -> None:
        self._forget(pid)
        for delay in NUDGE_DELAYS:
            timer = self._loop.call_later(delay, self._on_exit)
            self._timers.add(timer)
            self._loop.call_later(delay, self._timers.discard, timer)

    def _forget(self, pid: int) -> None:
        fd = self._fds.pop(pid)
        self._loop.remove_reader(fd)
        os.close(fd)

    def close(self) -> None:
        for pid in list(self._fds):
            self._forget(pid)
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()


class ExitWatcher:
    """An async stream of ProcessEvents for one tmux server. Use `async with ExitWatcher(client) as w`."""

    def __init__(
        self,
        client: ControlClient,
        *,
        reaper_interval: float | None = REAPER_INTERVAL,
        watch_pids: bool = True,
    ) -> None:
        self._client = client
        self._reaper_interval = reaper_interval
        self._watch_pids = watch_pids
        self._pids: PidWatch | None = None
        self._subscription: Subscription | None = None
        self._events: asyncio.Queue[ProcessEvent] = asyncio.Queue()
        self._reported: dict[str, int | None] = {}  # pane id → pid of the exit already reported
        self._scan_wanted = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._ended = False

    async def start(self) -> None:
        """Install the hook and start watching; exits that already happened are reported first."""
        subscription = self._subscription = self._client.subscribe()  # before anything can ring
        for result in await self._client.run_many(install_commands(self._client.info.control_window_id)):
            result.check()
        if self._watch_pids:
            self._pids = PidWatch(self._pid_ended)
            self._client.add_start_listener(self._watch_started)
            for pid in await self._client.list_panes("#{pane_pid}", filter="#{?pane_dead,0,1}"):
                self._pids.watch(int(pid) if pid.isdigit() else None)
        self._scan_wanted.set()
        self._tasks = [
            asyncio.create_task(self._listen(subscription), name="tmux-exit-listen"),
            asyncio.create_task(self._scan_loop(), name="tmux-exit-scan"),
        ]
        if self._reaper_interval:
            self._tasks.append(
                asyncio.create_task(self._nudge_loop(self._reaper_interval), name="tmux-nudge")
            )

    def _pid_ended(self) -> None:
        """A watched program ended: have tmux collect it and look for it at once, without waiting for the
        doorbell (a forked shell and tmux client, tens of milliseconds on a busy machine)."""
        self._client.nudge_reaper()
        self._scan_wanted.set()

    def _watch_started(self, ref: PaneRef) -> None:
        if self._pids is not None:
            self._pids.watch(ref.pid)

    async def stop(self) -> None:
        """Stop watching (the tmux settings stay, so a later watcher reports what happened meanwhile)."""
        self._client.remove_start_listener(self._watch_started)
        if self._pids is not None:
            self._pids.close()
            self._pids = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    async def __aenter__(self) -> ExitWatcher:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    def __aiter__(self) -> ExitWatcher:
        return self

    async def __anext__(self) -> ProcessEvent:
        if self._ended and self._events.empty():
            raise StopAsyncIteration
        return await self._events.get()

    async def next_event(self, timeout: float | None = None) -> ProcessEvent:
        """The next event; TimeoutError if none arrives within `timeout` seconds."""
        return await asyncio.wait_for(self._events.get(), timeout)

    async def _listen(self, subscription: Subscription) -> None:
        control_window = self._client.info.control_window_id
        async for note in subscription:
            if note.name in _RENAMED and note.args[:1] == (control_window,):
                self._scan_wanted.set()
            elif note.name in _CLOSED and note.args:
                self._events.put_nowait(WindowClosed(note.args[0], time.time()))
        self._ended = True
        self._events.put_nowait(ServerExited(self._client.exit_reason or "connection closed", time.time()))

    async def _scan_loop(self) -> None:
        while True:
            await self._scan_wanted.wait()
            self._scan_wanted.clear()
            try:
                await self._scan()
            except ControlClosedError:
                return

    async def _scan(self) -> None:
        lines = await self._client.list_panes(PANE_FORMAT, filter="#{pane_dead}")
        observed_at = time.time()
        dead = {pane.pane_id: pane for pane in parse_panes(lines)}
        for pane_id in list(self._reported):
            if pane_id not in dead:
                del self._reported[pane_id]  # respawned or closed: its next exit is new
        for pane in dead.values():
            if not pane.exit_known:
                self._client.nudge_reaper()  # tmux has not collected it yet; the hook rings when it has
            elif self._reported.get(pane.pane_id, -1) != pane.pid:
                self._reported[pane.pane_id] = pane.pid
                self._events.put_nowait(PaneExited(pane, observed_at))

    async def _nudge_loop(self, interval: float) -> None:
        warned = False
        while True:
            await asyncio.sleep(interval)
            if not self._client.nudge_reaper() and not warned:
                log.warning("cannot signal the tmux server; exits may be noticed late")
                warned = True
