"""Hook state against screen reading: when they disagree for longer than a moment (pure).

Both report the same agent. A short disagreement is normal: a hook arrives before the screen is redrawn,
a screen is read just before a hook. One that lasts DISAGREE_AFTER means that one of them is wrong, most
often a detector profile that no longer matches the CLI's screens: the node agent counts it (metric) and
logs it, once per disagreement.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from tmux_orchestrator.api import Activity
from tmux_sidecar.hook_state import HOOK_FRESH_FOR, HookState

DISAGREE_AFTER: Final = datetime.timedelta(seconds=5)

# (hook, screen) pairs that differ in name but not in fact.
_CONSISTENT: Final = frozenset(
    {
        (Activity.BUSY, Activity.RATE_LIMITED),  # in the turn, retrying: no hook until it gives up
        (Activity.BUSY, Activity.WAITING_FOR_INPUT),  # in the turn, a dialog: its hook may come later
        (Activity.RATE_LIMITED, Activity.IDLE),  # gave up on the limit (StopFailure), back at its prompt
    }
)


class CheckOutcome(StrEnum):
    AGREE = "agree"  # or nothing to compare
    DISAGREEING = "disagreeing"  # for less than DISAGREE_AFTER, or reported already
    NEW = "new"  # has just lasted DISAGREE_AFTER: report it (once)
    ENDED = "ended"  # a reported disagreement is over


@dataclass(frozen=True)
class Disagreement:
    """Hook and screen say different things (the latest pair), since `since`."""

    hook: Activity
    screen: Activity
    since: datetime.datetime
    reported: bool = False


def disagree(hook: Activity, screen: Activity) -> bool:
    return hook != screen and (hook, screen) not in _CONSISTENT


def check_sources(
    previous: Disagreement | None, hook: HookState | None, screen: Activity, now: datetime.datetime
) -> tuple[Disagreement | None, CheckOutcome]:
    """The disagreement after this reading, and what to do about it. Only a fresh hook state and a known
    screen reading are compared (a stale hook no longer decides anything)."""
    comparable = (
        hook is not None
        and hook.activity is not None
        and now - hook.at <= HOOK_FRESH_FOR
        and screen is not Activity.UNKNOWN
    )
    if not comparable or hook is None or hook.activity is None or not disagree(hook.activity, screen):
        ended = previous is not None and previous.reported
        return None, CheckOutcome.ENDED if ended else CheckOutcome.AGREE
    since = previous.since if previous is not None else now
    reported = previous is not None and previous.reported
    current = Disagreement(hook.activity, screen, since, reported)
    if not reported and now - since >= DISAGREE_AFTER:
        return Disagreement(hook.activity, screen, since, True), CheckOutcome.NEW
    return current, CheckOutcome.DISAGREEING
