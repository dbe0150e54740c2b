"""One observation pass: every pane of the server in one `list-panes -a`, then the screens that are needed
in one pipelined batch of `capture-pane` commands — two round trips whatever the number of panes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from tmux_sidecar.classification import PaneSnapshot, ProcessFacts

if TYPE_CHECKING:
    from .control import ControlClient

# Window user options through which a restarted node agent recognises the windows it created.
AGENT_UID_OPTION = "@orchestrator-agent-uid"
REVISION_OPTION = "@orchestrator-revision"
RESTARTED_AT_OPTION = "@orchestrator-restarted-at"

# Fields end with a unit separator and records with a record separator, so a value with a newline in it
# (a window renamed by hand, say) cannot shift the fields of the next pane.
_FIELD_END = "\x1f"
_RECORD_END = "\x1e"
_FIELDS = (
    "pane_id",
    "window_id",
    "session_name",
    "window_name",
    "pane_index",
    "pane_pid",
    "pane_dead",
    "pane_dead_status",
    "pane_dead_signal",
    "pane_dead_time",
    "pane_current_command",  # the most expensive field (tmux reads /proc), and a process fact we need
    "window_activity",
    AGENT_UID_OPTION,
    REVISION_OPTION,
    RESTARTED_AT_OPTION,
)
PANE_FORMAT = "".join("#{" + field + "}" + _FIELD_END for field in _FIELDS) + _RECORD_END


@dataclass(frozen=True)
class PaneInfo:
    """What tmux knows about one pane (and its window)."""

    pane_id: str
    window_id: str
    session_name: str
    window_name: str
    pane_index: int
    pid: int | None
    dead: bool
    exit_status: int | None  # set once a dead pane's program has been collected, unless it was signalled
    exit_signal: int | None
    dead_time: int | None  # epoch seconds
    current_command: str
    window_activity: int | None  # epoch seconds of the last output in the window
    agent_uid: str | None
    revision: str | None
    restarted_at: str | None

    @property
    def exit_known(self) -> bool:
        """Dead and collected: the exit status or signal is known."""
        return self.dead and (self.exit_status is not None or self.exit_signal is not None)

    def process_facts(self) -> ProcessFacts:
        return ProcessFacts(
            dead=self.dead,
            exit_status=self.exit_status,
            exit_signal=self.exit_signal,
            current_command=self.current_command or None,
            pid=self.pid,
        )


def parse_panes(lines: Sequence[str]) -> list[PaneInfo]:
    """PaneInfo records from the output of `list-panes -F PANE_FORMAT` (malformed records are skipped)."""
    panes = []
    for record in "\n".join(lines).split(_RECORD_END):
        values = record.lstrip("\n").split(_FIELD_END)
        if len(values) == len(_FIELDS) + 1 and values[0].startswith("%"):
            panes.append(_pane_info(dict(zip(_FIELDS, values, strict=False))))
    return panes


def _pane_info(fields: Mapping[str, str]) -> PaneInfo:
    return PaneInfo(
        pane_id=fields["pane_id"],
        window_id=fields["window_id"],
        session_name=fields["session_name"],
        window_name=fields["window_name"],
        pane_index=_int(fields["pane_index"]) or 0,
        pid=_int(fields["pane_pid"]),
        dead=fields["pane_dead"] == "1",
        exit_status=_int(fields["pane_dead_status"]),
        exit_signal=_int(fields["pane_dead_signal"]),
        dead_time=_int(fields["pane_dead_time"]),
        current_command=fields["pane_current_command"],
        window_activity=_int(fields["window_activity"]),
        agent_uid=fields[AGENT_UID_OPTION] or None,
        revision=fields[REVISION_OPTION] or None,
        restarted_at=fields[RESTARTED_AT_OPTION] or None,
    )


def _int(text: str) -> int | None:
    return int(text) if text.lstrip("-").isdigit() else None


@dataclass(frozen=True)
class ServerSnapshot:
    """Every pane of one tmux server at one moment, with the screens of the panes that were captured."""

    taken_at: float  # epoch seconds
    panes: tuple[PaneInfo, ...]
    screens: Mapping[str, tuple[str, ...]]  # pane id → lines; panes not captured are absent

    @cached_property
    def by_id(self) -> Mapping[str, PaneInfo]:
        return {pane.pane_id: pane for pane in self.panes}

    def pane_snapshot(self, pane_id: str) -> PaneSnapshot | None:
        """What a detector profile reads for one pane (None if it was not captured)."""
        screen = self.screens.get(pane_id)
        pane = self.by_id.get(pane_id)
        if screen is None or pane is None:
            return None
        return PaneSnapshot(lines=screen, process=pane.process_facts())


def capture_all(pane: PaneInfo) -> bool:
    return True


async def take_snapshot(
    client: ControlClient,
    *,
    capture: Callable[[PaneInfo], bool] = capture_all,
    scrollback: int = 0,
    session: str | None = None,
    previous: ServerSnapshot | None = None,
) -> ServerSnapshot:
    """One observation pass: list every pane (of `session` only, if given) and capture the chosen ones.

    With `previous` (the last pass), a chosen pane whose screen cannot have changed since then keeps the
    screen captured then instead of being captured again (see `unchanged_since`): in a steady state only
    the panes that printed something cost a capture.
    """
    taken_at = time.time()
    panes = parse_panes(await client.list_panes(PANE_FORMAT, session=session))
    chosen = [pane for pane in panes if capture(pane)]
    kept = {
        pane.pane_id: previous.screens[pane.pane_id]
        for pane in chosen
        if previous is not None and unchanged_since(previous, pane)
    }
    wanted = [pane.pane_id for pane in chosen if pane.pane_id not in kept]
    results = await client.capture_panes(wanted, scrollback=scrollback) if wanted else []
    # A pane closed between the two commands fails its capture; it is simply left out.
    screens = kept | {pane_id: r.lines for pane_id, r in zip(wanted, results, strict=True) if not r.failed}
    return ServerSnapshot(taken_at, tuple(panes), screens)


def unchanged_since(previous: ServerSnapshot, pane: PaneInfo) -> bool:
    """Whether `pane` cannot show anything new since `previous` was taken.

    tmux stamps a window with the time of its latest output in whole seconds, so output in the same second
    as the previous pass (or later) counts as new; so does a new process or a death.
    """
    before = previous.by_id.get(pane.pane_id)
    return (
        before is not None
        and pane.pane_id in previous.screens
        and (before.pid, before.dead, before.exit_status, before.exit_signal)
        == (pane.pid, pane.dead, pane.exit_status, pane.exit_signal)
        and pane.window_activity is not None
        and pane.window_activity < int(previous.taken_at)
    )
