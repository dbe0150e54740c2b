"""The pipelined transport of a tmux control-mode client: commands out, replies matched, notifications out.

`tmux -C` keeps a single process and socket open: commands are written one per line without waiting for
earlier replies (pipelined) and every reply is matched to its command. tmux answers the commands of one
client strictly in order, so replies carrying the client flag are matched first-in first-out; the command
number in `%begin`/`%end` pairs each output block with its own end marker (see protocol.ControlParser).
Notifications go to every subscriber (`subscribe()`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from .commands import command_line
from .protocol import ControlParser, Notification, Reply

log = logging.getLogger(__name__)

_READ_CHUNK = 1 << 18


# In run_many, stands for the reply of the command an `if-shell` before it inserts. Each such if-shell must
# insert exactly one command in either branch, or every later reply would go to the wrong caller.
INSERTED_REPLY: tuple[str, ...] = ("",)


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


class Subscription:
    """Notifications received after `subscribe()`; iteration ends when the connection does."""

    def __init__(self, transport: ControlTransport) -> None:
        self._transport = transport
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
        self._transport._unsubscribe(self)
        self._put(None)


class ControlTransport:
    """One `tmux -C` client process: pipelined commands and notifications."""

    def __init__(self, process: asyncio.subprocess.Process, socket_args: Sequence[str]) -> None:
        self._process = process
        self.socket_args = tuple(socket_args)  # e.g. ("-L", "name"): to fork tmux commands at the same server
        self._parser = ControlParser()
        self._pending: deque[tuple[str, asyncio.Future[CommandResult]]] = deque()
        self._subscribers: list[Subscription] = []
        loop = asyncio.get_running_loop()
        self._closed: asyncio.Future[None] = loop.create_future()
        # tmux may read our first commands before it has run the start-up command (new-session -A), whose
        # own output block marks the moment the client is attached.
        self._attached: asyncio.Future[None] = loop.create_future()
        self._exit_reason = ""
        self._reader = asyncio.create_task(self._read_loop(), name="tmux-control-reader")

    async def __aenter__(self) -> Self:
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

    async def wait_attached(self, timeout: float) -> None:
        """Until tmux has run the start-up command (ControlClosedError if the client ended first)."""
        await asyncio.wait_for(asyncio.shield(self._attached), timeout)

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
            future: asyncio.Future[CommandResult] = loop.create_future()
            if tuple(command) == INSERTED_REPLY:
                # No line to send: this slot takes the reply of the command that the previous `if-shell`
                # queued, which tmux answers in a block of its own right after the if-shell's.
                self._pending.append(("(inserted by if-shell)", future))
                futures.append(future)
                continue
            line = command_line(command[0], *command[1:])
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
