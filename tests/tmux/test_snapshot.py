"""Whole-server snapshots: the list-panes record format and one observation pass on a real server."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from tmux_orchestrator.api.agent import Activity
from tmux_sidecar.classification import PaneSnapshot
from tmux_sidecar.profile_plugins import load_profile
from tmux_sidecar.tmux.control import ControlClient
from tmux_sidecar.tmux.events import ExitWatcher, PaneExited
from tmux_sidecar.tmux.snapshot import (
    AGENT_UID_OPTION,
    PANE_FORMAT,
    REVISION_OPTION,
    UNCHANGED_COMMAND,
    PaneInfo,
    ServerSnapshot,
    parse_pane_records,
    parse_panes,
    take_snapshot,
    unchanged_since,
)

from .conftest import SESSION, eventually, fake_agent, screen_contains

FIELDS = PANE_FORMAT.count("#{")


def record(*values: str) -> str:
    return "".join(value + "\x1f" for value in values) + "\x1e"


def test_parse_a_record() -> None:
    values = ["%3", "@2", "team", "dev-0", "0", "4242", "1", "", "9", "1700000000", "claude", "1700000001"]
    values += ["uid-1", "r7", ""]
    assert len(values) == FIELDS
    (pane,) = parse_panes([record(*values)])
    assert (pane.pane_id, pane.window_id, pane.session_name, pane.window_name) == (
        "%3",
        "@2",
        "team",
        "dev-0",
    )
    assert (pane.pid, pane.dead, pane.exit_status, pane.exit_signal, pane.dead_time) == (
        4242,
        True,
        None,
        9,
        1700000000,
    )
    assert (pane.agent_uid, pane.revision, pane.restarted_at) == ("uid-1", "r7", None)
    assert pane.exit_known
    assert pane.process.exit_signal == 9


def test_a_newline_in_a_value_does_not_shift_records() -> None:
    base = ["0", "1", "0", "", "", "", "bash", "", "", "", ""]
    first = record("%1", "@1", "s", "name with\nnewline", *base)
    second = record("%2", "@2", "s", "plain", *base)
    lines = (first + "\n" + second).split("\n")  # as tmux prints them: one line per record, split again
    panes = parse_panes(lines)
    assert [(p.pane_id, p.window_name) for p in panes] == [("%1", "name with\nnewline"), ("%2", "plain")]


def test_malformed_records_are_skipped() -> None:
    assert parse_panes(["garbage", record("%1", "too", "few")]) == []


async def test_one_pass_sees_every_pane_with_its_screen_and_options(tmux: ControlClient) -> None:
    async with ExitWatcher(tmux) as watcher:
        idle = await tmux.new_window(
            SESSION, "idle", fake_agent(), user_options={AGENT_UID_OPTION: "u-idle", REVISION_OPTION: "r1"}
        )
        busy = await tmux.new_window(SESSION, "busy", fake_agent("--step", "busy 60 Compiling"))
        crashed = await tmux.new_window(
            SESSION, "crashed", fake_agent("--step", "print Traceback (most recent call last):; exit 4")
        )
        await screen_contains(tmux, idle.pane_id, "? for shortcuts")
        await screen_contains(tmux, busy.pane_id, "esc to interrupt")
        while True:
            event = await watcher.next_event(15)
            if isinstance(event, PaneExited) and event.pane.pane_id == crashed.pane_id:
                break

    snapshot = await take_snapshot(tmux)
    by_id = snapshot.by_id
    assert {idle.pane_id, busy.pane_id, crashed.pane_id} <= set(by_id)
    assert (by_id[idle.pane_id].agent_uid, by_id[idle.pane_id].revision) == ("u-idle", "r1")
    assert by_id[idle.pane_id].pid == idle.pid and not by_id[idle.pane_id].dead
    assert by_id[crashed.pane_id].dead and by_id[crashed.pane_id].exit_status == 4

    profile = load_profile("claude-code")
    verdicts = {}
    for pane_id in (idle.pane_id, busy.pane_id, crashed.pane_id):
        pane_snapshot = snapshot.pane_snapshot(pane_id)
        assert pane_snapshot is not None
        verdicts[pane_id] = profile.classify(pane_snapshot)
    assert verdicts[idle.pane_id].activity is Activity.IDLE
    assert verdicts[busy.pane_id].activity is Activity.BUSY
    crash = verdicts[crashed.pane_id].crash
    assert crash is not None and crash.exit_code == 4
    assert "Traceback (most recent call last):" in crash.last_lines
    assert not any(line.startswith("Pane is dead") for line in crash.last_lines)


async def test_capture_can_be_limited_to_some_panes(tmux: ControlClient) -> None:
    ref = await tmux.new_window(SESSION, "agent", fake_agent())
    snapshot = await take_snapshot(tmux, capture=lambda pane: pane.pane_id == ref.pane_id)
    assert set(snapshot.screens) == {ref.pane_id}
    assert len(snapshot.panes) >= 3  # the control pane and the session's first pane too


async def test_a_pane_closed_during_the_pass_is_left_out_of_the_screens(tmux: ControlClient) -> None:
    ref = await tmux.new_window(SESSION, "agent", ["sleep", "60"])

    def close_it_first(pane: PaneInfo) -> bool:
        # Runs between list-panes and capture-pane: the window goes away in between.
        if pane.pane_id == ref.pane_id:
            subprocess.run(["tmux", *tmux.socket_args, "kill-window", "-t", ref.window_id], check=True)
        return True

    snapshot = await take_snapshot(tmux, capture=close_it_first)
    assert ref.pane_id in snapshot.by_id
    assert ref.pane_id not in snapshot.screens
    assert snapshot.pane_snapshot(ref.pane_id) is None
    assert len(snapshot.screens) == len(snapshot.panes) - 1


async def test_session_scope(tmux: ControlClient) -> None:
    await tmux.new_session("other")
    snapshot = await take_snapshot(tmux, session="other")
    assert {pane.session_name for pane in snapshot.panes} == {"other"}


def pane_record(pane_id: str, pid: str, dead: str, activity: str) -> str:
    return record(pane_id, "@1", "s", "w", "0", pid, dead, "", "", "", "claude", activity, "u", "r", "")


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(pane_record("%1", "10", "0", "99"), True, id="quiet-since-before"),
        pytest.param(pane_record("%1", "10", "0", "100"), False, id="output-in-the-same-second"),
        pytest.param(pane_record("%1", "10", "0", "101"), False, id="output-after"),
        pytest.param(pane_record("%1", "11", "0", "99"), False, id="new-process"),
        pytest.param(pane_record("%1", "10", "1", "99"), False, id="died"),
        pytest.param(pane_record("%2", "10", "0", "99"), False, id="not-seen-before"),
        pytest.param(pane_record("%1", "10", "0", ""), False, id="activity-unknown"),
    ],
)
def test_unchanged_since(now: str, expected: bool) -> None:
    (before,) = parse_panes([pane_record("%1", "10", "0", "99")])
    previous = ServerSnapshot(taken_at=100.7, panes=(before,), screens={"%1": ("old screen",)})
    (pane,) = parse_panes([now])
    assert unchanged_since(previous, pane) is expected


async def test_a_pass_reuses_screens_that_cannot_have_changed(tmux: ControlClient) -> None:
    quiet = await tmux.new_window(SESSION, "quiet", fake_agent())
    ticking = await tmux.new_window(SESSION, "ticking", fake_agent("--step", "busy"))
    await screen_contains(tmux, quiet.pane_id, "? for shortcuts")
    await screen_contains(tmux, ticking.pane_id, "esc to interrupt")
    first = await take_snapshot(tmux)
    # Fake, recognisable screens in `first`: whatever is kept in the next pass comes from here.
    marked = ServerSnapshot(first.taken_at + 1.5, first.panes, {k: ("kept",) for k in first.screens})
    await asyncio.sleep(2.2)  # the quiet agent prints nothing; the busy one ticks every second
    second = await take_snapshot(tmux, previous=marked)
    assert second.screens[quiet.pane_id] == ("kept",)
    assert second.screens[ticking.pane_id] != ("kept",)
    assert any("esc to interrupt" in line for line in second.screens[ticking.pane_id])


async def test_a_pass_reads_the_command_of_panes_that_printed_or_restarted_and_keeps_the_others(
    tmux: ControlClient,
) -> None:
    """tmux reads a pane's foreground command from /proc, half the cost of listing hundreds of panes; a
    pass after the first reads it only for panes that printed something or run a new process."""
    quiet = await tmux.new_window(SESSION, "quiet", ["sleep", "600"])
    shell = await tmux.new_window(SESSION, "shell", ["env", "PS1=ready> ", "sh"])
    restarted = await tmux.new_window(SESSION, "restarted", ["sleep", "600"])
    await screen_contains(tmux, shell.pane_id, "ready>")
    created = time.time()
    await eventually(_async(lambda: time.time() >= int(created) + 1.2))  # every window quiet before `first`
    first = await take_snapshot(tmux)
    assert first.by_id[shell.pane_id].process.current_command == "sh"
    # Recognisable commands in `first`: a command kept in the next pass comes from here.
    marked = ServerSnapshot(
        first.taken_at,
        tuple(replace(p, process=replace(p.process, current_command="kept")) for p in first.panes),
        first.screens,
    )
    await tmux.send_literal(shell.pane_id, "sleep 600\r")  # the shell echoes it: output
    await tmux.respawn_pane(restarted.pane_id, ["cat"])  # a new process that prints nothing
    await eventually(_async(lambda: time.time() >= int(first.taken_at) + 1.2))

    async def shell_runs_sleep() -> ServerSnapshot | None:
        second = await take_snapshot(tmux, previous=marked)
        return second if second.by_id[shell.pane_id].process.current_command == "sleep" else None

    second = await eventually(shell_runs_sleep)
    assert second.by_id[quiet.pane_id].process.current_command == "kept"
    assert second.by_id[restarted.pane_id].process.current_command == "cat"
    profile = load_profile("shell")
    reading = profile.classify(
        PaneSnapshot(second.screens[shell.pane_id], second.by_id[shell.pane_id].process)
    )
    assert reading.activity is Activity.BUSY


def _async(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def wrapped() -> bool:
        return check()

    return wrapped


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        pytest.param(("10", "0"), "claude", id="same-live-process"),
        pytest.param(("11", "0"), UNCHANGED_COMMAND, id="another-process"),
        pytest.param(("10", "1"), UNCHANGED_COMMAND, id="was-dead"),
        pytest.param(None, UNCHANGED_COMMAND, id="not-seen-before"),
    ],
)
def test_an_unchanged_command_comes_from_the_same_process_only(
    before: tuple[str, str] | None, expected: str
) -> None:
    previous = (
        {} if before is None else {p.pane_id: p for p in parse_panes([pane_record("%1", *before, "5")])}
    )
    now = record("%1", "@1", "s", "w", "0", "10", "0", "", "", "", UNCHANGED_COMMAND, "5", "u", "r", "")
    (pane,) = parse_panes([now], previous)
    assert pane.process.current_command == expected


def test_a_record_printed_again_is_not_parsed_again() -> None:
    same = pane_record("%1", "10", "0", "5")
    changed = pane_record("%2", "11", "0", "6")
    known_pane = PaneInfo("%1", window_name="as parsed last pass")
    known = {
        same.removesuffix("\x1e"): known_pane,
        pane_record("%2", "11", "0", "5").removesuffix("\x1e"): known_pane,
    }
    (first, kept), (_, parsed) = parse_pane_records([same, changed], known=known)
    assert kept is known_pane and first in known
    assert (parsed.pane_id, parsed.pid, parsed.window_activity) == ("%2", 11, 6)
