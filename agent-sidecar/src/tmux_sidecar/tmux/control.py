"""One persistent tmux control-mode client per tmux server.

`tmux -C` keeps a single process and socket open: commands are written one per line without waiting for
earlier replies (pipelined) and every reply is matched to its command. tmux answers the commands of one
client strictly in order, so replies carrying the client flag are matched first-in first-out; the command
number in `%begin`/`%end` pairs each output block with its own end marker (see protocol.ControlParser).

The client attaches to a small control session of its own (created on first use): a control client needs a
session, and that session keeps the server alive while no agent runs. Notifications are fanned out to
subscribers (`subscribe()`); `%output` is switched off because no agent pane is in the control session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType

from .commands import (
    command_line,
    environment_arguments,
    format_literal,
    pane_target,
    program_arguments,
    require_safe_name,
    session_target,
    window_target,
)
from .protocol import ControlParser, Notification, Reply

log = logging.getLogger(__name__)

CONTROL_SESSION = "tmux-orchestrator"
# The control session's only pane runs this: it reads its terminal and prints nothing.
_CONTROL_PANE_COMMAND = "cat"
_READ_CHUNK = 1 << 18
# Longer text is typed in several send-keys commands so no command line grows without bound.
_SEND_CHUNK = 2048
_PANE_REF_FORMAT = "#{pane_id} #{window_id} #{pane_pid}"
_ATTACH_TIMEOUT = 30.0


class TmuxError(Exception):
    """Talking to tmux failed."""


class TmuxCommandError(TmuxError):
    """tmux answered a command with %error."""

    def __init__(self, command: str, message: str) -> None:
        super().__init__(f"{message} (command: {command})")
        self.command = command
        self.message = message


class ControlClosedError(TmuxError):
    """The control connection ended (tmux server gone, client killed, or closed by us)."""


@dataclass(frozen=True)
class CommandResult:
    """The reply to one pipelined command."""

    command: str
    lines: tuple[str, ...]
    failed: bool

    def check(self) -> tuple[str, ...]:
        """The output lines; TmuxCommandError if the command failed."""
        if self.failed:
            raise TmuxCommandError(self.command, "\n".join(self.lines) or "failed")
        return self.lines


@dataclass(frozen=True)
class PaneRef:
    """Where a freshly started program runs."""

    pane_id: str
    window_id: str
    pid: int | None


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    version: str
    control_window_id: str


class Subscription:
    """Notifications received after `ControlClient.subscribe()`; iteration ends when the connection does."""

    def __init__(self, client: ControlClient) -> None:
        self._client = client
        self._queue: asyncio.Queue[Notification | None] = asyncio.Queue()

    def _put(self, item: Notification | None) -> None:
        self._queue.put_nowait(item)

    def __aiter__(self) -> AsyncIterator[Notification]:
        return self

    async def __anext__(self) -> Notification:
        item = await self._queue.get()
        if item is None:
            self._queue.put_nowait(None)  # stay ended for later calls
            raise StopAsyncIteration
        return item

    def close(self) -> None:
        self._client._unsubscribe(self)
        self._put(None)


class ControlClient:
    """A pipelined tmux control-mode connection with a typed API. Create it with `connect()`."""

    def __init__(self, process: asyncio.subprocess.Process, socket_args: Sequence[str]) -> None:
        self._process = process
        self.socket_args = tuple(socket_args)  # e.g. ("-L", "name"): to fork tmux commands at the same server
        self._parser = ControlParser()
        self._pending: deque[tuple[str, asyncio.Future[CommandResult]]] = deque()
        self._subscribers: list[Subscription] = []
        self._start_listeners: list[Callable[[PaneRef], None]] = []
        loop = asyncio.get_running_loop()
        self._closed: asyncio.Future[None] = loop.create_future()
        # tmux may read our first commands before it has run the start-up command (new-session -A), whose
        # own output block marks the moment the client is attached.
        self._attached: asyncio.Future[None] = loop.create_future()
        self._exit_reason = ""
        self._reader = asyncio.create_task(self._read_loop(), name="tmux-control-reader")
        self.info = ServerInfo(0, "", "")

    # --- connection -------------------------------------------------------------------------------

    @classmethod
    async def connect(
        cls,
        socket_name: str | None = None,
        *,
        socket_path: str | None = None,
        control_session: str = CONTROL_SESSION,
        tmux_binary: str = "tmux",
        config_file: str | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> ControlClient:
        """Connect to (starting if needed) the tmux server on `-L socket_name` or `-S socket_path`.

        `config_file` is passed as `-f` when tmux has to start a server (use "/dev/null" for a clean one).
        The server inherits `environment` (default: ours without TMUX/TMUX_PANE, so it never nests).
        """
        socket_args: list[str] = []
        if socket_name is not None:
            socket_args += ["-L", socket_name]
        if socket_path is not None:
            socket_args += ["-S", socket_path]
        config_args = ["-f", config_file] if config_file is not None else []
        env = dict(os.environ if environment is None else environment)
        env.pop("TMUX", None)
        env.pop("TMUX_PANE", None)
        session = require_safe_name(control_session)
        # Start the server (if none runs) from a short-lived client whose stdio is /dev/null. A server forked
        # by the control client itself would inherit the write end of that client's stdin pipe: the client
        # would then never see EOF when we die, and a later kill-server would wait on it forever, leaving a
        # socket that answers every new client with "server exited unexpectedly".
        server = [tmux_binary, *socket_args, *config_args]
        control_session_args = ["-s", session, "-n", "control", _CONTROL_PANE_COMMAND]
        starter = await asyncio.create_subprocess_exec(
            *server,
            "new-session",
            "-d",
            *control_session_args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        await starter.wait()  # fails harmlessly when the session exists already
        process = await asyncio.create_subprocess_exec(
            *server,
            "-C",
            "new-session",
            "-A",
            *control_session_args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # our Ctrl-C must not reach the tmux client
        )
        client = cls(process, socket_args)
        try:
            await asyncio.wait_for(asyncio.shield(client._attached), _ATTACH_TIMEOUT)
            results = await client.run_many(
                [
                    ("refresh-client", "-f", "no-output"),
                    ("display-message", "-p", "#{pid} #{version} #{window_id}"),
                ]
            )
            pid, version, window_id = results[1].check()[0].split(" ")
        except BaseException:
            await client.close()
            raise
        client.info = ServerInfo(int(pid), version, window_id)
        return client

    async def __aenter__(self) -> ControlClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        return self._closed.done()

    @property
    def exit_reason(self) -> str:
        """The reason tmux gave in `%exit`, once closed (empty if none)."""
        return self._exit_reason

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)

    async def close(self) -> None:
        """Detach (the server and its windows keep running) and wait for the client process to end."""
        stdin = self._process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), 5)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    # --- commands ---------------------------------------------------------------------------------

    async def run(self, command: str, *args: str) -> tuple[str, ...]:
        """Run one command; its output lines, or TmuxCommandError."""
        (result,) = await self.run_many([(command, *args)])
        return result.check()

    async def run_many(self, commands: Sequence[Sequence[str]]) -> list[CommandResult]:
        """Send every command at once and wait for all replies (in order). Failures do not raise here.

        Cancelling the wait is safe (later replies still go to the right commands); wrap it in
        asyncio.wait_for for a timeout.
        """
        if not commands:
            return []  # an empty line would detach a control client
        if self.closed:
            raise ControlClosedError(f"tmux control connection closed {self._exit_reason}".strip())
        stdin = self._process.stdin
        assert stdin is not None
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[CommandResult]] = []
        lines: list[str] = []
        for command in commands:
            line = command_line(command[0], *command[1:])
            future: asyncio.Future[CommandResult] = loop.create_future()
            self._pending.append((line, future))
            futures.append(future)
            lines.append(line)
        # Registering futures and writing happen without an await in between, so the order of
        # _pending is the order tmux sees the commands in even with concurrent callers.
        try:
            stdin.write(("\n".join(lines) + "\n").encode())
            await stdin.drain()
        except ConnectionError:
            pass  # tmux went away: the reader fails every pending command when it sees the end
        return list(await asyncio.gather(*futures))

    def subscribe(self) -> Subscription:
        """Receive every notification from now on."""
        subscription = Subscription(self)
        if self.closed:
            subscription._put(None)
        else:
            self._subscribers.append(subscription)
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(subscription)

    async def _read_loop(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        partial = b""
        try:
            while chunk := await stdout.read(_READ_CHUNK):
                data = partial + chunk
                cut = data.rfind(b"\n") + 1
                partial = data[cut:]
                for item in self._parser.feed_lines(data[:cut].decode("utf-8", "replace").split("\n")[:-1]):
                    self._handle(item)
        finally:
            self._finish()

    def _handle(self, item: Reply | Notification) -> None:
        if isinstance(item, Reply):
            if not item.from_this_client:
                if not self._attached.done():
                    self._attached.set_result(None)
                return  # output of the start-up command or of a hook
            if not self._pending:
                log.warning("tmux reply without a pending command: %s", item)
                return
            command, future = self._pending.popleft()
            if not future.done():  # the caller may have given up waiting
                future.set_result(CommandResult(command, item.lines, item.failed))
        else:
            if item.name == "exit":
                self._exit_reason = item.args[0] if item.args else ""
            for subscriber in self._subscribers:
                subscriber._put(item)

    def _finish(self) -> None:
        error = ControlClosedError(f"tmux control connection closed {self._exit_reason}".strip())
        while self._pending:
            _, future = self._pending.popleft()
            if not future.done():
                future.set_exception(error)
        for subscriber in self._subscribers:
            subscriber._put(None)
        self._subscribers.clear()
        if not self._attached.done():
            self._attached.set_exception(error)
        if not self._closed.done():
            self._closed.set_result(None)

    # --- typed API --------------------------------------------------------------------------------

    async def display(self, format: str, target: str | None = None) -> str:
        """Expand `format` (a tmux format, `#{...}`) for `target` (default: the control pane)."""
        target_args = ["-t", target] if target is not None else []
        return "\n".join(await self.run("display-message", "-p", *target_args, format))

    async def list_panes(
        self, format: str, *, session: str | None = None, filter: str | None = None
    ) -> list[str]:
        """One output line per pane (every pane of the server unless `session` is given)."""
        scope = ["-s", "-t", session_target(session)] if session is not None else ["-a"]
        filter_args = ["-f", filter] if filter is not None else []
        return list(await self.run("list-panes", *scope, *filter_args, "-F", format))

    async def has_session(self, session: str) -> bool:
        (result,) = await self.run_many([("has-session", "-t", session_target(session))])
        return not result.failed

    async def new_session(
        self, session: str, *, width: int = 200, height: int = 50, window_name: str = "init"
    ) -> PaneRef:
        """A detached session whose first window runs the default shell."""
        lines = await self.run(
            "new-session",
            "-d",
            "-P",
            "-F",
            _PANE_REF_FORMAT,
            "-s",
            require_safe_name(session),
            "-n",
            require_safe_name(window_name),
            "-x",
            str(width),
            "-y",
            str(height),
        )
        ref = _pane_ref(lines)
        self._started(ref)
        return ref

    async def new_window(
        self,
        session: str,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        user_options: Mapping[str, str] | None = None,
    ) -> PaneRef:
        """A detached window at the end of `session` running `command` (an argv, never a shell line).

        `user_options` (e.g. {"@orchestrator-agent-uid": uid}) are set on the window right after.
        """
        lines = await self.run(
            "new-window",
            "-d",
            "-P",
            "-F",
            _PANE_REF_FORMAT,
            "-t",
            session_target(session) + ":",  # a new index in that session
            "-n",
            require_safe_name(name),
            *_start_arguments(command, env, cwd),
        )
        ref = _pane_ref(lines)
        if user_options:
            await self.set_window_options(ref.window_id, user_options)
        self._started(ref)
        return ref

    async def respawn_pane(
        self,
        pane_id: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        kill: bool = True,
    ) -> PaneRef:
        """Run `command` anew in the same pane (window and options stay); `kill` ends a live program first."""
        target = pane_target(pane_id)
        kill_args = ["-k"] if kill else []
        respawned, described = await self.run_many(
            [
                ("respawn-pane", *kill_args, "-t", target, *_start_arguments(command, env, cwd)),
                ("display-message", "-p", "-t", target, _PANE_REF_FORMAT),
            ]
        )
        respawned.check()
        ref = _pane_ref(described.check())
        self._started(ref)
        return ref

    async def kill_window(self, window_id: str) -> None:
        await self.run("kill-window", "-t", window_target(window_id))

    async def kill_session(self, session: str) -> None:
        await self.run("kill-session", "-t", session_target(session))

    async def set_window_options(self, window_id: str, options: Mapping[str, str]) -> None:
        """Set window options (user options start with `@`) in one pipelined batch."""
        target = window_target(window_id)
        results = await self.run_many(
            [("set-option", "-w", "-t", target, name, value) for name, value in options.items()]
        )
        for result in results:
            result.check()

    async def unset_window_option(self, window_id: str, name: str) -> None:
        await self.run("set-option", "-w", "-u", "-t", window_target(window_id), name)

    async def capture_pane(self, pane_id: str, *, scrollback: int = 0) -> list[str]:
        """The pane's visible screen as text lines, preceded by up to `scrollback` lines of history."""
        (result,) = await self.capture_panes([pane_id], scrollback=scrollback)
        return list(result.check())

    async def capture_panes(self, pane_ids: Sequence[str], *, scrollback: int = 0) -> list[CommandResult]:
        """Screens of many panes in one pipelined batch (a pane that vanished gives a failed result)."""
        start = ["-S", str(-scrollback)] if scrollback > 0 else []
        return await self.run_many(
            [("capture-pane", "-p", "-t", pane_target(pane_id), *start) for pane_id in pane_ids]
        )

    async def send_literal(self, pane_id: str, text: str, *, leave_copy_mode: bool = True) -> None:
        """Type `text` into the pane exactly as given (`send-keys -l`: never read as key names).

        Every character arrives as itself: control characters, escape sequences, `;`, `#{...}`, quotes and
        backslashes included (terminal programs in raw mode read them byte for byte). Note that CR is what
        the Enter key sends, so a CR inside `text` submits in most programs; a line break inside a message is
        typed as LF (Ctrl-J), which Claude-Code-style prompts insert as a new line (`message_text` converts).
        A pane in copy mode would swallow the keys, so it is taken out of copy mode first.
        """
        target = pane_target(pane_id)
        commands: list[tuple[str, ...]] = []
        if leave_copy_mode:
            leave = command_line("send-keys", "-X", "-t", target, "cancel")
            commands.append(("if-shell", "-F", "-t", target, "#{pane_in_mode}", leave))
        for start in range(0, len(text), _SEND_CHUNK):
            commands.append(("send-keys", "-l", "-t", target, text[start : start + _SEND_CHUNK]))
        for result in await self.run_many(commands):
            result.check()

    async def send_keys(self, pane_id: str, *keys: str) -> None:
        """Press named keys (`Enter`, `Escape`, `C-c`, …) in the pane."""
        await self.run("send-keys", "-t", pane_target(pane_id), *keys)

    async def send_enter(self, pane_id: str) -> None:
        """Press Enter (sends CR), which submits the typed text."""
        await self.send_keys(pane_id, "Enter")

    def add_start_listener(self, listener: Callable[[PaneRef], None]) -> None:
        """Call `listener` with every program this client starts (new_session/new_window/respawn_pane)."""
        self._start_listeners.append(listener)

    def remove_start_listener(self, listener: Callable[[PaneRef], None]) -> None:
        with contextlib.suppress(ValueError):
            self._start_listeners.remove(listener)

    def _started(self, ref: PaneRef) -> None:
        self.nudge_reaper()  # starting a pane can swallow another pane's SIGCHLD (see below)
        for listener in list(self._start_listeners):
            listener(ref)

    def nudge_reaper(self) -> bool:
        """Send SIGCHLD to the tmux server so it collects exited panes it has not noticed yet.

        tmux builds that use libutempter (Debian/Ubuntu) lose a SIGCHLD now and then while utempter's own
        handler is installed around a pane's start or end (tmux issue #311); the exited program then stays
        a zombie, the pane is dead without an exit status and pane-died does not fire until the next
        SIGCHLD. Sending one is harmless: tmux just calls waitpid(). False if the server cannot be signalled
        (another PID namespace or user).
        """
        if self.info.pid <= 0:
            return False
        try:
            os.kill(self.info.pid, signal.SIGCHLD)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def message_text(text: str) -> str:
    """Message text ready for `send_literal`: line breaks as LF, since a CR would press Enter."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _start_arguments(command: Sequence[str], env: Mapping[str, str] | None, cwd: str | None) -> list[str]:
    cwd_args = ["-c", format_literal(cwd)] if cwd is not None else []
    return [*environment_arguments(env), *cwd_args, "--", *program_arguments(command)]


def _pane_ref(lines: Sequence[str]) -> PaneRef:
    pane_id, window_id, pid = lines[0].split(" ")
    return PaneRef(pane_id, window_id, int(pid) if pid.isdigit() else None)
