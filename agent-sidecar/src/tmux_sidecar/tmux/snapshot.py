"""One observation pass: every pane of the server in one `list-panes -a`, then the screens that are needed
in one pipelined batch of `capture-pane` commands — two round trips whatever the number of panes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from tmux_sidecar.classification import PaneSnapshot
from tmux_sidecar.pane import (
    AGENT_UID_OPTION,
    PANE_FORMAT,
    RESTARTED_AT_OPTION,
    REVISION_OPTION,
    UNCHANGED_COMMAND,
    PaneInfo,
    pane_format,
    parse_pane_records,
    parse_panes,
)

from .commands import pane_target

if TYPE_CHECKING:
    from .control import ControlClient

__all__ = [
    "AGENT_UID_OPTION",
    "PANE_FORMAT",
    "RESTARTED_AT_OPTION",
    "REVISION_OPTION",
    "UNCHANGED_COMMAND",
    "PaneInfo",
    "ServerSnapshot",
    "pane_format",
    "parse_pane_records",
    "parse_panes",
    "take_snapshot",
    "unchanged_since",
]


@dataclass(frozen=True)
class ServerSnapshot:
    """Every pane of one tmux server at one moment, with the screens of the panes that were captured."""

    taken_at: float  # epoch seconds
    panes: tuple[PaneInfo, ...]
    screens: Mapping[str, tuple[str, ...]]  # pane id → lines; panes not captured are absent
    records: Mapping[str, PaneInfo] = field(default_factory=dict, compare=False, repr=False)
    """Each pane by the record `list-panes` printed for it: the next pass parses only records that differ."""

    @cached_property
    def by_id(self) -> Mapping[str, PaneInfo]:
        return {pane.pane_id: pane for pane in self.panes}

    def pane_snapshot(self, pane_id: str) -> PaneSnapshot | None:
        """What a detector profile reads for one pane (None if it was not captured)."""
        screen = self.screens.get(pane_id)
        pane = self.by_id.get(pane_id)
        if screen is None or pane is None:
            return None
        return PaneSnapshot(lines=screen, process=pane.process)


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
    screen captured then instead of being captured again (see `unchanged_since`), and a pane that printed
    nothing since keeps the foreground command listed then (`pane_format`): in a steady state only the
    panes that printed something cost a capture and a look into /proc.
    """
    taken_at = time.time()
    quiet_before = int(previous.taken_at) if previous is not None else None
    listing = await client.list_panes(pane_format(quiet_before), session=session)
    parsed = parse_pane_records(
        listing, previous.by_id if previous else None, previous.records if previous else None
    )
    panes = await _with_commands(client, [pane for _, pane in parsed])
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
    records = {record: pane for (record, _), pane in zip(parsed, panes, strict=True)}
    return ServerSnapshot(taken_at, tuple(panes), screens, records)


async def _with_commands(client: ControlClient, panes: list[PaneInfo]) -> list[PaneInfo]:
    """`panes`, with the foreground command read for any listed as unchanged that had none before (a new
    process that printed nothing yet): rare, one pipelined batch."""
    unknown = [index for index, pane in enumerate(panes) if pane.process.current_command == UNCHANGED_COMMAND]
    if not unknown:
        return panes
    results = await client.run_many(
        [
            ("display-message", "-p", "-t", pane_target(panes[i].pane_id), "#{pane_current_command}")
            for i in unknown
        ]
    )
    for index, result in zip(unknown, results, strict=True):
        pane = panes[index]
        command = result.lines[0] if result.lines and not result.failed else None
        panes[index] = replace(pane, process=replace(pane.process, current_command=command or None))
    return panes


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
