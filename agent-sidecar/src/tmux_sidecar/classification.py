"""What a detector profile reads from a pane and what it concludes (pure: no I/O, no tmux, no event loop).

Process facts beat screen text, by construction: `classify_pane` decides from the process facts alone
whether the agent process has ended (and then reports the exit as crash evidence), and only shows the screen
to the profile while the process is alive. A profile therefore cannot declare a crash because of words on
the screen ("FAILED", a traceback in test output, "Error:"): it can only say what a live agent is doing.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tmux_orchestrator.api.agent import Activity

# tmux draws this line into a pane whose program ended while remain-on-exit is on.
DEAD_PANE_BANNER = "Pane is dead ("
LAST_LINES = 10


@dataclass(frozen=True)
class ProcessFacts:
    """What tmux knows about the pane's program."""

    dead: bool = False
    exit_status: int | None = None
    exit_signal: int | None = None
    current_command: str | None = None  # the pane's foreground process name
    pid: int | None = None


@dataclass(frozen=True)
class PaneSnapshot:
    """One pane at one moment: its screen text and its process facts."""

    lines: tuple[str, ...]
    process: ProcessFacts = ProcessFacts()


class ExitKind(StrEnum):
    EXITED = "Exited"  # ended with an exit status
    SIGNALED = "Signaled"  # killed by a signal
    UNCOLLECTED = "Uncollected"  # ended, but tmux has not collected the status yet


@dataclass(frozen=True)
class CrashEvidence:
    """How the agent process ended, and what it last showed."""

    kind: ExitKind
    exit_status: int | None
    exit_signal: int | None
    last_lines: tuple[str, ...]

    @property
    def failed(self) -> bool:
        """Anything but a clean exit with status 0 (an uncollected status counts as failed until known)."""
        return self.kind is not ExitKind.EXITED or self.exit_status != 0

    @property
    def exit_code(self) -> int | None:
        """The container-style exit code: the status, or 128 + the signal number."""
        if self.exit_signal is not None:
            return 128 + self.exit_signal
        return self.exit_status

    @property
    def reason(self) -> str:
        """One line for humans: how it ended, then the last output lines."""
        if self.kind is ExitKind.SIGNALED and self.exit_signal is not None:
            how = f"killed by signal {self.exit_signal} ({signal_name(self.exit_signal)})"
        elif self.kind is ExitKind.EXITED:
            how = f"exited with status {self.exit_status}"
        else:
            how = "exited (status not yet known)"
        return f"{how}: {' | '.join(self.last_lines)}" if self.last_lines else how

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "exitStatus": self.exit_status,
            "exitSignal": self.exit_signal,
            "exitCode": self.exit_code,
            "failed": self.failed,
            "reason": self.reason,
            "lastLines": list(self.last_lines),
        }


@dataclass(frozen=True)
class ScreenReading:
    """What a profile reads on the screen of a live agent."""

    activity: Activity
    ready: bool  # the agent's CLI is up (its own screen is recognisable)
    rate_limit_resets_at: str | None = None  # as shown on screen, e.g. "3pm (Europe/Berlin)"
    detail: str = ""  # which rule matched, for humans and tests


@dataclass(frozen=True)
class Classification:
    """A profile's verdict on one pane snapshot."""

    activity: Activity
    ready: bool
    crash: CrashEvidence | None
    rate_limit_resets_at: str | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "activity": self.activity.value,
            "ready": self.ready,
            "crashed": self.crash is not None and self.crash.failed,
            "crash": self.crash.to_json() if self.crash else None,
            "rateLimitResetsAt": self.rate_limit_resets_at,
            "detail": self.detail,
        }


# A profile's screen reader: screen lines of a live process (and its facts) → reading. Pure.
ScreenReader = Callable[[Sequence[str], ProcessFacts], ScreenReading]


@dataclass(frozen=True)
class DetectorProfile:
    """A named way of reading an agent CLI's screen (built in, or a plugin's entry point)."""

    name: str
    read_screen: ScreenReader
    description: str = ""

    def classify(self, snapshot: PaneSnapshot) -> Classification:
        return classify_pane(self, snapshot)


def classify_pane(profile: DetectorProfile, snapshot: PaneSnapshot) -> Classification:
    """Process facts first: an ended process is reported from its exit, a live one from its screen."""
    process = snapshot.process
    if process.dead:
        evidence = crash_evidence(process, snapshot.lines)
        return Classification(Activity.UNKNOWN, False, evidence, None, "process ended")
    reading = profile.read_screen(snapshot.lines, process)
    return Classification(reading.activity, reading.ready, None, reading.rate_limit_resets_at, reading.detail)


def crash_evidence(process: ProcessFacts, lines: Sequence[str]) -> CrashEvidence:
    if process.exit_signal is not None:
        kind = ExitKind.SIGNALED
    elif process.exit_status is not None:
        kind = ExitKind.EXITED
    else:
        kind = ExitKind.UNCOLLECTED
    return CrashEvidence(kind, process.exit_status, process.exit_signal, last_output_lines(lines))


def last_output_lines(lines: Sequence[str], count: int = LAST_LINES) -> tuple[str, ...]:
    """The last `count` non-blank lines, without tmux's own "Pane is dead" banner."""
    kept = [line.rstrip() for line in lines if line.strip() and not line.startswith(DEAD_PANE_BANNER)]
    return tuple(kept[-count:]) if count > 0 else ()


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
