"""A tmux buffer loaded through the control client holds exactly the text, whatever its bytes."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from support.messages import MESSAGES
from tmux_sidecar.tmux.control import ControlClient
from tmux_sidecar.tmux.paste import PaneDeadError, buffer_commands, paste_text

from .conftest import SESSION, eventually, screen_contains

CONTROL_CHARACTERS = "".join(chr(code) for code in range(1, 32)) + "\x7f"
HOSTILE = [
    *MESSAGES,
    "quotes ' \" `back` $(date) ${HOME} $HOME ~ ~/x; ls && rm -rf / #{pane_id} #(date) ## %1 \\ \\\\ {a}",
    "controls " + CONTROL_CHARACTERS + " end",
    "-n starts like an option",
    "non-BMP 🙂𝄞 and combining é " + "ü" * 3000,  # more than one chunk, multi-byte all along
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda text: repr(text[:12]))
async def test_buffer_holds_exactly_the_text(tmux: ControlClient, tmp_path: Path, text: str) -> None:
    for result in await tmux.run_many(buffer_commands("probe", text)):
        result.check()
    saved = tmp_path / "buffer"
    await tmux.run("save-buffer", "-b", "probe", str(saved))
    assert saved.read_bytes() == text.encode()


def test_empty_text_and_unsafe_buffer_names_are_refused() -> None:
    with pytest.raises(ValueError, match="nothing to paste"):
        buffer_commands("probe", "")
    with pytest.raises(ValueError, match="unsafe tmux name"):
        buffer_commands("a;b", "text")


async def test_a_paste_into_an_exited_agent_leaves_the_tmux_server_and_other_agents_alive(
    tmux: ControlClient,
) -> None:
    # tmux 3.3a exits when paste-buffer targets a dead pane: an agent that dies while a message is being
    # typed must not take every other agent's window with it.
    await tmux.run("set-option", "-g", "remain-on-exit", "on")
    neighbour = await tmux.new_window(SESSION, "neighbour", ["cat"])
    victim = await tmux.new_window(SESSION, "victim", ["sleep", "60"])
    os.kill(victim.pid, signal.SIGKILL)

    async def victim_dead() -> bool:
        return (await tmux.run("display-message", "-p", "-t", victim.pane_id, "#{pane_dead}")) == ("1",)

    await eventually(victim_dead)
    with pytest.raises(PaneDeadError):
        await paste_text(tmux, victim.pane_id, "hello", "probe-dead")
    await paste_text(tmux, neighbour.pane_id, "still here", "probe-alive")
    await screen_contains(tmux, neighbour.pane_id, "still here")
    assert await tmux.run("list-buffers", "-F", "#{buffer_name}") == ()
