"""Typing text into an agent's pane: type it, see it on screen, press Enter, see the screen take it.

The one way the node agent puts words in front of an agent (briefings and AgentMessages alike). Its whole
interface is `Typist.type_and_submit`, so the typing path can be replaced without touching its callers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from tmux_sidecar.delivery import message_text, screen_fragment, typed_on_screen
from tmux_sidecar.tmux.control import ControlClient, TmuxError

log = logging.getLogger(__name__)

SCREEN_TIMEOUT = 3.0
_SCREEN_POLL = 0.05


class Typist:
    """Types into panes, remembering text typed but not yet confirmed as submitted."""

    def __init__(self) -> None:
        self._typed: set[str] = set()

    async def type_and_submit(self, client: ControlClient, pane_id: str, text: str, key: str = "") -> bool:
        """Type `text` literally, see it on screen, press Enter, see the screen take it.

        Text that was typed but not confirmed as submitted is never typed again (`key` remembers it), so a
        retry only presses Enter: an agent never receives the same message twice in its input line.
        """
        fragment = screen_fragment(text)
        try:
            if key not in self._typed:
                before = await client.capture_pane(pane_id)
                await client.send_literal(pane_id, message_text(text))
                if not await wait_for_screen(
                    client, pane_id, lambda lines: typed_on_screen(lines, fragment) or list(lines) != before
                ):
                    return False  # nothing reached the screen: typing again is safe
                if key:
                    self._typed.add(key)
            typed = await client.capture_pane(pane_id)
            await client.send_enter(pane_id)
            submitted = await wait_for_screen(client, pane_id, lambda lines: list(lines) != typed)
        except TmuxError as error:
            log.info("typing into %s failed: %s", pane_id, error)
            return False
        if submitted:
            self._typed.discard(key)
        return submitted


async def wait_for_screen(
    client: ControlClient,
    pane_id: str,
    check: Callable[[Sequence[str]], bool],
    timeout: float = SCREEN_TIMEOUT,
) -> bool:
    """Whether the pane's screen passes `check` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if check(await client.capture_pane(pane_id)):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_SCREEN_POLL)
