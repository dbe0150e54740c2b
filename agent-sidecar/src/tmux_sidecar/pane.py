"""The one pane model (pure): a pane as `list-panes` reports it, parsed once and read by every decision.

tmux's view of the pane's program is its `ProcessFacts` (what detector profiles read); the window it
belongs to and the user options through which a restarted node agent recognises the windows it created
come with it. The converge plan reads a window through its first pane, the status through the agent's pane.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tmux_sidecar.classification import ProcessFacts

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
UNCHANGED_COMMAND = "\x1d"
"""In place of `pane_current_command` (see `pane_format`): the pane printed nothing since the time given."""


def pane_format(quiet_before: int | None = None) -> str:
    """PANE_FORMAT; with `quiet_before` (epoch seconds), a live pane whose window printed nothing since then
    reports UNCHANGED_COMMAND instead of its foreground command. tmux reads that command from /proc for
    every pane, half the cost of listing hundreds; a pane's foreground program changes with output (a
    command typed echoes, a shell prints its prompt when it ends) or with a new process (another pid)."""
    if quiet_before is None:
        return PANE_FORMAT
    command = (
        "#{?pane_dead,#{pane_current_command},"
        f"#{{?#{{e|<:#{{window_activity}},{quiet_before}}},{UNCHANGED_COMMAND},#{{pane_current_command}}}}}}"
    )
    return PANE_FORMAT.replace("#{pane_current_command}", command)


@dataclass(frozen=True)
class PaneInfo:
    """What tmux knows about one pane (and its window)."""

    pane_id: str
    window_id: str = ""
    session_name: str = ""
    window_name: str = ""
    pane_index: int = 0
    process: ProcessFacts = field(default_factory=ProcessFacts)
    dead_time: int | None = None  # epoch seconds
    window_activity: int | None = None  # epoch seconds of the last output in the window
    agent_uid: str | None = None
    revision: str | None = None
    restarted_at: str | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def dead(self) -> bool:
        return self.process.dead

    @property
    def exit_status(self) -> int | None:
        """Set once a dead pane's program has been collected, unless it was signalled."""
        return self.process.exit_status

    @property
    def exit_signal(self) -> int | None:
        return self.process.exit_signal

    @property
    def exit_known(self) -> bool:
        """Dead and collected: the exit status or signal is known."""
        return self.dead and (self.exit_status is not None or self.exit_signal is not None)


def parse_panes(lines: Sequence[str], previous: Mapping[str, PaneInfo] | None = None) -> list[PaneInfo]:
    """PaneInfo records from the output of `list-panes -F pane_format(…)` (malformed records are skipped).

    A pane reported with UNCHANGED_COMMAND takes its command from `previous` (pane id → the pane as listed
    before) if it is the same live process; otherwise its command stays UNCHANGED_COMMAND, to be read."""
    return [pane for _, pane in parse_pane_records(lines, previous)]


def parse_pane_records(
    lines: Sequence[str],
    previous: Mapping[str, PaneInfo] | None = None,
    known: Mapping[str, PaneInfo] | None = None,
) -> list[tuple[str, PaneInfo]]:
    """`parse_panes`, each pane with its record as tmux printed it; a record in `known` (from the last
    listing) is not parsed again: in a steady state most panes print the same record pass after pass."""
    panes = []
    for text in "\n".join(lines).split(_RECORD_END):
        record = text.lstrip("\n")
        pane = known.get(record) if known is not None else None
        if pane is None:
            values = record.split(_FIELD_END)
            if len(values) != len(_FIELDS) + 1 or not values[0].startswith("%"):
                continue
            pane = _pane_info(dict(zip(_FIELDS, values, strict=False)), previous)
        panes.append((record, pane))
    return panes


def _pane_info(fields: Mapping[str, str], previous: Mapping[str, PaneInfo] | None = None) -> PaneInfo:
    command = fields["pane_current_command"]
    if command == UNCHANGED_COMMAND and previous is not None:
        before = previous.get(fields["pane_id"])
        if before is not None and not before.dead and before.pid == _int(fields["pane_pid"]):
            command = before.process.current_command or ""
    return PaneInfo(
        pane_id=fields["pane_id"],
        window_id=fields["window_id"],
        session_name=fields["session_name"],
        window_name=fields["window_name"],
        pane_index=_int(fields["pane_index"]) or 0,
        process=ProcessFacts(
            dead=fields["pane_dead"] == "1",
            exit_status=_int(fields["pane_dead_status"]),
            exit_signal=_int(fields["pane_dead_signal"]),
            current_command=command or None,
            pid=_int(fields["pane_pid"]),
        ),
        dead_time=_int(fields["pane_dead_time"]),
        window_activity=_int(fields["window_activity"]),
        agent_uid=fields[AGENT_UID_OPTION] or None,
        revision=fields[REVISION_OPTION] or None,
        restarted_at=fields[RESTARTED_AT_OPTION] or None,
    )


def _int(text: str) -> int | None:
    return int(text) if text.lstrip("-").isdigit() else None


def first_panes(panes: Sequence[PaneInfo]) -> list[PaneInfo]:
    """Every window, each by its first pane (untagged ones matter only to adopt an agent's lost window)."""
    first: dict[str, PaneInfo] = {}
    for pane in panes:
        if pane.window_id not in first or pane.pane_index < first[pane.window_id].pane_index:
            first[pane.window_id] = pane
    return list(first.values())
