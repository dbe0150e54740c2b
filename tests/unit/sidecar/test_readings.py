"""Screen readings are reused only while the screen and the process facts are what they were: an agent that
started working, died or got a new process is read anew (a stale reading would report the wrong state)."""

from __future__ import annotations

from collections.abc import Sequence

from tmux_orchestrator.api.agent import Activity
from tmux_sidecar.classification import DetectorProfile, PaneSnapshot, ProcessFacts, ScreenReading
from tmux_sidecar.profiles import CLAUDE_CODE
from tmux_sidecar.readings import ScreenReadings

ALIVE = ProcessFacts(dead=False, current_command="claude", pid=100)
IDLE = ("────────", "> ", "────────", "  ? for shortcuts")
BUSY = ("✻ Working… (esc to interrupt)", "────────", "> ", "────────", "  ? for shortcuts")


def test_a_changed_screen_or_process_is_read_again() -> None:
    readings = ScreenReadings()
    idle = readings.classify("a", CLAUDE_CODE, PaneSnapshot(IDLE, ALIVE))
    assert idle.activity is Activity.IDLE
    assert readings.classify("a", CLAUDE_CODE, PaneSnapshot(BUSY, ALIVE)).activity is Activity.BUSY
    died = ProcessFacts(dead=True, exit_signal=9, current_command="claude", pid=100)
    assert readings.classify("a", CLAUDE_CODE, PaneSnapshot(BUSY, died)).crash is not None
    restarted = ProcessFacts(dead=False, current_command="claude", pid=101)
    assert readings.classify("a", CLAUDE_CODE, PaneSnapshot(IDLE, restarted)).activity is Activity.IDLE


def test_an_unchanged_pane_is_not_read_twice_and_gone_agents_are_forgotten() -> None:
    reads: list[tuple[str, ...]] = []

    def read(lines: Sequence[str], process: ProcessFacts) -> ScreenReading:
        reads.append(tuple(lines))
        return CLAUDE_CODE.read_screen(lines, process)

    counting = DetectorProfile("counting", read)
    readings = ScreenReadings()
    for _ in range(3):
        readings.classify("a", counting, PaneSnapshot(IDLE, ALIVE))
        readings.classify("b", counting, PaneSnapshot(BUSY, ALIVE))
    assert reads == [IDLE, BUSY]
    # The same screen under another profile is that profile's reading, not the cached one.
    assert readings.classify("a", CLAUDE_CODE, PaneSnapshot(IDLE, ALIVE)).activity is Activity.IDLE
    readings.keep_only({"b"})
    assert len(readings) == 1
