"""The control-mode client against a real tmux server: pipelining, the typed API, exact typing."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tmux_sidecar.delivery import message_text
from tmux_sidecar.fake_agent import escape_for_screen
from tmux_sidecar.tmux.control import ControlClient, ControlClosedError, PaneRef, TmuxCommandError
from tmux_sidecar.tmux.windows import NewWindow

from .conftest import SESSION, eventually, fake_agent, screen_contains

# A program that records its argv, working directory and environment as JSON in $OUT.
ARGV_RECORDER = (
    "import json, os, sys; "
    "record = {'argv': sys.argv[1:], 'cwd': os.getcwd(), 'env': dict(os.environ)}; "
    "json.dump(record, open(os.environ['OUT'], 'w'))"
)


async def test_pipelined_replies_come_back_in_order(tmux: ControlClient) -> None:
    results = await tmux.run_many([("display-message", "-p", f"reply {i}") for i in range(300)])
    assert [r.lines for r in results] == [(f"reply {i}",) for i in range(300)]


async def test_concurrent_callers_each_get_their_own_reply(tmux: ControlClient) -> None:
    replies = await asyncio.gather(*(tmux.display(f"caller {i}") for i in range(100)))
    assert replies == [f"caller {i}" for i in range(100)]


async def test_a_failed_command_does_not_shift_later_replies(tmux: ControlClient) -> None:
    ok, bad, after = await tmux.run_many(
        [("display-message", "-p", "first"), ("no-such-command",), ("display-message", "-p", "third")]
    )
    assert (ok.failed, ok.lines) == (False, ("first",))
    assert bad.failed and "unknown command" in bad.lines[0]
    assert (after.failed, after.lines) == (False, ("third",))
    with pytest.raises(TmuxCommandError, match="can't find session"):
        await tmux.run("kill-session", "-t", "=does-not-exist")


async def test_an_empty_batch_sends_nothing(tmux: ControlClient) -> None:
    # An empty line would make tmux detach the control client.
    assert await tmux.run_many([]) == []
    assert await tmux.display("still here") == "still here"


async def test_server_info(tmux: ControlClient) -> None:
    assert tmux.info.version.startswith("3.")
    assert tmux.info.control_window_id.startswith("@")
    assert tmux.info.pid > 0


async def test_sessions_are_matched_exactly(tmux: ControlClient) -> None:
    assert await tmux.has_session(SESSION)
    assert not await tmux.has_session(SESSION[:-1])  # tmux alone would match a prefix


async def run_recorder(
    tmux: ControlClient,
    tmp_path: Path,
    command: list[str],
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> dict[str, Any]:
    out = tmp_path / "recorded.json"
    await tmux.new_window(SESSION, "recorder", command, env={"OUT": str(out), **(env or {})}, cwd=cwd)

    async def recorded() -> dict[str, Any] | None:
        return json.loads(out.read_text()) if out.exists() and out.stat().st_size else None

    result = await eventually(recorded)
    assert result is not None
    return result


async def test_argv_reaches_the_program_exactly(tmux: ControlClient, tmp_path: Path) -> None:
    args = ["a b", "c;d", "$HOME", "~", "#{pane_id}", '"q"', "'s'", "\\", "\t", "é"]
    recorded = await run_recorder(tmux, tmp_path, [sys.executable, "-c", ARGV_RECORDER, *args])
    assert recorded["argv"] == args


async def test_a_one_word_command_is_a_program_not_a_shell_line(tmux: ControlClient, tmp_path: Path) -> None:
    program = tmp_path / "my agent;$(x) #{y}"
    program.write_text(f"#!{sys.executable}\n{ARGV_RECORDER}\n")
    program.chmod(0o755)
    recorded = await run_recorder(tmux, tmp_path, [str(program)])
    assert recorded["argv"] == []


async def test_environment_and_working_directory_are_literal(tmux: ControlClient, tmp_path: Path) -> None:
    workdir = tmp_path / "dir #{pane_id} $x ;"
    workdir.mkdir()
    value = "v $HOME #{pane_id} ; \"q\" 'z' \\ ~"
    recorded = await run_recorder(
        tmux, tmp_path, [sys.executable, "-c", ARGV_RECORDER], env={"FOO": value}, cwd=str(workdir)
    )
    assert recorded["cwd"] == str(workdir)
    assert recorded["env"]["FOO"] == value


async def test_window_user_options_and_respawn(tmux: ControlClient) -> None:
    options = {"@orchestrator-agent-uid": "uid-1 ;#{x}", "@orchestrator-revision": "r1"}
    ref = await tmux.new_window(SESSION, "agent", ["sleep", "60"], user_options=options)
    fmt = "#{pane_id} #{window_id} #{pane_pid} #{@orchestrator-agent-uid}|#{@orchestrator-revision}"
    assert f"{ref.pane_id} {ref.window_id} {ref.pid} uid-1 ;#{{x}}|r1" in await tmux.list_panes(fmt)

    again = await tmux.respawn_pane(ref.pane_id, ["sleep", "30"])
    assert (again.pane_id, again.window_id) == (ref.pane_id, ref.window_id)
    assert again.pid != ref.pid
    await tmux.set_window_options(ref.window_id, {"@orchestrator-revision": "r2"})
    assert f"{ref.pane_id} {ref.window_id} {again.pid} uid-1 ;#{{x}}|r2" in await tmux.list_panes(fmt)

    await tmux.kill_window(ref.window_id)
    assert not any(line.startswith(ref.pane_id + " ") for line in await tmux.list_panes(fmt))


async def test_many_windows_at_once_each_once_with_its_own_options(tmux: ControlClient) -> None:
    windows = [
        NewWindow(
            SESSION, f"agent-{i}", ["sleep", "60"], user_options={"@orchestrator-agent-uid": f"uid-{i}"}
        )
        for i in range(40)
    ]
    windows.insert(7, NewWindow("no-such-session", "lost", ["sleep", "60"], user_options={"@x": "y"}))
    results = await tmux.new_windows(windows)
    failed = results.pop(7)
    assert isinstance(failed, TmuxCommandError) and "no-such-session" in str(failed)
    refs = [r for r in results if isinstance(r, PaneRef)]
    assert len(refs) == 40
    listing = await tmux.list_panes("#{window_name} #{window_id} #{pane_pid} #{@orchestrator-agent-uid}")
    agents = sorted(line for line in listing if line.startswith("agent-"))
    expected = sorted(f"agent-{i} {ref.window_id} {ref.pid} uid-{i}" for i, ref in enumerate(refs))
    assert agents == expected  # every window once, running, tagged as its own
    with pytest.raises(ValueError):  # nothing is sent when one of them cannot reach tmux
        await tmux.new_windows([NewWindow(SESSION, "fine", ["true"]), NewWindow(SESSION, "x; y", ["true"])])
    assert not any(line.startswith("fine ") for line in await tmux.list_panes("#{window_name} "))


async def test_unsafe_names_never_reach_tmux(tmux: ControlClient) -> None:
    with pytest.raises(ValueError):
        await tmux.new_window(SESSION, "x; kill-server", ["true"])
    with pytest.raises(ValueError):
        await tmux.send_literal("%1; kill-server", "x")
    assert await tmux.has_session(SESSION)


# Hostile messages: each must arrive at the program as exactly this text.
MESSAGES = [
    pytest.param("hello world", id="plain"),
    pytest.param("a;b ; c \\;", id="semicolons"),
    pytest.param("#{pane_id} #(id) ## #[fg=red]", id="tmux-format-syntax"),
    pytest.param("\"double\" 'single' `back`", id="quotes"),
    pytest.param("back\\slash \\n \\033 \\\\", id="backslashes"),
    pytest.param("$HOME ${PATH} ~ ~root", id="shell-expansions"),
    pytest.param("\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b[2J", id="escape-sequences"),
    pytest.param("ctl \x01\x02\x03\x04\x08\x0b\x0c\x0e\x11\x13\x16\x1a\x1c\x1f\x7f end", id="control-chars"),
    pytest.param("Enter C-c Escape BSpace", id="key-names-stay-words"),
    pytest.param("first line\nsecond line\n\nfourth", id="newlines-typed-as-lf"),
    pytest.param("tab\there é 日本 🎉", id="tabs-and-unicode"),
    pytest.param("x" * 5000, id="long-text"),
]


@pytest.mark.parametrize("message", MESSAGES)
async def test_send_literal_delivers_exactly(tmux: ControlClient, tmp_path: Path, message: str) -> None:
    log = tmp_path / "received.jsonl"
    ref = await tmux.new_window(SESSION, "agent", fake_agent("--log", str(log)))
    await screen_contains(tmux, ref.pane_id, "? for shortcuts")

    await tmux.send_literal(ref.pane_id, message)
    await tmux.send_enter(ref.pane_id)

    async def received() -> list[str]:
        return [json.loads(line)["text"] for line in log.read_text().splitlines()] if log.exists() else []

    assert await eventually(received) == [message]
    if len(message) < 60:  # the echo fits on one screen line
        await screen_contains(tmux, ref.pane_id, "> received: " + escape_for_screen(message))


async def test_a_carriage_return_is_the_enter_key(tmux: ControlClient, tmp_path: Path) -> None:
    # Why message_text() turns CR into LF: typed raw, a CR submits the first half on its own.
    log = tmp_path / "received.jsonl"
    ref = await tmux.new_window(SESSION, "agent", fake_agent("--log", str(log)))
    await screen_contains(tmux, ref.pane_id, "? for shortcuts")
    await tmux.send_literal(ref.pane_id, "one\rtwo")
    await tmux.send_literal(ref.pane_id, message_text("\rthree\r\nfour"))
    await tmux.send_enter(ref.pane_id)

    async def received() -> list[str]:
        lines = log.read_text().splitlines() if log.exists() else []
        return [json.loads(line)["text"] for line in lines] if len(lines) == 2 else []

    assert await eventually(received) == ["one", "two\nthree\nfour"]


async def test_send_literal_leaves_copy_mode_first(tmux: ControlClient, tmp_path: Path) -> None:
    log = tmp_path / "received.jsonl"
    ref = await tmux.new_window(SESSION, "agent", fake_agent("--log", str(log)))
    await screen_contains(tmux, ref.pane_id, "? for shortcuts")
    await tmux.run("copy-mode", "-t", ref.pane_id)
    assert await tmux.display("#{pane_in_mode}", ref.pane_id) == "1"
    await tmux.send_literal(ref.pane_id, "q still typed")
    # the next command gets its own reply (leaving the mode added no stray reply block)
    assert await tmux.display("#{pane_in_mode}", ref.pane_id) == "0"
    await tmux.send_enter(ref.pane_id)
    await screen_contains(tmux, ref.pane_id, "> received: q still typed")


async def test_capture_with_scrollback(tmux: ControlClient) -> None:
    printer = "import time\nfor i in range(80): print(f'line{i}', flush=True)\ntime.sleep(60)"
    ref = await tmux.new_window(SESSION, "printer", [sys.executable, "-c", printer])
    await screen_contains(tmux, ref.pane_id, "line79")
    visible = await tmux.capture_pane(ref.pane_id)
    assert len(visible) == 40 and "line0\n" not in "\n".join(visible) + "\n"
    with_history = await tmux.capture_pane(ref.pane_id, scrollback=100)
    assert "line0" in with_history and with_history.index("line79") > with_history.index("line0")


async def test_a_killed_server_closes_the_connection(tmux: ControlClient, tmux_socket: str) -> None:
    subscription = tmux.subscribe()
    subprocess.run(["tmux", "-L", tmux_socket, "kill-server"], check=True)
    await asyncio.wait_for(tmux.wait_closed(), 10)
    names = [note.name async for note in subscription]
    assert "exit" in names
    with pytest.raises(ControlClosedError):
        await tmux.display("x")


async def test_close_detaches_and_keeps_the_server(tmux_socket: str) -> None:
    client = await ControlClient.connect(tmux_socket, config_file="/dev/null")
    await client.new_session("keep")
    await client.close()
    assert client.closed
    async with await ControlClient.connect(tmux_socket) as again:
        assert await again.has_session("keep")
        assert again.info.control_window_id == client.info.control_window_id  # the same control session
