"""Detector profiles, table-driven, for every built-in profile; screens that must not count as crashes too."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest

from tmux_orchestrator.api.agent import Activity
from tmux_sidecar.classification import ExitKind, PaneSnapshot, ProcessFacts, classify_pane
from tmux_sidecar.profile_plugins import available_profiles, load_profile
from tmux_sidecar.profiles import (
    BUILTIN_PROFILES,
    ENTRY_POINT_GROUP,
    InvalidProfileError,
    UnknownProfileError,
)

ALIVE = ProcessFacts(dead=False, current_command="claude", pid=100)


def screen(text: str) -> tuple[str, ...]:
    return tuple(textwrap.dedent(text).strip("\n").split("\n"))


CLAUDE_IDLE = screen(
    """
    ✻ Welcome to Claude Code!

    > fix the tests
    ⏺ All 42 tests pass now.

    ╭──────────────────────────────────────────╮
    │ >                                        │
    ╰──────────────────────────────────────────╯
      ? for shortcuts
    """
)
CLAUDE_IDLE_NEW_STYLE = screen(
    """
    ⏺ Done.

    ────────────────────────────────────────────
    >
    ────────────────────────────────────────────
      ? for shortcuts                 Bypassing Permissions
    """
)
CLAUDE_BUSY = screen(
    """
    > run the test suite
    ⏺ Bash(pytest -q)
      ⎿  FAILED tests/test_api.py::test_create - AssertionError: 500 != 201
         Traceback (most recent call last):
           File "tests/test_api.py", line 12, in test_create
         Error: connection refused

    ✻ Pondering… (12s · ↑ 1.2k tokens · esc to interrupt)

    ╭──────────────────────────────────────────╮
    │ >                                        │
    ╰──────────────────────────────────────────╯
    """
)
CLAUDE_SPINNER_ONLY = screen(
    """
    ⏺ Reading files
    ✶ Honking…

    ╭────────────────╮
    │ >              │
    ╰────────────────╯
    """
)
CLAUDE_APPROVAL = screen(
    """
    ╭──────────────────────────────────────────────────╮
    │ Bash command                                     │
    │                                                  │
    │   rm -rf build/                                  │
    │                                                  │
    │ Do you want to proceed?                          │
    │ ❯ 1. Yes                                         │
    │   2. No, and tell Claude what to do differently  │
    ╰──────────────────────────────────────────────────╯
    """  # noqa: RUF001
)
CLAUDE_RATE_LIMITED = screen(
    """
    > continue
      ⎿  Claude usage limit reached. Your limit will reset at 3pm (Europe/Berlin).

    ╭──────────────────────────────────────────╮
    │ >                                        │
    ╰──────────────────────────────────────────╯
      ? for shortcuts
    """
)
CLAUDE_RATE_LIMIT_WRAPPED = screen(
    """
    > continue
      ⎿  5-hour limit reached ∙ resets
         11pm (UTC)

    ╭────────────────────╮
    │ >                  │
    ╰────────────────────╯
    """
)
CLAUDE_RATE_LIMIT_OVER = screen(
    """
      ⎿  Claude usage limit reached. Your limit will reset at 3pm (Europe/Berlin).
    > continue
    ⏺ Picking up where I left off: the migration is done.

    ╭──────────────────────────────────────────╮
    │ >                                        │
    ╰──────────────────────────────────────────╯
      ? for shortcuts
    """
)
CLAUDE_TALKS_ABOUT_LIMITS = screen(
    """
    ⏺ I added rate limiting to the API and a test for "usage limit" handling.

    ╭──────────────────────────────────────────╮
    │ >                                        │
    ╰──────────────────────────────────────────╯
      ? for shortcuts
    """
)
CLAUDE_IDLE_WITH_FAILURES = screen(
    """
    ⏺ The run failed:
      FAILED tests/test_x.py::test_y - Error: boom
      Traceback (most recent call last):
      Segmentation fault (core dumped)
      Killed
      exit status 1

    ╭──────────────────────────────────────────╮
    │ >                                        │
    ╰──────────────────────────────────────────╯
      ? for shortcuts
    """
)
SHELL_PROMPT = screen("user@host:~/src$ ")

CODEX_IDLE = screen(
    """
    >_ OpenAI Codex

    › Ask Codex to do anything

      ⏎ send   ⇧⏎ newline   ⌃T transcript   ⌃C quit   100% context left
    """  # noqa: RUF001
)
CODEX_BUSY = screen(
    """
    • Running pytest -q
      └ 3 failed, 10 passed
        Traceback (most recent call last):

    • Working (14s • esc to interrupt)

    ›
    """  # noqa: RUF001
)
CODEX_APPROVAL = screen(
    """
    Would you like to run the following command?

      $ rm -rf build

    › 1. Yes, proceed
      2. No, and tell Codex what to do differently (esc)
    """  # noqa: RUF001
)
CODEX_RATE_LIMITED = screen(
    """
    ■ You've hit your usage limit. Upgrade to Pro or try again at 4:05 PM.

    ›
      ⏎ send   100% context left
    """  # noqa: RUF001
)
AIDER_IDLE = screen(
    """
    Aider v0.86.1
    Main model: anthropic/claude-sonnet-4 with diff edit format
    Repo-map: using 4096 tokens
    ────────────────────────────────────────────
    >
    """
)
AIDER_ARCHITECT_IDLE = screen(
    """
    Tokens: 12k sent, 1.1k received.
    ────────────────────────────────────────────
    architect>
    """
)
AIDER_CONFIRM = screen(
    """
    src/app.py
    Add file to the chat? (Y)es/(N)o/(D)on't ask again [Yes]:
    """
)
AIDER_WORKING = screen(
    """
    > refactor the parser
    I'll split the parser into two functions.

    src/parser.py
    <<<<<<< SEARCH
    """
)
AIDER_WAITING_FOR_MODEL = screen(
    """
    > refactor the parser
    ░█        Waiting for anthropic/claude-sonnet-4
    """
)
AIDER_RATE_LIMITED = screen(
    """
    > go on
    litellm.RateLimitError: AnthropicException - rate limit exceeded
    Retrying in 4.0 seconds...
    """
)
AIDER_TEST_FAILURES = screen(
    """
    FAILED tests/test_parser.py::test_split - Error: unexpected token
    Traceback (most recent call last):
    Added 2 lines of output to the chat.
    ────────────────────────────────────────────
    >
    """
)
SHELL_CONFIRM = screen(
    """
    The following packages will be installed: jq
    Do you want to continue? [Y/n]
    """
)
SHELL_SSH = screen("Are you sure you want to continue connecting (yes/no/[fingerprint])? ")
SHELL_TEST_OUTPUT = screen(
    """
    $ pytest
    FAILED tests/test_a.py::test_b - AssertionError
    Traceback (most recent call last):
    Error: exit status 1
    $
    """
)


def alive(command: str) -> ProcessFacts:
    return ProcessFacts(dead=False, current_command=command, pid=100)


class Live(NamedTuple):
    id: str
    profile: str
    lines: tuple[str, ...]
    process: ProcessFacts
    activity: Activity
    ready: bool = True
    resets_at: str | None = None


CODEX, AIDER = alive("codex"), alive("aider")
CASES = [
    Live("claude-idle-box", "claude-code", CLAUDE_IDLE, ALIVE, Activity.IDLE),
    Live("claude-idle-new-style", "claude-code", CLAUDE_IDLE_NEW_STYLE, ALIVE, Activity.IDLE),
    Live("claude-busy-esc-to-interrupt", "claude-code", CLAUDE_BUSY, ALIVE, Activity.BUSY),
    Live("claude-busy-spinner-word", "claude-code", CLAUDE_SPINNER_ONLY, ALIVE, Activity.BUSY),
    Live("claude-approval", "claude-code", CLAUDE_APPROVAL, ALIVE, Activity.WAITING_FOR_INPUT),
    Live(
        "claude-rate-limited",
        "claude-code",
        CLAUDE_RATE_LIMITED,
        ALIVE,
        Activity.RATE_LIMITED,
        True,
        "3pm (Europe/Berlin)",
    ),
    Live(
        "claude-rate-limit-wrapped",
        "claude-code",
        CLAUDE_RATE_LIMIT_WRAPPED,
        ALIVE,
        Activity.RATE_LIMITED,
        True,
        "11pm (UTC)",
    ),
    Live("claude-rate-limit-over", "claude-code", CLAUDE_RATE_LIMIT_OVER, ALIVE, Activity.IDLE),
    Live("claude-mentions-limits", "claude-code", CLAUDE_TALKS_ABOUT_LIMITS, ALIVE, Activity.IDLE),
    Live("claude-idle-after-failures", "claude-code", CLAUDE_IDLE_WITH_FAILURES, ALIVE, Activity.IDLE),
    Live("claude-not-started-shell", "claude-code", SHELL_PROMPT, alive("bash"), Activity.UNKNOWN, False),
    Live("claude-blank-screen", "claude-code", ("",) * 24, ALIVE, Activity.UNKNOWN, False),
    Live("codex-idle", "codex", CODEX_IDLE, CODEX, Activity.IDLE),
    Live("codex-busy-with-traceback", "codex", CODEX_BUSY, CODEX, Activity.BUSY),
    Live("codex-approval", "codex", CODEX_APPROVAL, CODEX, Activity.WAITING_FOR_INPUT),
    Live("codex-rate-limited", "codex", CODEX_RATE_LIMITED, CODEX, Activity.RATE_LIMITED, True, "4:05 PM"),
    Live("codex-blank", "codex", ("",), CODEX, Activity.UNKNOWN, False),
    Live("aider-idle", "aider", AIDER_IDLE, AIDER, Activity.IDLE),
    Live("aider-architect-idle", "aider", AIDER_ARCHITECT_IDLE, AIDER, Activity.IDLE),
    Live("aider-confirm", "aider", AIDER_CONFIRM, AIDER, Activity.WAITING_FOR_INPUT),
    Live("aider-working", "aider", AIDER_WORKING, AIDER, Activity.BUSY),
    Live("aider-waiting-for-model", "aider", AIDER_WAITING_FOR_MODEL, AIDER, Activity.BUSY),
    Live(
        "aider-rate-limited", "aider", AIDER_RATE_LIMITED, AIDER, Activity.RATE_LIMITED, True, "4.0 seconds"
    ),
    Live("aider-idle-after-test-failures", "aider", AIDER_TEST_FAILURES, AIDER, Activity.IDLE),
    Live("aider-blank", "aider", ("", ""), AIDER, Activity.UNKNOWN, False),
    Live("shell-at-prompt", "shell", SHELL_PROMPT, alive("bash"), Activity.IDLE),
    Live("shell-login-shell", "shell", SHELL_PROMPT, alive("-zsh"), Activity.IDLE),
    Live("shell-running-a-program", "shell", SHELL_TEST_OUTPUT, alive("pytest"), Activity.BUSY),
    Live("shell-test-output-at-prompt", "shell", SHELL_TEST_OUTPUT, alive("bash"), Activity.IDLE),
    Live("shell-apt-question", "shell", SHELL_CONFIRM, alive("apt"), Activity.WAITING_FOR_INPUT),
    Live("shell-ssh-question", "shell", SHELL_SSH, alive("ssh"), Activity.WAITING_FOR_INPUT),
    Live("shell-unknown-command", "shell", ("",), ProcessFacts(), Activity.UNKNOWN),
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_live_panes(case: Live) -> None:
    verdict = load_profile(case.profile).classify(PaneSnapshot(case.lines, case.process))
    assert (verdict.activity, verdict.ready, verdict.rate_limit_resets_at) == (
        case.activity,
        case.ready,
        case.resets_at,
    )
    assert verdict.crash is None  # a live process never crashed, whatever its screen says


def test_every_builtin_profile_has_cases() -> None:
    assert {case.profile for case in CASES} == set(BUILTIN_PROFILES)


# Screens full of failure words, for every profile, with the process alive: never a crash.
FAILURE_WORDS = screen(
    """
    FAILED tests/test_x.py::test_y - AssertionError
    Traceback (most recent call last):
      File "x.py", line 1, in <module>
    RuntimeError: crashed
    Error: command failed with exit code 1
    Segmentation fault (core dumped)
    Killed
    Pane is dead (status 1, Tue Jan  1 00:00:00 2030)
    """
)


@pytest.mark.parametrize("profile", sorted(BUILTIN_PROFILES))
def test_failure_words_on_a_live_pane_are_not_a_crash(profile: str) -> None:
    verdict = load_profile(profile).classify(PaneSnapshot(FAILURE_WORDS, ALIVE))
    assert verdict.crash is None
    assert not verdict.to_json()["crashed"]


class Dead(NamedTuple):
    id: str
    process: ProcessFacts
    kind: ExitKind
    failed: bool
    exit_code: int | None
    reason: str


DEAD_CASES = [
    Dead(
        "exit-status-3",
        ProcessFacts(dead=True, exit_status=3),
        ExitKind.EXITED,
        True,
        3,
        "exited with status 3",
    ),
    Dead(
        "clean-exit",
        ProcessFacts(dead=True, exit_status=0),
        ExitKind.EXITED,
        False,
        0,
        "exited with status 0",
    ),
    Dead(
        "sigkill",
        ProcessFacts(dead=True, exit_signal=9),
        ExitKind.SIGNALED,
        True,
        137,
        "killed by signal 9 (SIGKILL)",
    ),
    Dead(
        "not-collected",
        ProcessFacts(dead=True),
        ExitKind.UNCOLLECTED,
        True,
        None,
        "exited (status not yet known)",
    ),
]


@pytest.mark.parametrize("profile", sorted(BUILTIN_PROFILES))
@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in DEAD_CASES])
def test_dead_panes_are_judged_by_process_facts(profile: str, case: Dead) -> None:
    # The screen even looks perfectly idle: the process facts decide.
    lines = (*CLAUDE_IDLE, "command not found: claud", "Pane is dead (status 3, Tue Jan  1 00:00:00 2030)")
    verdict = load_profile(profile).classify(PaneSnapshot(lines, case.process))
    assert verdict.activity is Activity.UNKNOWN and not verdict.ready
    assert verdict.crash is not None
    assert (verdict.crash.kind, verdict.crash.failed, verdict.crash.exit_code) == (
        case.kind,
        case.failed,
        case.exit_code,
    )
    assert verdict.crash.reason.startswith(case.reason)
    assert verdict.crash.last_lines[-1] == "command not found: claud"
    assert verdict.crash.reason.endswith("command not found: claud")


def test_last_lines_are_bounded() -> None:
    lines = tuple(f"line {i}" for i in range(100))
    verdict = classify_pane(
        load_profile("shell"), PaneSnapshot(lines, ProcessFacts(dead=True, exit_status=1))
    )
    assert verdict.crash is not None
    assert verdict.crash.last_lines == tuple(f"line {i}" for i in range(90, 100))


def test_unknown_profile_names_the_available_ones() -> None:
    with pytest.raises(UnknownProfileError, match="unknown detector profile 'claud'") as error:
        load_profile("claud")
    assert {"claude-code", "codex", "aider", "shell"} <= set(error.value.available)


def test_builtins_are_registered_as_entry_points() -> None:
    from importlib.metadata import entry_points

    registered = {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert {name: registered.get(name) for name in BUILTIN_PROFILES} == BUILTIN_PROFILES


def install_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, name: str = "my-agent"
) -> None:
    """A real distribution on sys.path: a module plus a dist-info with an entry point, as pip installs."""
    (tmp_path / "my_profiles.py").write_text(textwrap.dedent(source))
    dist_info = tmp_path / "my_profiles-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-profiles\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{name} = my_profiles:PROFILE\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_profiles", raising=False)


def test_a_plugin_profile_is_loaded_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(
        tmp_path,
        monkeypatch,
        """
        from tmux_orchestrator.api.agent import Activity
        from tmux_sidecar.classification import ScreenReading

        def PROFILE(lines, process):
            busy = any("WORKING" in line for line in lines)
            return ScreenReading(Activity.BUSY if busy else Activity.IDLE, True, detail="plugin")
        """,
    )
    assert "my-agent" in available_profiles()
    profile = load_profile("my-agent")
    assert profile.name == "my-agent"
    assert profile.classify(PaneSnapshot(("WORKING",), ALIVE)).activity is Activity.BUSY
    dead = profile.classify(PaneSnapshot(("WORKING",), ProcessFacts(dead=True, exit_status=2)))
    assert dead.crash is not None and dead.crash.exit_code == 2  # process facts still come first


def test_a_plugin_cannot_take_a_builtin_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(tmp_path, monkeypatch, "PROFILE = None\n", name="shell")
    assert load_profile("shell") is BUILTIN_PROFILES["shell"]


def test_a_plugin_that_is_not_a_profile_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(tmp_path, monkeypatch, "PROFILE = 42\n")
    with pytest.raises(InvalidProfileError, match="my-agent"):
        load_profile("my-agent")


# Claude Code 2.1.332's retry line for each status the fake model answered (captured; docs/architecture.md,
# "Claude Code retries"): the first two attempts do not name the status, so they cannot read RateLimited.
CLAUDE_RETRY_LINES = [
    ("✻ API error · retrying in 2s · attempt 1/10", Activity.BUSY),  # 429, 529, 500, 502, 503 alike
    ("✻ API error · retrying in 1s · attempt 2/10", Activity.BUSY),
    ("✻ 429 fake model: rate_limit_error · retrying in 3s · attempt 3/10", Activity.RATE_LIMITED),
    ("✻ 529 fake model: overloaded_error · retrying in 3s · attempt 3/10", Activity.RATE_LIMITED),
    ("✻ 500 fake model: api_error · retrying in 2s · attempt 3/10", Activity.BUSY),
    ("✻ 502 fake model: api_error · retrying in 3s · attempt 3/10", Activity.BUSY),
    ("✻ 503 fake model: api_error · retrying in 5s · attempt 4/10", Activity.BUSY),
]


@pytest.mark.parametrize(
    ("line", "activity"), CLAUDE_RETRY_LINES, ids=[line for line, _ in CLAUDE_RETRY_LINES]
)
def test_claude_code_retry_reads_rate_limited_only_when_the_line_names_a_limit(
    line: str, activity: Activity
) -> None:
    rule = "─" * 60
    prompt = "\u276f "  # Claude Code's input prompt marker
    lines = (
        f"{prompt}this is broken",
        "",
        line,
        "",
        rule,
        prompt,
        rule,
        "  ⏸ manual mode on · esc to interrupt",
    )
    reading = load_profile("claude-code").classify(PaneSnapshot(lines, ALIVE))
    assert reading.activity is activity, reading.detail
