"""The screens to capture from each real CLI, as steps (pure data): what to type, what to wait for, and
which activity each captured screen shows. `capture.py` plays them in a real tmux against the fake model.

The model's script (`FAKE_MODEL_SCRIPT`) answers by keyword, so each step's message picks a behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tmux_orchestrator.api.agent import Activity

FAKE_MODEL_SCRIPT = """\
rules:
  - when: "go slow"
    text: >-
      Streaming slowly, word by word, so that the screen shows the agent working for a while before the
      answer ends.
    seconds: 40
  - when: "run it"
    tool: {command: "touch approved.txt"}
  - when: "write it"
    tool: {path: "notes.txt", content: "hello"}
  - when: "ask me"
    tool: {question: "Which database should we use?", options: [Postgres, SQLite]}
  - when: "hit the limit"
    status: 429
  - when: "overloaded"
    status: 529
  - when: "this is broken"
    status: 500
default: {text: "OK, done."}
"""


class StepKind(StrEnum):
    TYPE = "type"  # type text literally (send-keys -l)
    KEYS = "keys"  # press keys (tmux key names, space separated)
    SLEEP = "sleep"  # let the screen settle
    SCREEN = "screen"  # wait until the screen shows this text
    CAPTURE = "capture"  # save the screen as <state>-<n>.txt
    INTERRUPT = "interrupt"  # press keys until this text shows (or, `gone`, is gone): a key can be lost
    OPTIONAL = "optional"  # a dialog that shows only sometimes: if this text shows, capture it, press keys
    EARLY = "early"  # a state that passes quickly: capture it unless this text already shows


@dataclass(frozen=True)
class Step:
    kind: StepKind
    text: str = ""
    seconds: float = 0.0
    state: str = ""  # for CAPTURE
    expected: Activity | None = None  # for CAPTURE
    keys: str = ""  # for INTERRUPT and OPTIONAL
    gone: bool = False  # for INTERRUPT: until the text is gone


@dataclass(frozen=True)
class Scenario:
    """One CLI run: `unprepared` starts it without the prepared first-run answers."""

    name: str
    steps: tuple[Step, ...]
    unprepared: frozenset[str] = frozenset()  # first-run answers left out: see homes.prepare


def type_(text: str) -> Step:
    return Step(StepKind.TYPE, text)


def keys(names: str) -> Step:
    return Step(StepKind.KEYS, names)


def sleep(seconds: float) -> Step:
    return Step(StepKind.SLEEP, seconds=seconds)


def screen(text: str, seconds: float = 90) -> Step:
    return Step(StepKind.SCREEN, text, seconds)


def capture(state: str, expected: Activity) -> Step:
    return Step(StepKind.CAPTURE, state=state, expected=expected)


def interrupt(names: str, until: str = "", gone: str = "") -> Step:
    return Step(StepKind.INTERRUPT, until or gone, 30, keys=names, gone=bool(gone))


def optional(text: str, state: str, names: str, seconds: float = 5) -> Step:
    return Step(StepKind.OPTIONAL, text, seconds, state, Activity.WAITING_FOR_INPUT, names)


def early(unless: str, state: str, expected: Activity) -> Step:
    return Step(StepKind.EARLY, unless, state=state, expected=expected)


def send(text: str) -> tuple[Step, ...]:
    # Enter as its own key after the typed text settled (Codex takes a quick Enter as part of a paste).
    return (sleep(1), type_(text), sleep(1.5), keys("Enter"))


IDLE, BUSY, WAITING, LIMITED = Activity.IDLE, Activity.BUSY, Activity.WAITING_FOR_INPUT, Activity.RATE_LIMITED
STARTING = Activity.UNKNOWN  # drawn, but not ready for input yet

CLAUDE_CODE = (
    Scenario(
        "onboarding",
        (
            screen("Choose the text style"),
            sleep(2),
            capture("firstrun-theme", WAITING),
            keys("Enter"),
            screen("Press Enter to continue"),
            sleep(1),
            capture("firstrun-securitynotes", WAITING),
            keys("Enter"),
            screen("? for shortcuts"),
            sleep(1),
            capture("idle", IDLE),
        ),
        frozenset({"onboarding"}),
    ),
    Scenario(
        "first run",
        (
            screen("Is this a project you created or one you trust?"),
            sleep(2),  # keys pressed right as a dialog appears are lost
            capture("firstrun-trust", WAITING),
            keys("Down"),
            sleep(1),
            capture("firstrun-trust", WAITING),
            keys("Enter"),
            screen("Do you want to use this API key?"),
            sleep(2),
            capture("firstrun-apikey", WAITING),
            keys("Up"),
            sleep(1),
            capture("firstrun-apikey", WAITING),
        ),
        frozenset({"trust", "apikey"}),
    ),
    Scenario(
        "auto mode offer",
        (
            screen("Make auto mode your default permission mode?"),
            sleep(2),
            capture("firstrun-automode", WAITING),
            keys("Down"),
            sleep(1),
            capture("firstrun-automode", WAITING),
        ),
        frozenset({"nudge"}),
    ),
    Scenario(
        "question",
        (
            screen("? for shortcuts"),
            *send("please ask me"),
            screen("Enter to select"),
            sleep(1),
            capture("question", WAITING),
            keys("Down"),
            sleep(1),
            capture("question", WAITING),
        ),
    ),
    Scenario(
        "states",
        (
            screen("? for shortcuts"),
            capture("idle", IDLE),
            type_("please refactor the parser"),
            sleep(1),
            capture("idle", IDLE),
            keys("C-u"),
            *send("go slow please"),
            screen("esc to interrupt", 30),
            sleep(2),
            capture("busy", BUSY),
            sleep(5),
            capture("busy", BUSY),
            type_("next: check the tests"),
            sleep(1),
            capture("busy", BUSY),
            screen("· done", 60),
            sleep(1),
            capture("idle", IDLE),
            keys("C-u"),
            *send("please run it"),
            screen("Do you want to proceed?"),
            sleep(1),
            capture("waiting", WAITING),
            keys("Down"),
            sleep(0.5),
            keys("Down"),
            sleep(1),
            capture("waiting", WAITING),
            keys("Up"),
            sleep(0.5),
            keys("Up"),
            sleep(0.5),
            keys("Enter"),
            screen("Done."),
            sleep(2),
            capture("idle", IDLE),
            *send("now write it"),
            screen("Do you want to create notes.txt?"),
            sleep(1),
            capture("waiting", WAITING),
            keys("Escape"),
            sleep(3),
            capture("idle", IDLE),
            # The first two retries read "API error · retrying in 2s · attempt 1/10" for a 429, a 529 and a
            # 5xx alike; from attempt 3 on the line names the status (docs/architecture.md, "Claude Code
            # retries").
            *send("hit the limit"),
            screen("attempt 1/"),
            capture("retrying", BUSY),
            screen("attempt 3/"),
            capture("ratelimited", LIMITED),
            screen("attempt 4/"),
            capture("ratelimited", LIMITED),
            # Interrupted before any answer, Claude Code puts the message back into the input.
            interrupt("Escape", gone="esc to interrupt"),
            sleep(2),
            capture("idle", IDLE),
            keys("C-u"),
            *send("overloaded"),
            screen("attempt 2/"),
            capture("retrying", BUSY),
            screen("attempt 3/"),
            capture("ratelimited", LIMITED),
            interrupt("Escape", gone="esc to interrupt"),
            sleep(2),
            keys("C-u"),
            *send("this is broken"),
            screen("attempt 1/"),
            capture("retrying", BUSY),
            screen("attempt 3/", 120),
            capture("retrying5xx", BUSY),
            screen("API Error", 600),
            sleep(1),
            capture("error", IDLE),
        ),
    ),
)

CODEX = (
    Scenario(
        "first run",
        (
            screen("Trust this folder?"),
            capture("firstrun-trust", WAITING),
            keys("Down"),
            sleep(1),
            capture("firstrun-trust", WAITING),
        ),
        frozenset({"trust"}),
    ),
    Scenario(
        "sign in",
        (sleep(8), capture("firstrun-signin", WAITING)),
        frozenset({"config"}),
    ),
    Scenario(
        "plan mode question",
        (
            screen("? for shortcuts"),
            sleep(2),
            interrupt("BTab", until="Plan mode"),
            *send("please ask me"),
            screen("enter to submit answer"),
            sleep(1),
            capture("question", WAITING),
            keys("Down"),
            sleep(1),
            capture("question", WAITING),
        ),
    ),
    Scenario(
        "states",
        (
            # Composer drawn, session not configured yet: no "model · folder" footer (0.4 s to seconds).
            screen("? for shortcuts"),
            early("gpt-5-codex", "starting", STARTING),
            screen("gpt-5-codex"),
            sleep(1),
            capture("idle", IDLE),
            type_("please refactor the parser"),
            sleep(1),
            capture("idle", IDLE),
            keys("C-u"),
            *send("go slow please"),
            screen("Working", 30),
            capture("busy", BUSY),
            screen("Streaming slowly", 30),
            sleep(3),
            capture("busy", BUSY),
            type_("a draft while busy"),
            sleep(1),
            capture("busy", BUSY),
            screen("Worked for", 60),
            sleep(1),
            capture("idle", IDLE),
            keys("C-u"),
            sleep(1),
            capture("idle", IDLE),
            *send("please run it"),
            screen("Would you like to run the following command?"),
            sleep(1),
            capture("waiting", WAITING),
            keys("Down"),
            sleep(0.5),
            keys("Down"),
            sleep(1),
            capture("waiting", WAITING),
            keys("Up"),
            sleep(0.5),
            keys("Up"),
            sleep(0.5),
            keys("Enter"),
            screen("Done."),
            sleep(2),
            capture("idle", IDLE),
            *send("hit the limit"),
            screen("reconnecting 1/"),
            capture("ratelimited", LIMITED),
            screen("reconnecting 3/"),
            capture("ratelimited", LIMITED),
            screen("exceeded retry limit", 120),
            sleep(1),
            capture("error", IDLE),
            *send("this is broken"),
            sleep(12),
            capture("retrying5xx", BUSY),
        ),
    ),
)

AIDER = (
    Scenario(
        "first run",
        (
            # Aider asks 10% of its users (by their analytics id) whether it may collect analytics.
            screen("Allow collection of anonymous analytics"),
            capture("firstrun-analytics", WAITING),
            type_("n"),
            keys("Enter"),
            screen("Add .aider* to .gitignore"),
            capture("firstrun-gitignore", WAITING),
            keys("Enter"),
            screen("Open documentation url for more info?"),
            capture("firstrun-modelwarning", WAITING),
            type_("n"),
            keys("Enter"),
            screen("Would you like to see what's new in this version?"),
            capture("firstrun-releasenotes", WAITING),
        ),
        frozenset({"config", "analytics"}),
    ),
    Scenario(
        "states",
        (
            screen("diff>"),
            sleep(2),
            capture("idle", IDLE),
            type_("please refactor the parser"),
            sleep(1),
            capture("idle", IDLE),
            keys("C-u"),
            *send("go slow please"),
            screen("Streaming slowly", 30),
            capture("busy", BUSY),
            sleep(5),
            capture("busy", BUSY),
            screen("Tokens:", 60),
            sleep(2),
            capture("idle", IDLE),
            *send("please run it"),
            screen("Run shell command?"),
            sleep(1),
            capture("waiting", WAITING),
            type_("y"),
            keys("Enter"),
            screen("Running touch"),
            sleep(2),
            capture("idle", IDLE),
            *send("hit the limit"),
            screen("Retrying in 0.5"),
            capture("ratelimited", LIMITED),
            screen("Retrying in 2.0", 120),
            capture("ratelimited", LIMITED),
            interrupt("C-c", "^C again to exit"),
            sleep(2),
            capture("idle", IDLE),
            *send("this is broken"),
            screen("servers are down"),
            capture("retrying5xx", BUSY),
        ),
    ),
)

SCENARIOS: dict[str, tuple[Scenario, ...]] = {"claude-code": CLAUDE_CODE, "codex": CODEX, "aider": AIDER}
