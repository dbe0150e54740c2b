"""Building tmux command lines safely (pure).

A control-mode client sends one command per line and tmux parses that line like a configuration file line:
unquoted words split on spaces, `;` separates commands, `$VAR`, `~` and `{...}` are expanded, `#` starts a
comment. Every argument we send is therefore double-quoted with everything special escaped, so any string
(control characters included) reaches the command as exactly that string. Arguments that a command then
expands as a *format* (window names, `-c` start directories, `-F`) need `#` doubled on top of that
(`format_literal`); names that reach tmux are restricted to a safe alphabet (`safe_name`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tmux_orchestrator.api.common import ENV_NAME_PATTERN, SESSION_PATTERN

# Session and window names: what the API allows (no ':' or '.', which are target separators in tmux).
_SAFE_NAME = re.compile(SESSION_PATTERN)
_ENV_NAME = re.compile(ENV_NAME_PATTERN)
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9_-]")
_COMMAND_NAME = re.compile(r"^[a-z][a-z-]*$")
_PANE_ID = re.compile(r"^%[0-9]+$")
_WINDOW_ID = re.compile(r"^@[0-9]+$")
# Inside double quotes tmux still expands `$NAME` and a leading `~`, and treats `\` and `"` specially.
_ESCAPED_AS_IS = frozenset('\\"$~')


def quote_argument(value: str) -> str:
    """`value` as one double-quoted tmux argument that parses back to exactly `value`.

    Control characters become three-digit octal escapes (tmux reads `\\ooo` in double quotes), so a command
    line never contains a raw newline. NUL cannot be represented in a tmux string and is refused.
    """
    if "\0" in value:
        raise ValueError("tmux arguments cannot contain NUL characters")
    parts = ['"']
    for char in value:
        code = ord(char)
        if char in _ESCAPED_AS_IS:
            parts.append("\\" + char)
        elif code < 0x20 or code == 0x7F:
            parts.append(f"\\{code:03o}")
        else:
            parts.append(char)
    parts.append('"')
    return "".join(parts)


def command_line(command: str, *args: str) -> str:
    """One control-mode line: the command name followed by every argument quoted."""
    if not _COMMAND_NAME.match(command):
        raise ValueError(f"not a tmux command name: {command!r}")
    return " ".join([command, *(quote_argument(arg) for arg in args)])


def format_literal(value: str) -> str:
    """`value` for an argument tmux expands as a format: `#` is doubled so nothing is expanded."""
    return value.replace("#", "##")


def safe_name(text: str, *, max_length: int = 64, fallback: str = "agent") -> str:
    """A tmux session or window name derived from arbitrary text: letters, digits, `_` and `-` only."""
    name = _UNSAFE_CHARS.sub("_", text)[:max_length].lstrip("-")
    return name or fallback


def require_safe_name(name: str) -> str:
    """`name` unchanged if it is a safe session/window name; ValueError otherwise."""
    if not _SAFE_NAME.match(name) or len(name) > 128:
        raise ValueError(f"unsafe tmux name {name!r}: use letters, digits, '_' and '-' (see safe_name)")
    return name


def session_target(session: str) -> str:
    """Target for a session by exact name (`=` stops tmux from matching a prefix or pattern)."""
    return f"={require_safe_name(session)}"


def pane_target(pane_id: str) -> str:
    """A pane id (`%N`) validated for use as a target."""
    if not _PANE_ID.match(pane_id):
        raise ValueError(f"not a tmux pane id: {pane_id!r}")
    return pane_id


def window_target(window_id: str) -> str:
    """A window id (`@N`) validated for use as a target."""
    if not _WINDOW_ID.match(window_id):
        raise ValueError(f"not a tmux window id: {window_id!r}")
    return window_id


def program_arguments(argv: Sequence[str]) -> list[str]:
    """The trailing arguments of new-window/respawn-pane that run `argv` exactly.

    tmux runs a single argument through `default-shell -c`, but several arguments with execvp. A one-word
    command is therefore wrapped as `exec '<word>'`: the shell replaces itself with the program, which keeps
    the pane pid, the exit status and `pane_current_command` those of the program, and no shell syntax in
    the word is interpreted.
    """
    if not argv or any(not arg for arg in argv):
        raise ValueError("a command needs at least one non-empty argument")
    if len(argv) == 1:
        return ["exec " + shlex.quote(argv[0])]
    return list(argv)


def environment_arguments(env: Mapping[str, str] | None) -> list[str]:
    """`-e NAME=VALUE` pairs for new-window/respawn-pane/new-session."""
    args: list[str] = []
    for name, value in (env or {}).items():
        if not _ENV_NAME.match(name):
            raise ValueError(f"invalid environment variable name {name!r}")
        args += ["-e", f"{name}={value}"]
    return args


# What new-session/new-window/respawn-pane print about the program they started (see `parse_pane_ref`).
PANE_REF_FORMAT = "#{pane_id} #{window_id} #{pane_pid}"


@dataclass(frozen=True)
class PaneRef:
    """Where a freshly started program runs."""

    pane_id: str
    window_id: str
    pid: int | None


def parse_pane_ref(lines: Sequence[str]) -> PaneRef:
    pane_id, window_id, pid = lines[0].split(" ")
    return PaneRef(pane_id, window_id, int(pid) if pid.isdigit() else None)


def start_arguments(command: Sequence[str], env: Mapping[str, str] | None, cwd: str | None) -> list[str]:
    """The arguments that make new-window/respawn-pane run `command` (an argv) in `cwd` with `env`."""
    cwd_args = ["-c", format_literal(cwd)] if cwd is not None else []
    return [*environment_arguments(env), *cwd_args, "--", *program_arguments(command)]
