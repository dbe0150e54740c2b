"""`tmux-orchestrator fake-agent`: a simulated agent CLI for tests, examples and benchmarks.

It draws a screen like Claude Code 2.1's (the input prompt between two rules with a `⏸ manual mode on ·
? for shortcuts` footer, a spinner status line and `esc to interrupt` while busy, a `Do you want to
proceed?` / `1. Yes` / `Esc to cancel` approval dialog, a `usage limit reached … resets at` message) and
follows a script of steps, given with `--step` (repeatable, `;` separates steps too) or `--script FILE`
(one step per line, `#` comments):

    idle [SECONDS]              input prompt; without SECONDS until a message arrives
    busy [SECONDS] [WORD]       working (spinner word, `esc to interrupt`); without SECONDS forever
    approve [SECONDS]           approval prompt until answered (1/y/Enter: yes; 2/3/n/Esc: no)
    ratelimit [SECONDS] [TIME]  usage limit message with its reset time; without SECONDS until a message
    print TEXT                  add a line to the transcript (e.g. test output that says FAILED)
    run COMMAND                 run a shell command in the pane, as an agent's tool would, and show
                                its output and exit status (COMMAND cannot hold `;` or `#`)
    sleep SECONDS               keep the screen as it is
    exit [CODE]                 exit with CODE (default 0)
    signal NAME                 die by signal NAME (TERM, KILL, INT, SEGV, ...)

After the last step it keeps showing its last state and reading input. `--on-message COMMAND` (repeatable)
runs COMMAND like a `run` step after each message the script does not wait for (a message that ends an
`idle` step belongs to the script), after the work `--busy-on-message` gives it, with the message in
$FAKE_AGENT_MESSAGE: how the demo team's PM and developers talk through `tmux-orchestrator team`.

Every message it receives is shown as `> received: <text>` (control characters escaped, see
`escape_for_screen`) and, with `--log FILE`, appended to FILE as a JSON line, so delivery can be verified
exactly. Its input line (fake_agent_input) reads the terminal in raw mode like a real terminal UI: CR (the
Enter key) submits, LF (Ctrl-J) is a line break inside the message, bracketed paste is understood;
`--paste-burst`, `--submit-each-line`, `--collapse-pastes` and `--ignore-enter` switch on the input
behaviours of Codex, Aider and Claude Code, and a deaf agent.

Only the standard library is imported, so it starts in a few tens of milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from tmux_sidecar.fake_agent_input import (
    ESCAPE_DELAY,
    InputBehaviour,
    InputEditor,
    InputEvent,
    KeyPressed,
    escape_for_screen,
)

SPINNER_GLYPHS = "·✢✳✶✻✽"
DEFAULT_RESET_TIME = "3pm (UTC)"
_TRANSCRIPT_LIMIT = 500


@dataclass(frozen=True)
class Step:
    action: str
    seconds: float | None = None
    text: str = ""


class ScriptError(ValueError):
    pass


def parse_steps(lines: Sequence[str]) -> list[Step]:
    """Steps from script lines; `;` also separates steps and `#` starts a comment."""
    steps = []
    for line in lines:
        for part in line.split("#", 1)[0].split(";"):
            if part.strip():
                steps.append(parse_step(part.strip()))
    return steps


def parse_step(text: str) -> Step:
    action, _, rest = text.partition(" ")
    rest = rest.strip()
    if action == "print":
        return Step("print", text=rest)
    if action == "run":
        if not rest:
            raise ScriptError("run needs a COMMAND")
        return Step("run", text=rest)
    if action in ("exit", "signal"):
        if action == "signal" and _signal_number(rest) is None:
            raise ScriptError(f"unknown signal in {text!r}")
        if action == "exit" and rest and not rest.lstrip("-").isdigit():
            raise ScriptError(f"exit needs an integer code: {text!r}")
        return Step(action, text=rest or "0")
    if action in ("idle", "busy", "approve", "ratelimit", "sleep"):
        seconds_text, _, label = rest.partition(" ")
        seconds = None
        if seconds_text:
            try:
                seconds = float(seconds_text)
            except ValueError:
                raise ScriptError(f"expected seconds in {text!r}") from None
        if action == "sleep" and seconds is None:
            raise ScriptError("sleep needs SECONDS")
        return Step(action, seconds, label.strip())
    raise ScriptError(f"unknown step {text!r}")


def _signal_number(name: str) -> int | None:
    name = name.upper()
    if name.isdigit():
        return int(name)
    member = signal.Signals.__members__.get(name if name.startswith("SIG") else "SIG" + name)
    return int(member) if member is not None else None


class FakeAgent:
    def __init__(self, args: argparse.Namespace, steps: list[Step]) -> None:
        self.steps = steps
        self.busy_on_message: float = args.busy_on_message
        self.on_message: list[str] = list(args.on_message)
        self.answering: list[str] = []  # messages whose --on-message commands wait for the work to end
        self.log_path: str | None = args.log
        self.reset_time: str = args.reset_time
        self.exit_at = time.monotonic() + args.exit_after if args.exit_after is not None else None
        self.exit_code: int = args.exit_code
        self.exit_signal: str | None = args.exit_signal
        self.transcript: list[str] = [f"✻ Welcome to {args.title}!", f"  cwd: {os.getcwd()}", ""]
        self.mode = "idle"
        self.mode_word = "Working"
        self.mode_started = time.monotonic()
        self.step_index = -1
        self.step_deadline: float | None = None
        self.wait_for_input = False
        self.work_until: float | None = None  # busy because of a message (--busy-on-message)
        self.mode_before_work = "idle"
        self.dirty = True
        self.drawn: list[str] = []  # what the terminal shows now
        self.fd = sys.stdin.fileno()
        self.is_tty = os.isatty(self.fd)
        behaviour = InputBehaviour(
            paste_burst=args.paste_burst,
            # Without a terminal there is no Enter key: every line is a message.
            submit_each_line=args.submit_each_line or not self.is_tty,
            collapse_lines=args.collapse_pastes,
            ignore_enter=args.ignore_enter,
        )
        self.input = InputEditor(behaviour)

    # --- script -----------------------------------------------------------------------------------

    def advance(self) -> None:
        """Run steps until one that lasts (or the end of the script)."""
        while self.step_index + 1 < len(self.steps):
            self.step_index += 1
            step = self.steps[self.step_index]
            now = time.monotonic()
            self.step_deadline = now + step.seconds if step.seconds is not None else None
            self.wait_for_input = False
            if step.action == "print":
                self.say(step.text)
                continue
            if step.action == "run":
                self.run_command(step.text)
                continue
            if step.action == "exit":
                self.finish(int(step.text), None)
            if step.action == "signal":
                self.finish(0, step.text)
            if step.action != "sleep":
                self.set_mode(step.action, step.text)
            if step.action == "ratelimit":
                reset = step.text or self.reset_time
                self.say(f"  ⎿  Claude usage limit reached. Your limit resets at {reset}.")
            # Without SECONDS, idle, approve and ratelimit last until input, busy forever.
            self.wait_for_input = step.seconds is None and step.action in ("idle", "approve", "ratelimit")
            return
        self.step_deadline = None

    def run_command(self, command: str, message: str | None = None) -> None:
        """A tool call: the command runs as a child of this process (so inside the agent's pane), the
        screen shows it busy meanwhile, then the command's output and exit status. `message` (the one being
        answered) is in the command's $FAKE_AGENT_MESSAGE."""
        import subprocess

        env = None if message is None else {**os.environ, "FAKE_AGENT_MESSAGE": message}

        before = (self.mode, self.mode_word)
        self.say(f"⏺ Bash({command})")
        self.set_mode("busy", "Running")
        self.draw()
        try:
            done = subprocess.run(
                ["/bin/sh", "-c", command],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=120,
                check=False,
            )
            output, status = (done.stdout + done.stderr).splitlines(), f"exit {done.returncode}"
        except subprocess.TimeoutExpired:
            output, status = [], "timed out after 120 s"
        for line in output[-20:]:
            self.say(f"  ⎿  {line}")
        self.say(f"  ⎿  ({status})")
        if self.log_path:
            import json

            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps({"run": command, "status": status, "output": output}) + "\n")
        self.set_mode(*before)

    def set_mode(self, mode: str, word: str = "") -> None:
        self.mode = mode
        self.input.capture_keys = mode == "approve"
        self.mode_word = word if mode == "busy" and word else "Working"
        self.mode_started = time.monotonic()
        self.dirty = True

    def step_done(self) -> None:
        if 0 <= self.step_index < len(self.steps) and self.steps[self.step_index].action == "ratelimit":
            self.say("  ⎿  Usage limit reset; resuming.")
        self.step_deadline = None
        self.wait_for_input = False
        self.advance()

    def say(self, line: str) -> None:
        self.transcript.append(line)
        del self.transcript[:-_TRANSCRIPT_LIMIT]
        self.dirty = True

    def finish(self, code: int, signal_name: str | None) -> NoReturn:
        self.say(f"fake-agent: exiting ({f'signal {signal_name}' if signal_name else f'status {code}'})")
        self.draw()
        self.restore_terminal()
        if signal_name is not None:
            number = _signal_number(signal_name) or signal.SIGTERM
            with contextlib.suppress(OSError, ValueError):  # KILL and STOP cannot be handled anyway
                signal.signal(number, signal.SIG_DFL)
            os.kill(os.getpid(), number)
            time.sleep(1)  # a signal that does not kill (e.g. CONT) falls through to an exit
            os._exit(128 + number)
        os._exit(code)

    # --- input ------------------------------------------------------------------------------------

    def on_input(self, events: list[InputEvent]) -> None:
        for event in events:
            if isinstance(event, KeyPressed):
                self.answer(event.key)
            else:
                self.submit(event.text)
        self.dirty = True

    def answer(self, key: str) -> None:
        if key in ("1", "y", "Y", "\r"):
            self.say("  ⎿  approved")
        elif key in ("2", "3", "n", "N", "\x1b"):
            self.say("  ⎿  declined")
        else:
            return
        self.set_mode("idle")
        self.step_done()

    def submit(self, text: str) -> None:
        self.say(f"> received: {escape_for_screen(text)}")
        if self.log_path:
            import json

            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps({"text": text, "time": time.time()}) + "\n")
        # The message a waiting step waits for moves the script on; any other one is answered.
        for_the_script = self.wait_for_input and self.work_until is None
        if self.busy_on_message > 0:
            if self.work_until is None:
                self.mode_before_work = self.mode
            self.set_mode("busy")
            self.work_until = time.monotonic() + self.busy_on_message
            if not for_the_script:
                self.answering.append(text)
            return
        if for_the_script:
            self.step_done()
        else:
            self.answer_message(text)

    def work_done(self) -> None:
        self.work_until = None
        if self.wait_for_input:
            self.set_mode("idle")
            self.step_done()
        else:
            self.set_mode(self.mode_before_work)
        answering, self.answering = self.answering, []
        for text in answering:
            self.answer_message(text)

    def answer_message(self, text: str) -> None:
        for command in self.on_message:
            self.run_command(command, message=text)

    # --- screen -----------------------------------------------------------------------------------

    def screen_lines(self, width: int, height: int) -> list[str]:
        """The screen as Claude Code 2.1 draws it (tests/data/screens/claude-code): the transcript, a status
        line while busy, then the input prompt between two rules with the mode footer under it, or a dialog in
        place of the input."""
        rule = "─" * max(10, width)
        bottom: list[str] = []
        if self.mode == "busy":
            elapsed = int(time.monotonic() - self.mode_started)
            glyph = SPINNER_GLYPHS[elapsed % len(SPINNER_GLYPHS)]
            bottom += [f"{glyph} {self.mode_word}… ({elapsed}s · ↓ {elapsed * 3} tokens)", ""]
        if self.mode == "approve":
            bottom += [
                rule,
                " Bash command",
                "",
                "   rm -rf build/",
                "   Remove the build directory",
                "",
                " Do you want to proceed?",
                " ❯ 1. Yes",  # noqa: RUF001
                "   2. Yes, and don't ask again for rm commands in this directory",
                "   3. No",
                "",
                " Esc to cancel · Tab to amend",
            ]
        else:
            # The footer names the mode; its hint shows only while the input is empty.
            hint = " · esc to interrupt" if self.mode == "busy" else " · ? for shortcuts"
            rows = self.input.display_rows("❯ ", width)  # noqa: RUF001
            bottom += [rule, *rows, rule, f"  ⏸ manual mode on{'' if self.input.draft else hint}"]
        room = max(0, height - len(bottom))
        top = self.transcript[-room:] if room else []
        lines = top + [""] * (room - len(top)) + bottom
        return [line[:width] for line in lines[-height:]]

    def draw(self) -> None:
        try:
            size = os.get_terminal_size(sys.stdout.fileno())
            width, height = size.columns, size.lines
        except OSError:
            width, height = 80, 24
        lines = self.screen_lines(width, height)
        if len(lines) != len(self.drawn):
            self.drawn = [""] * len(lines)
            parts = ["\x1b[H\x1b[2J"]
        else:
            parts = []
        # Only rows that changed are rewritten, like a real terminal UI: a ticking spinner costs one row.
        for row, line in enumerate(lines):
            if line != self.drawn[row]:
                parts.append(f"\x1b[{row + 1};1H{line}\x1b[K")
        self.drawn = lines
        with contextlib.suppress(OSError):
            os.write(sys.stdout.fileno(), "".join(parts).encode())
        self.dirty = False

    # --- terminal ---------------------------------------------------------------------------------

    def setup_terminal(self) -> None:
        if not self.is_tty:
            return
        import termios

        self.saved_attrs = termios.tcgetattr(self.fd)
        attrs = termios.tcgetattr(self.fd)
        # Raw input (no echo, no line editing, no signals from keys, no CR→LF); output processing stays on.
        attrs[0] &= ~(
            termios.BRKINT | termios.ICRNL | termios.INLCR | termios.IGNCR | termios.ISTRIP | termios.IXON
        )
        attrs[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG)
        attrs[6][termios.VMIN] = 1
        attrs[6][termios.VTIME] = 0
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        os.write(sys.stdout.fileno(), b"\x1b[?2004h")  # bracketed paste on, as real agent CLIs do

    def restore_terminal(self) -> None:
        if not self.is_tty or not hasattr(self, "saved_attrs"):
            return
        import termios

        with contextlib.suppress(OSError):
            os.write(sys.stdout.fileno(), b"\x1b[?2004l")
            termios.tcsetattr(self.fd, termios.TCSANOW, self.saved_attrs)

    # --- main loop --------------------------------------------------------------------------------

    def run(self) -> int:
        wakeup_read, wakeup_write = os.pipe()
        os.set_blocking(wakeup_write, False)
        signal.set_wakeup_fd(wakeup_write)
        signal.signal(signal.SIGWINCH, lambda number, frame: None)
        self.setup_terminal()
        try:
            self.advance()
            while True:
                now = time.monotonic()
                if self.exit_at is not None and now >= self.exit_at:
                    self.finish(self.exit_code, self.exit_signal)
                if self.work_until is not None and now >= self.work_until:
                    self.work_done()
                    continue
                if self.step_deadline is not None and now >= self.step_deadline:
                    self.step_done()
                    continue
                if self.dirty:
                    self.draw()
                deadlines = [d for d in (self.exit_at, self.step_deadline, self.work_until) if d is not None]
                if self.mode == "busy":
                    deadlines.append(now + 1.0)  # the spinner shows elapsed seconds
                if self.input.holding:
                    deadlines.append(now + ESCAPE_DELAY)
                timeout = max(0.0, min(deadlines) - now) if deadlines else None
                readable, _, _ = select.select([self.fd, wakeup_read], [], [], timeout)
                if wakeup_read in readable:
                    os.read(wakeup_read, 512)
                    self.dirty = True  # resized
                if self.fd in readable:
                    data = os.read(self.fd, 65536)
                    if not data:
                        return 0  # terminal closed
                    self.on_input(self.input.feed(data, time.monotonic()))
                elif self.input.holding and not readable:
                    self.on_input(self.input.flush(time.monotonic()))
                if self.mode == "busy":
                    self.dirty = True
        finally:
            self.restore_terminal()


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--step", action="append", default=[], metavar="STEP", help="a script step (repeatable)"
    )
    parser.add_argument("--script", metavar="FILE", help="read steps from FILE, one per line")
    parser.add_argument("--exit-after", type=float, metavar="SECONDS", help="exit this long after start")
    parser.add_argument("--exit-code", type=int, default=0, help="status for --exit-after (default 0)")
    parser.add_argument("--exit-signal", metavar="NAME", help="die by this signal at --exit-after instead")
    parser.add_argument(
        "--busy-on-message",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="work this long after each message",
    )
    parser.add_argument(
        "--on-message",
        action="append",
        default=[],
        metavar="COMMAND",
        help="after each message no step waits for, run COMMAND with it in $FAKE_AGENT_MESSAGE (repeatable)",
    )
    parser.add_argument("--log", metavar="FILE", help="append every received message to FILE as a JSON line")
    parser.add_argument("--title", default="Fake Agent", help="name shown in the welcome line")
    parser.add_argument("--reset-time", default=DEFAULT_RESET_TIME, help="reset time shown by ratelimit")
    behaviour = parser.add_argument_group("input behaviours of the real CLIs (see fake_agent_input)")
    behaviour.add_argument(
        "--paste-burst",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="Codex: an Enter this soon after fast typing inserts a line break instead of submitting",
    )
    behaviour.add_argument(
        "--submit-each-line",
        action="store_true",
        help="Aider: every typed line break submits (line breaks inside a bracketed paste do not)",
    )
    behaviour.add_argument(
        "--collapse-pastes",
        type=int,
        default=0,
        metavar="LINES",
        help="Claude Code: show a paste of more than LINES lines as [Pasted text #N +K lines]",
    )
    behaviour.add_argument(
        "--ignore-enter", action="store_true", help="Enter does nothing: typed text stays in the input"
    )


def run(args: argparse.Namespace) -> int:
    lines = list(args.step)
    if args.script:
        with open(args.script, encoding="utf-8") as script:
            lines = script.read().splitlines() + lines
    try:
        steps = parse_steps(lines)
    except ScriptError as error:
        print(f"fake-agent: {error}", file=sys.stderr)
        return 2
    if args.exit_signal is not None and _signal_number(args.exit_signal) is None:
        print(f"fake-agent: unknown signal {args.exit_signal!r}", file=sys.stderr)
        return 2
    return FakeAgent(args, steps).run()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fake-agent", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
