"""A tmux buffer loaded through the control client holds exactly the text, whatever its bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.messages import MESSAGES
from tmux_sidecar.tmux.control import ControlClient
from tmux_sidecar.tmux.paste import buffer_commands, paste_text

from .conftest import SESSION, eventually

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


async def test_a_paste_into_a_dead_pane_leaves_the_tmux_server_running(tmux: ControlClient) -> None:
    """tmux 3.3a exits on `paste-buffer` into a pane kept dead by remain-on-exit: the paste is skipped."""
    await tmux.run("set-option", "-g", "-w", "remain-on-exit", "on")
    pane = await tmux.new_window(SESSION, "dies", ["sh", "-c", "exit 3"])
    await eventually(lambda: _dead(tmux, pane.pane_id))
    await paste_text(tmux, pane.pane_id, "hello", "probe-dead")
    assert await _dead(tmux, pane.pane_id)  # the server still answers, the pane is as it was
    assert "probe-dead" not in "".join(await tmux.run("list-buffers", "-F", "#{buffer_name}"))


async def _dead(tmux: ControlClient, pane_id: str) -> bool:
    return list(await tmux.run("display-message", "-p", "-t", pane_id, "#{pane_dead}")) == ["1"]
