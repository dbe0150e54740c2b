"""Command-line building: quoting checked against tmux's own parser, names, argv handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from tmux_sidecar.tmux.commands import (
    command_line,
    format_literal,
    program_arguments,
    quote_argument,
    require_safe_name,
    safe_name,
    session_target,
)
from tmux_sidecar.tmux.control import ControlClient

HOSTILE = [
    pytest.param("plain", id="plain"),
    pytest.param("", id="empty"),
    pytest.param("a b  c", id="spaces"),
    pytest.param("semi;colon \\; end;", id="semicolons"),
    pytest.param("\"double\" and 'single'", id="quotes"),
    pytest.param("back\\slash\\\\ \\n \\033", id="backslashes"),
    pytest.param("$HOME ${HOME} $", id="dollars"),
    pytest.param("~ ~root x~", id="tildes"),
    pytest.param("#{pane_id} #(echo hi) ## #", id="format-syntax"),
    pytest.param("{ braces } %if 1", id="braces-and-directives"),
    pytest.param("\x01\x07\x08\t\n\r\x1b[31m\x7f", id="control-characters"),
    pytest.param("\x1b]0;title\x07\x1b[2J", id="escape-sequences"),
    pytest.param("\x01" + "11" + "\x1b" + "7", id="octal-followed-by-digits"),
    pytest.param("é 日本 🎉 \u200b", id="unicode"),
]


@pytest.mark.parametrize("value", HOSTILE)
async def test_quoted_argument_reaches_tmux_unchanged(
    tmux: ControlClient, tmp_path: Path, value: str
) -> None:
    # set-buffer stores its argument as given and save-buffer writes it out byte for byte; the brackets
    # show the boundaries (and make an empty value a buffer at all).
    target = tmp_path / "buffer"
    await tmux.run("set-buffer", "-b", "probe", f"<{value}>")
    await tmux.run("save-buffer", "-b", "probe", str(target))
    assert target.read_bytes().decode() == f"<{value}>"


def test_nul_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        quote_argument("a\0b")


def test_command_line_quotes_every_argument() -> None:
    assert command_line("send-keys", "-l", "a;b") == 'send-keys "-l" "a;b"'


def test_command_name_is_validated() -> None:
    with pytest.raises(ValueError):
        command_line("kill-server; run-shell", "x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("dev-0", "dev-0", id="already-safe"),
        pytest.param("team:pm.1", "team_pm_1", id="target-separators"),
        pytest.param("a b;c$#{x}", "a_b_c___x_", id="specials"),
        pytest.param("--x", "x", id="leading-dash"),
        pytest.param("", "agent", id="empty"),
        pytest.param("日本", "__", id="non-ascii"),
        pytest.param("x" * 100, "x" * 64, id="long"),
    ],
)
def test_safe_name(text: str, expected: str) -> None:
    assert safe_name(text) == expected
    assert require_safe_name(expected) == expected


@pytest.mark.parametrize("name", ["a:b", "a.b", "", "-x", "a b", "=x"])
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        session_target(name)


def test_format_literal_doubles_hashes() -> None:
    assert format_literal("/srv/#{x}#") == "/srv/##{x}##"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["claude"], ["exec claude"], id="single-word-is-exec"),
        pytest.param(["my agent; rm -rf /"], ["exec 'my agent; rm -rf /'"], id="single-word-is-not-shell"),
        pytest.param(["claude", "--model", "x y"], ["claude", "--model", "x y"], id="argv-passed-as-is"),
    ],
)
def test_program_arguments(argv: list[str], expected: list[str]) -> None:
    assert program_arguments(argv) == expected


@pytest.mark.parametrize("argv", [[], [""], ["claude", ""]])
def test_program_arguments_refuse_empty(argv: list[str]) -> None:
    with pytest.raises(ValueError):
        program_arguments(argv)
