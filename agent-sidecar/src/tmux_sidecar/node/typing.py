"""Typing text into an agent's pane and confirming that the agent took it (tmux I/O and time).

The one way the node agent puts words in front of an agent (briefings and AgentMessages alike): paste the
text as one bracketed paste (tmux/paste.py), wait until the screen shows it and has settled, press Enter as
a command of its own, then watch the screen until `judge_submission` sees evidence that the agent took it.
A text that stays in the input gets Enter again (a bounded number of times), then fails as "typed but not
submitted". A text is never typed twice: `Typist` remembers what reached a pane, in memory and, until the
text's final status is written, in the pane itself (the user option `@orchestrator-typing`), so a node agent
killed while typing does not type it again after its restart: the tmux server outlives the node agent. The
decisions are the pure functions in `tmux_sidecar.submission`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from tmux_orchestrator.api import DeliveryConfirmation
from tmux_sidecar.classification import Classification, PaneSnapshot
from tmux_sidecar.profile_plugins import load_profile_or_fallback
from tmux_sidecar.submission import (
    DeliveryFailure,
    SubmissionState,
    judge_submission,
    settled,
    unsafe_text,
    visible_marks,
)
from tmux_sidecar.tmux.commands import pane_target, safe_name
from tmux_sidecar.tmux.control import ControlClient, TmuxError
from tmux_sidecar.tmux.paste import paste_text

log = logging.getLogger(__name__)

# A profile's reading of a live pane's screen.
ScreenClassifier = Callable[[Sequence[str]], Classification]

TYPING_OPTION = "@orchestrator-typing"
"""Pane user option: keys of texts pasted into the pane whose final status is not written yet."""
INTERRUPTED_BY_RESTART = "typing was interrupted by a node agent restart; not typed again"


@dataclass(frozen=True)
class TypingTimings:
    poll: float = 0.03
    settle: float = 0.15  # the screen unchanged this long: the paste has been drawn
    unrecognised_draft: float = 1.0  # a changed screen without a recognisable draft: shown after this
    show_timeout: float = 5.0
    retry_enter_after: float = 1.0  # the text still in the input, screen unchanged this long: Enter again
    max_enters: int = 3
    confirm_timeout: float = 6.0
    # With hooks wired, the screen's confirmation waits this long for the CLI's own (UserPromptSubmit):
    # the hook is a process the CLI starts, slow to arrive on a loaded machine.
    hook_grace: float = 5.0


@dataclass(frozen=True)
class TypingResult:
    """How typing one text ended. `typed`: the text may have reached the pane (it is never typed again)."""

    typed: bool
    confirmation: DeliveryConfirmation | None = None
    failure: DeliveryFailure | None = None
    enter_presses: int = 0
    detail: str = ""

    @property
    def delivered(self) -> bool:
        return self.confirmation is not None


class Typist:
    """Types into panes, remembering how typing each text ended so that none is typed twice: asked again (its
    status could not be written), it answers with the same result."""

    def __init__(self, timings: TypingTimings | None = None) -> None:
        self.timings = timings or TypingTimings()
        self._outcomes: dict[str, TypingResult] = {}
        self._panes: dict[str, str] = {}  # key → the pane whose TYPING_OPTION names it
        self._finished: set[str] = set()  # keys whose final status is written: to drop from their panes

    async def type_and_submit(
        self,
        client: ControlClient,
        pane_id: str,
        text: str,
        *,
        key: str,
        profile: str,
        submitted: Callable[[str, float], bool] | None = None,
    ) -> TypingResult | None:
        """Type `text` (identified by `key`) into the pane and confirm the agent took it.

        None when nothing was typed because tmux failed before the paste (trying again later is safe).
        """
        known = self._outcomes.get(key)
        if known is not None:
            return known
        try:
            if key in await _typing_keys(client, pane_id):
                # An earlier node agent pasted it and was gone before its final status was written.
                self._panes[key] = pane_id
                self._outcomes[key] = TypingResult(
                    True, failure=DeliveryFailure.NOT_CONFIRMED, detail=INTERRUPTED_BY_RESTART
                )
                log.warning(
                    "%s was being typed into %s when the node agent stopped: not typed again", key, pane_id
                )
                return self._outcomes[key]
        except TmuxError as error:
            log.info("typing into %s failed: %s", pane_id, error)
            return None
        interrupted = TypingResult(True, failure=DeliveryFailure.NOT_CONFIRMED, detail="typing interrupted")

        async def pasting() -> None:
            # Remembered in the pane before the paste: from now on the text may be in the pane.
            await _set_typing_keys(client, pane_id, await _typing_keys(client, pane_id) | {key})
            self._panes[key] = pane_id
            self._outcomes[key] = interrupted

        try:
            result = await type_message(
                client,
                pane_id,
                text,
                classify=screen_classifier(profile),
                profile=profile,
                buffer=safe_name(f"tmo-{key}"),
                timings=self.timings,
                on_paste=pasting,
                submitted=submitted,
            )
        except TmuxError as error:
            log.info("typing into %s failed: %s", pane_id, error)
            return self._outcomes.get(key)
        self._outcomes[key] = result
        outcome = result.confirmation or result.failure
        log.info("typed %s into %s: %s (%s)", key, pane_id, outcome, result.detail)
        return result

    def forget(self, key: str) -> None:
        """The outcome for `key` is recorded elsewhere for good (its final status was written); its pane
        mark goes at the next `prune`."""
        self._outcomes.pop(key, None)
        if key in self._panes:
            self._finished.add(key)

    async def prune(self, client: ControlClient) -> None:
        """Drop the pane marks of texts whose final status is written (a gone pane took its marks along)."""
        by_pane: dict[str, set[str]] = {}
        for key in self._finished:
            by_pane.setdefault(self._panes.pop(key), set()).add(key)
        self._finished.clear()
        for pane_id, keys in by_pane.items():
            try:
                await _set_typing_keys(client, pane_id, await _typing_keys(client, pane_id) - keys)
            except TmuxError as error:
                log.debug("marks of %s not pruned: %s", pane_id, error)


async def _typing_keys(client: ControlClient, pane_id: str) -> set[str]:
    return set((await client.display(f"#{{{TYPING_OPTION}}}", pane_target(pane_id))).split())


async def _set_typing_keys(client: ControlClient, pane_id: str, keys: set[str]) -> None:
    target = pane_target(pane_id)
    if keys:
        await client.run("set-option", "-p", "-t", target, TYPING_OPTION, " ".join(sorted(keys)))
    else:
        await client.run("set-option", "-p", "-u", "-t", target, TYPING_OPTION)


def screen_classifier(profile: str) -> ScreenClassifier:
    detector = load_profile_or_fallback(profile)  # a built-in name costs no scan of installed packages

    def classify(lines: Sequence[str]) -> Classification:
        reading: Classification = detector.classify(PaneSnapshot(tuple(lines)))
        return reading

    return classify


async def type_message(
    client: ControlClient,
    pane_id: str,
    text: str,
    *,
    classify: ScreenClassifier,
    profile: str,
    buffer: str,
    timings: TypingTimings = TypingTimings(),
    on_paste: Callable[[], Awaitable[None]] | None = None,
    submitted: Callable[[str, float], bool] | None = None,
) -> TypingResult:
    """Paste `text` into the pane, submit it and confirm that the agent took it.

    `on_paste` runs just before the paste is sent: from then on the text may be in the pane. `submitted(text,
    since)` says whether the CLI's prompt hook reported exactly `text` since the monotonic time `since`: the
    agent's own word, which confirms before the screen does. TmuxError passes through.
    """
    if (refused := unsafe_text(text)) is not None:
        return TypingResult(typed=False, failure=refused, detail=refused.value)
    if await client.display("#{pane_dead}", pane_id) == "1":
        raise TmuxError(f"pane {pane_id} is dead: nothing typed")  # left Pending, typed later
    before_typing = await client.capture_pane(pane_id)
    if on_paste is not None:
        await on_paste()
    pasted_at = time.monotonic()
    await paste_text(client, pane_id, text, buffer)
    drafted = await _wait_drawn(client, pane_id, text, profile=profile, before=before_typing, timings=timings)
    if drafted is None:
        return TypingResult(typed=True, failure=DeliveryFailure.NOT_SHOWN, detail="screen did not change")
    hooked = None if submitted is None else (lambda: submitted(text, pasted_at))
    return await _submit(
        client,
        pane_id,
        text,
        drafted=drafted,
        classify=classify,
        profile=profile,
        timings=timings,
        hooked=hooked,
    )


async def _wait_drawn(
    client: ControlClient,
    pane_id: str,
    text: str,
    *,
    profile: str,
    before: list[str],
    timings: TypingTimings,
) -> list[str] | None:
    """The screen once the paste is drawn and has settled; None if the screen never changed."""
    start = time.monotonic()
    samples: list[tuple[float, list[str]]] = []
    while True:
        lines = await client.capture_pane(pane_id)
        now = time.monotonic()
        samples.append((now, lines))
        recognised = visible_marks(lines, text, profile) or now - start >= timings.unrecognised_draft
        if lines != before and recognised and settled(samples, timings.settle):
            return lines
        if now - start >= timings.show_timeout:
            return lines if lines != before else None
        await asyncio.sleep(timings.poll)


async def _submit(
    client: ControlClient,
    pane_id: str,
    text: str,
    *,
    drafted: list[str],
    classify: ScreenClassifier,
    profile: str,
    timings: TypingTimings,
    hooked: Callable[[], bool] | None = None,
) -> TypingResult:
    await client.send_enter(pane_id)
    enters = 1
    start = time.monotonic()
    # The screen's confirmation, held for `hook_grace` while the CLI's own (hook) may still come.
    by_screen: tuple[float, TypingResult] | None = None
    since_enter: list[tuple[float, list[str]]] = []
    while True:
        await asyncio.sleep(timings.poll)
        if hooked is not None and hooked():
            return TypingResult(
                True, DeliveryConfirmation.HOOK, None, enters, "UserPromptSubmit carried the text"
            )
        if by_screen is not None:
            if time.monotonic() - by_screen[0] >= timings.hook_grace:
                return by_screen[1]
            continue
        lines = await client.capture_pane(pane_id)
        now = time.monotonic()
        verdict = judge_submission(drafted, lines, classify(lines), text, profile)
        if verdict.state is SubmissionState.TAKEN:
            taken = TypingResult(True, verdict.confirmation, None, enters, verdict.detail)
            if hooked is None:
                return taken
            by_screen = (now, taken)  # the hook's word is the better evidence: give it a moment
            continue
        since_enter.append((now, lines))
        stuck = verdict.state is SubmissionState.IN_INPUT and settled(since_enter, timings.retry_enter_after)
        if stuck and enters < timings.max_enters:
            await client.send_enter(pane_id)
            enters += 1
            since_enter = []
        elif stuck or now - start >= timings.confirm_timeout:
            failure = (
                DeliveryFailure.NOT_SUBMITTED
                if verdict.state is SubmissionState.IN_INPUT
                else DeliveryFailure.NOT_CONFIRMED
            )
            return TypingResult(True, None, failure, enters, verdict.detail)
