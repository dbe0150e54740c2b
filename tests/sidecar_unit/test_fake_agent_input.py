"""The fake agent's input line: what each input behaviour makes of typed and pasted bytes (pure)."""

from __future__ import annotations

import pytest

from tmux_sidecar.fake_agent_input import (
    InputBehaviour,
    InputEditor,
    KeyPressed,
    Submitted,
)

PASTE = b"\x1b[200~"
END = b"\x1b[201~"
PLAIN = InputBehaviour()
CODEX = InputBehaviour(paste_burst=0.05)
AIDER = InputBehaviour(submit_each_line=True)
CLAUDE = InputBehaviour(collapse_lines=2)
DEAF = InputBehaviour(ignore_enter=True)


@pytest.mark.parametrize(
    ("behaviour", "feeds", "submitted", "draft"),
    [
        pytest.param(PLAIN, [(b"hello\r", 0.0)], ["hello"], "", id="enter-submits"),
        pytest.param(PLAIN, [(b"a\nb\r", 0.0)], ["a\nb"], "", id="ctrl-j-is-a-line-break"),
        pytest.param(
            PLAIN, [(PASTE + b"a\rb" + END, 0.0), (b"\r", 0.3)], ["a\nb"], "", id="paste-then-enter"
        ),
        pytest.param(PLAIN, [(b"\r", 0.0)], [], "", id="empty-enter-sends-nothing"),
        pytest.param(
            PLAIN,
            [("ünï ✓".encode()[:3], 0.0), ("ünï ✓".encode()[3:] + b"\r", 0.0)],
            ["ünï ✓"],
            "",
            id="utf8-split",
        ),
        pytest.param(
            PLAIN,
            [(PASTE[:3], 0.0), (PASTE[3:] + b"x" + END[:2], 0.0), (END[2:] + b"\r", 0.2)],
            ["x"],
            "",
            id="markers-split-across-reads",
        ),
        pytest.param(
            CODEX, [(b"fast text\r", 0.0)], [], "fast text\n", id="codex-enter-right-after-fast-typing"
        ),
        pytest.param(
            CODEX, [(b"fast text", 0.0), (b"\r", 0.02)], [], "fast text\n", id="codex-enter-within-burst"
        ),
        pytest.param(
            CODEX, [(b"fast text", 0.0), (b"\r", 0.3)], ["fast text"], "", id="codex-enter-after-pause"
        ),
        pytest.param(
            CODEX, [(PASTE + b"pasted" + END, 0.0), (b"\r", 0.2)], ["pasted"], "", id="codex-bracketed-paste"
        ),
        pytest.param(CODEX, [(b"h", 0.0), (b"i", 0.2), (b"\r", 0.21)], ["hi"], "", id="codex-slow-typing"),
        pytest.param(AIDER, [(b"one\ntwo\r", 0.0)], ["one", "two"], "", id="aider-each-typed-line"),
        pytest.param(
            AIDER, [(PASTE + b"one\rtwo" + END, 0.0), (b"\r", 0.2)], ["one\ntwo"], "", id="aider-paste-is-one"
        ),
        pytest.param(DEAF, [(PASTE + b"text" + END, 0.0), (b"\r", 0.2), (b"\r", 1.2)], [], "text", id="deaf"),
        pytest.param(
            CLAUDE,
            [(PASTE + b"1\r2\r3" + END, 0.0), (b"\r", 0.2)],
            ["1\n2\n3"],
            "",
            id="collapsed-paste-full-text",
        ),
    ],
)
def test_input_behaviours(
    behaviour: InputBehaviour, feeds: list[tuple[bytes, float]], submitted: list[str], draft: str
) -> None:
    editor = InputEditor(behaviour)
    events = [event for data, now in feeds for event in editor.feed(data, now)]
    assert events == [Submitted(text) for text in submitted]
    assert editor.draft == draft


@pytest.mark.parametrize(
    ("behaviour", "pasted", "width", "shown"),
    [
        pytest.param(CLAUDE, b"1\r2\r3", 40, ["> [Pasted text #1 +2 lines]"], id="collapsed"),
        pytest.param(CLAUDE, b"1\r2", 40, ["> 1", "  2"], id="short-paste-shown"),
        pytest.param(PLAIN, b"tab\there \\ ok", 40, ["> tab\\there \\ ok"], id="controls-escaped"),
        pytest.param(PLAIN, b"x" * 12, 10, ["> xxxxxxxx", "xxxx"], id="wrapped"),
    ],
)
def test_display(behaviour: InputBehaviour, pasted: bytes, width: int, shown: list[str]) -> None:
    editor = InputEditor(behaviour)
    editor.feed(PASTE + pasted + END, 0.0)
    assert editor.display_rows("> ", width) == shown


def test_collapsed_pastes_are_numbered() -> None:
    editor = InputEditor(CLAUDE)
    editor.feed(PASTE + b"a\rb\rc" + END + b" and " + PASTE + b"d\re\rf" + END, 0.0)
    assert editor.display_lines() == ["[Pasted text #1 +2 lines] and [Pasted text #2 +2 lines]"]
    assert editor.feed(b"\r", 1.0) == [Submitted("a\nb\nc and d\ne\nf")]


def test_escape_key_after_the_delay_and_captured_keys() -> None:
    editor = InputEditor(PLAIN, capture_keys=True)
    assert editor.feed(b"\x1b", 0.0) == [] and editor.holding  # may begin a paste marker
    assert editor.flush(0.06) == [KeyPressed("\x1b")]
    assert editor.feed(b"1", 0.1) == [KeyPressed("1")]
