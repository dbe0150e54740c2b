"""The fake agent's input line: what it makes of the bytes typed or pasted into its terminal.

Like a real terminal UI it reads raw bytes and does no line editing. By default CR (the Enter key) submits,
LF (Ctrl-J) is a line break inside the message, bracketed paste is understood (line breaks in a paste never
submit) and every other byte is part of the message; an Enter on an empty input does nothing. The input
behaviours of the real CLIs can be switched on, so delivery is tested against them without the real CLIs:

- paste burst (Codex): an Enter that arrives within `paste_burst` seconds after fast typed text is taken as
  part of a paste and inserts a line break; nothing is submitted.
- submit each line (Aider): a typed line break (CR or LF, outside a bracketed paste) submits the line.
- collapsed pastes (Claude Code): a paste of more than `collapse_lines` lines is shown in the input as
  `[Pasted text #N +K lines]`; the message keeps the full text.
- ignore Enter: Enter does nothing, the text stays in the input (a frozen or confused agent).

Only the standard library is imported (the fake agent starts in a few tens of milliseconds).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

PASTE_START = b"\x1b[200~"
PASTE_END = b"\x1b[201~"
# A lone ESC (the Escape key) could be the start of a paste marker; it is taken as typed after this long.
ESCAPE_DELAY = 0.05
# Typed characters closer together than this are "fast typing" (no person types that fast).
FAST_TYPING_GAP = 0.01
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}


@dataclass(frozen=True)
class InputBehaviour:
    paste_burst: float = 0.0  # seconds; 0: off
    submit_each_line: bool = False
    collapse_lines: int = 0  # 0: off
    ignore_enter: bool = False


@dataclass(frozen=True)
class Submitted:
    """A message the agent took."""

    text: str


@dataclass(frozen=True)
class KeyPressed:
    """A typed character while keys are captured (an approval prompt answers single keys)."""

    key: str


InputEvent = Submitted | KeyPressed


@dataclass
class _Segment:
    text: str
    paste_number: int = 0  # > 0: a paste shown collapsed


@dataclass
class InputEditor:
    behaviour: InputBehaviour = field(default_factory=InputBehaviour)
    capture_keys: bool = False  # set while an approval prompt waits for a key
    segments: list[_Segment] = field(default_factory=list)
    _raw: bytes = b""
    _in_paste: bool = False
    _paste: str = ""
    _pastes: int = 0
    _last_typed_at: float | None = None
    _fast_run: int = 0
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace")
    )

    @property
    def draft(self) -> str:
        """The text in the input now (a paste still arriving included)."""
        return "".join(segment.text for segment in self.segments) + self._paste

    @property
    def holding(self) -> bool:
        """Bytes are held back because they may begin a paste marker (see `flush`)."""
        return bool(self._raw)

    def display_lines(self) -> list[str]:
        """The input as drawn: lines of the draft, collapsed pastes as placeholders, control characters
        escaped."""
        shown = []
        for segment in self.segments:
            if segment.paste_number:
                breaks = segment.text.count("\n")
                shown.append(f"[Pasted text #{segment.paste_number} +{breaks} lines]")
            else:
                shown.append(segment.text)
        shown.append(self._paste)
        return [_escape_controls(line) for line in "".join(shown).split("\n")]

    def display_rows(self, prompt: str, width: int) -> list[str]:
        """`display_lines` after `prompt`, wrapped at `width` columns like a terminal UI wraps its input."""
        rows = []
        indent = " " * len(prompt)
        for index, line in enumerate(self.display_lines()):
            row = (prompt if index == 0 else indent) + line
            rows += [row[start : start + width] for start in range(0, max(len(row), 1), width)]
        return rows

    def feed(self, data: bytes, now: float) -> list[InputEvent]:
        """Bytes typed or pasted into the terminal at `now` (seconds, monotonic)."""
        events: list[InputEvent] = []
        self._raw += data
        while self._raw:
            marker = PASTE_END if self._in_paste else PASTE_START
            at = self._raw.find(marker)
            if at < 0:
                keep = _partial_marker_length(self._raw, marker)
                chunk, self._raw = self._raw[: len(self._raw) - keep], self._raw[len(self._raw) - keep :]
                events += self._text(chunk, now)
                return events
            events += self._text(self._raw[:at], now)
            self._raw = self._raw[at + len(marker) :]
            if self._in_paste:
                self._end_paste()
            self._in_paste = not self._in_paste
        return events

    def flush(self, now: float) -> list[InputEvent]:
        """Held bytes after ESCAPE_DELAY without more input: a typed Escape, not a paste marker."""
        held, self._raw = self._raw, b""
        return self._text(held, now)

    def _text(self, data: bytes, now: float) -> list[InputEvent]:
        events: list[InputEvent] = []
        for char in self._decoder.decode(data):
            if self._in_paste:
                self._paste += "\n" if char == "\r" else char
            elif self.capture_keys:
                events.append(KeyPressed(char))
            else:
                events += self._typed(char, now)
        return events

    def _typed(self, char: str, now: float) -> list[InputEvent]:
        fast = self._last_typed_at is not None and now - self._last_typed_at <= FAST_TYPING_GAP
        if char == "\r" or (char == "\n" and self.behaviour.submit_each_line):
            in_burst = (
                self.behaviour.paste_burst > 0
                and self._fast_run >= 2
                and self._last_typed_at is not None
                and now - self._last_typed_at <= self.behaviour.paste_burst
            )
            if in_burst:
                self._insert("\n")  # Codex: part of a paste, not a submission
                self._last_typed_at = now
                return []
            self._fast_run = 0
            if self.behaviour.ignore_enter:
                return []
            return self._submit()
        self._fast_run = self._fast_run + 1 if fast else 1
        self._last_typed_at = now
        self._insert(char)
        return []

    def _insert(self, text: str) -> None:
        if self.segments and not self.segments[-1].paste_number:
            self.segments[-1].text += text
        else:
            self.segments.append(_Segment(text))

    def _end_paste(self) -> None:
        text, self._paste = self._paste, ""
        collapse = 0 < self.behaviour.collapse_lines < text.count("\n") + 1
        if collapse:
            self._pastes += 1
            self.segments.append(_Segment(text, self._pastes))
        else:
            self._insert(text)

    def _submit(self) -> list[InputEvent]:
        text = self.draft
        self.segments = []
        if not text:
            return []  # like the real CLIs: Enter on an empty input sends nothing
        return [Submitted(text)]


def escape_for_screen(text: str) -> str:
    """How the fake agent shows a received message: one line, control characters as escapes."""
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        else:
            out.append(char)
    return "".join(out)


def _escape_controls(line: str) -> str:
    return "".join(escape_for_screen(char) if not char.isprintable() else char for char in line)


def _partial_marker_length(data: bytes, marker: bytes) -> int:
    """How many trailing bytes of `data` could be the start of `marker` (kept until more input arrives)."""
    for length in range(min(len(marker) - 1, len(data)), 0, -1):
        if marker.startswith(data[-length:]):
            return length
    return 0
