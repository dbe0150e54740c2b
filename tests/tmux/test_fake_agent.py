"""The fake agent: script parsing, and its scripted behaviours in a real tmux pane."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tmux_orchestrator.api.agent import Activity
from tmux_sidecar.classification import Classification
from tmux_sidecar.fake_agent import ScriptError, Step, escape_for_screen, parse_steps
from tmux_sidecar.profiles import CLAUDE_CODE
from tmux_sidecar.tmux.control import ControlClient
from tmux_sidecar.tmux.events import ExitWatcher, PaneExited
from tmux_sidecar.tmux.snapshot import take_snapshot

from .conftest import FAKE_AGENT, SESSION, eventually, fake_agent, screen_contains


@pytest.mark.parametrize(
    ("lines", "steps"),
    [
        pytest.param(["busy 2"], [Step("busy", 2.0)], id="busy"),
        pytest.param(["busy 1.5 Compiling"], [Step("busy", 1.5, "Compiling")], id="busy-word"),
        pytest.param(["idle"], [Step("idle")], id="idle-until-input"),
        pytest.param(["approve 3"], [Step("approve", 3.0)], id="approve"),
        pytest.param(["ratelimit 1 4pm (UTC)"], [Step("ratelimit", 1.0, "4pm (UTC)")], id="ratelimit"),
        pytest.param(
            ["print FAILED: x; exit 3"], [Step("print", text="FAILED: x"), Step("exit", text="3")], id="seq"
        ),
        pytest.param(["exit"], [Step("exit", text="0")], id="exit-default"),
        pytest.param(["signal term"], [Step("signal", text="term")], id="signal"),
        pytest.param(["# comment", "", "sleep 1 # why"], [Step("sleep", 1.0)], id="comments"),
    ],
)
def test_parse_steps(lines: list[str], steps: list[Step]) -> None:
    assert parse_steps(lines) == steps


@pytest.mark.parametrize(
    "line",
    ["dance", "busy soon", "signal NOPE", "exit three", "sleep"],
    ids=lambda line: line.replace(" ", "-"),
)
def test_parse_errors(line: str) -> None:
    with pytest.raises(ScriptError):
        parse_steps([line])


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("plain é", "plain é", id="plain"),
        pytest.param("a\nb\tc\rd", "a\\nb\\tc\\rd", id="whitespace"),
        pytest.param("\x1b[31m\x01\x7f\\", "\\e[31m\\x01\\x7f\\\\", id="control"),
    ],
)
def test_escape_for_screen(text: str, shown: str) -> None:
    assert escape_for_screen(text) == shown


def test_a_bad_script_is_refused_at_once() -> None:
    result = subprocess.run([*FAKE_AGENT, "--step", "dance"], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "unknown step 'dance'" in result.stderr


async def classify(tmux: ControlClient, pane_id: str) -> Classification:
    snapshot = (await take_snapshot(tmux, capture=lambda pane: pane.pane_id == pane_id)).pane_snapshot(
        pane_id
    )
    assert snapshot is not None
    return CLAUDE_CODE.classify(snapshot)


async def wait_for_activity(tmux: ControlClient, pane_id: str, activity: Activity) -> Classification:
    async def check() -> Classification | None:
        verdict = await classify(tmux, pane_id)
        return verdict if verdict.activity is activity else None

    verdict = await eventually(check)
    assert verdict is not None
    return verdict


async def test_scripted_states_are_classified(tmux: ControlClient) -> None:
    script = "print FAILED tests/test_x.py - Error: boom; busy 1; approve; ratelimit 1 5pm (UTC); idle"
    ref = await tmux.new_window(SESSION, "agent", fake_agent("--step", script))
    busy = await wait_for_activity(tmux, ref.pane_id, Activity.BUSY)
    assert busy.ready and busy.crash is None  # "FAILED … Error" on screen, but the agent is alive
    await wait_for_activity(tmux, ref.pane_id, Activity.WAITING_FOR_INPUT)
    await tmux.send_keys(ref.pane_id, "1")
    limited = await wait_for_activity(tmux, ref.pane_id, Activity.RATE_LIMITED)
    assert limited.rate_limit_resets_at == "5pm (UTC)"
    idle = await wait_for_activity(tmux, ref.pane_id, Activity.IDLE)
    assert idle.ready
    assert "approved" in "\n".join(await tmux.capture_pane(ref.pane_id))


async def test_approval_can_be_declined_with_escape(tmux: ControlClient) -> None:
    ref = await tmux.new_window(SESSION, "agent", fake_agent("--step", "approve; busy"))
    await wait_for_activity(tmux, ref.pane_id, Activity.WAITING_FOR_INPUT)
    await tmux.send_keys(ref.pane_id, "Escape")
    await wait_for_activity(tmux, ref.pane_id, Activity.BUSY)
    await screen_contains(tmux, ref.pane_id, "declined")


async def test_busy_after_each_message(tmux: ControlClient) -> None:
    ref = await tmux.new_window(SESSION, "agent", fake_agent("--busy-on-message", "1"))
    await wait_for_activity(tmux, ref.pane_id, Activity.IDLE)
    await tmux.send_literal(ref.pane_id, "do the thing")
    await tmux.send_enter(ref.pane_id)
    await wait_for_activity(tmux, ref.pane_id, Activity.BUSY)
    await wait_for_activity(tmux, ref.pane_id, Activity.IDLE)
    await screen_contains(tmux, ref.pane_id, "> received: do the thing")


async def test_an_idle_step_waits_for_a_message(tmux: ControlClient) -> None:
    ref = await tmux.new_window(SESSION, "agent", fake_agent("--step", "idle; busy"))
    await wait_for_activity(tmux, ref.pane_id, Activity.IDLE)
    await tmux.send_literal(ref.pane_id, "go")
    await tmux.send_enter(ref.pane_id)
    await wait_for_activity(tmux, ref.pane_id, Activity.BUSY)


async def test_bracketed_paste_keeps_line_breaks(tmux: ControlClient, tmp_path: Path) -> None:
    log = tmp_path / "received.jsonl"
    ref = await tmux.new_window(SESSION, "agent", fake_agent("--log", str(log)))
    await wait_for_activity(tmux, ref.pane_id, Activity.IDLE)
    await tmux.run("set-buffer", "-b", "msg", "line one\nline two\x1b[1m")
    await tmux.run("paste-buffer", "-p", "-d", "-b", "msg", "-t", ref.pane_id)  # LF → CR, in paste brackets
    await tmux.send_enter(ref.pane_id)

    async def received() -> list[str]:
        return [json.loads(line)["text"] for line in log.read_text().splitlines()] if log.exists() else []

    assert await eventually(received) == ["line one\nline two\x1b[1m"]


async def test_each_message_is_answered_by_the_on_message_commands_after_its_work(
    tmux: ControlClient, tmp_path: Path
) -> None:
    """The demo team's developers: read the briefing (the idle step), then work on each further message and
    answer it with a command that sees the message."""
    log = tmp_path / "agent.jsonl"
    answers = tmp_path / "answers.txt"
    command = f'printf "%s|" "$FAKE_AGENT_MESSAGE" >>{answers}'
    ref = await tmux.new_window(
        SESSION,
        "agent",
        fake_agent("--step", "idle", "--busy-on-message", "0.5", "--on-message", command, "--log", str(log)),
    )
    await wait_for_activity(tmux, ref.pane_id, Activity.IDLE)
    for text in ("the briefing, which the idle step waits for", "task: one", "task: two $HOME"):
        await tmux.send_literal(ref.pane_id, text)
        await tmux.send_enter(ref.pane_id)
    await wait_for_activity(tmux, ref.pane_id, Activity.BUSY)

    async def answered() -> str:
        text = answers.read_text() if answers.exists() else ""
        return text if text.count("|") >= 2 else ""

    assert await eventually(answered) == "task: one|task: two $HOME|"  # each once, in order, as written
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["text"] for e in entries if "text" in e][1:] == ["task: one", "task: two $HOME"]
    assert [(e["run"], e["status"]) for e in entries if "run" in e] == [(command, "exit 0")] * 2
    await screen_contains(tmux, ref.pane_id, f"Bash({command})")


@pytest.mark.parametrize(
    ("args", "status", "signal_number"),
    [
        pytest.param(["--step", "exit 3"], 3, None, id="exit-step"),
        pytest.param(["--exit-after", "0.3", "--exit-code", "5"], 5, None, id="exit-after"),
        pytest.param(["--step", "signal TERM"], None, signal.SIGTERM, id="signal-term"),
        pytest.param(["--step", "signal INT"], None, signal.SIGINT, id="signal-int"),
        pytest.param(
            ["--exit-after", "0.2", "--exit-signal", "KILL"], None, signal.SIGKILL, id="exit-after-kill"
        ),
        pytest.param(["--step", "busy 0.2; exit 0"], 0, None, id="clean-exit"),
    ],
)
async def test_exits_with_the_given_status_or_signal(
    tmux: ControlClient, args: list[str], status: int | None, signal_number: int | None
) -> None:
    async with ExitWatcher(tmux) as watcher:
        ref = await tmux.new_window(SESSION, "agent", fake_agent(*args))
        while True:
            event = await watcher.next_event(15)
            if isinstance(event, PaneExited) and event.pane.pane_id == ref.pane_id:
                break
    assert (event.pane.exit_status, event.pane.exit_signal) == (status, signal_number)


async def test_the_subcommand_runs_it(tmux: ControlClient) -> None:
    command = [sys.executable, "-m", "tmux_orchestrator.cli", "fake-agent", "--step", "print via cli; exit 6"]
    async with ExitWatcher(tmux) as watcher:
        ref = await tmux.new_window(SESSION, "agent", command)
        event = await watcher.next_event(15)
    assert isinstance(event, PaneExited)
    assert (event.pane.pane_id, event.pane.exit_status) == (ref.pane_id, 6)
    assert "via cli" in await tmux.capture_pane(ref.pane_id)
