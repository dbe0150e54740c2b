"""Hook events from the agents' CLIs, as the local API hands them over (edge: the team read from the API
server). The event updates the agent's hook state (tmux_sidecar.hook_state) and wakes a status pass; a
SessionStart after compaction, /clear or a resume is answered with the briefing and team roster."""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Mapping
from typing import Any, Final

from tmux_orchestrator.api import Activity
from tmux_sidecar.activity_check import CheckOutcome, check_sources
from tmux_sidecar.hook_state import next_hook_state
from tmux_sidecar.localapi.handlers import TeamApi
from tmux_sidecar.localapi.identity import Caller
from tmux_sidecar.localapi.roster import TeamAgent
from tmux_sidecar.session_context import session_context, wants_context

from .metrics import ACTIVITY_DISAGREEMENTS
from .records import AgentRecord, NodeState

log = logging.getLogger(__name__)

_KEPT_PROMPTS: Final = 16
# The hook command waits 2 s for its answer: the roster must come sooner, else the briefing goes alone.
_ROSTER_TIMEOUT: Final = 1.0


class HookReceiver:
    """The local API's HookSink for the node agent."""

    def __init__(self, state: NodeState, wake: asyncio.Event, team: TeamApi) -> None:
        self.state = state
        self.wake = wake
        self.team = team

    async def __call__(self, caller: Caller, event: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        record = self._record(caller)
        if record is None:
            return {}
        self._remember(record, event, payload)
        if not wants_context(event, payload):
            return {}
        agents = await self._roster(caller)
        briefing = record.spec.template.briefing
        text = session_context(str(payload.get("source")), caller.agent, briefing, agents)
        log.info("%s/%s: briefing given again after %s", record.namespace, record.name, payload.get("source"))
        return {"additionalContext": text}

    def _record(self, caller: Caller) -> AgentRecord | None:
        return next(
            (
                r
                for r in self.state.agents.values()
                if r.name == caller.agent.name and r.namespace == caller.namespace
            ),
            None,
        )

    def _remember(self, record: AgentRecord, event: str, payload: Mapping[str, Any]) -> None:
        """Record the event for the next status pass, and run that pass now."""
        moment = datetime.datetime.now(datetime.UTC)
        record.hook = next_hook_state(record.hook, event, payload, moment)
        if event == "UserPromptSubmit" and isinstance(prompt := payload.get("prompt"), str):
            record.hook_prompts = [*record.hook_prompts[-(_KEPT_PROMPTS - 1) :], (time.monotonic(), prompt)]
        log.debug("%s/%s hook %s", record.namespace, record.name, event)
        self.wake.set()

    async def _roster(self, caller: Caller) -> list[TeamAgent] | None:
        try:
            return await asyncio.wait_for(self.team.teammates(caller), _ROSTER_TIMEOUT)
        except Exception as error:  # the API server slow or away: the briefing still goes
            log.info("team of %s not read for its session context: %s", caller.agent.name, error)
            return None


def check_activity_sources(record: AgentRecord, screen: Activity, now: datetime.datetime) -> None:
    """Compare the agent's hook state with this pass's screen reading; a lasting disagreement is counted
    and logged once, and its end logged."""
    record.disagreement, outcome = check_sources(record.disagreement, record.hook, screen, now)
    profile = record.spec.template.profile
    if outcome is CheckOutcome.NEW and record.disagreement is not None:
        found = record.disagreement
        ACTIVITY_DISAGREEMENTS.labels(profile=profile, hook=found.hook.value, screen=found.screen.value).inc()
        log.debug(
            "%s/%s: hooks say %s, the screen (profile %s) says %s, since %s",
            record.namespace,
            record.name,
            found.hook.value,
            profile,
            found.screen.value,
            found.since.isoformat(),
        )
    elif outcome is CheckOutcome.ENDED:
        log.debug("%s/%s: hooks and screen agree again", record.namespace, record.name)
