"""What the local API does for an agent, against the API server, within the agent's own team (edge: Kube).

Every operation reads the team fresh (its Agents, and its AgentMessages where needed), decides with the
pure functions of `roster` and `messages`, and writes at most AgentMessages and the caller's status.report.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any

from tmux_orchestrator.api import ReportState
from tmux_orchestrator.api.constants import LABEL_TEAM
from tmux_orchestrator.core.clock import format_time
from tmux_orchestrator.kube import Kube, KubeObject, Resource
from tmux_orchestrator.kube.client import describe_error
from tmux_orchestrator.team_view import in_the_future

from .identity import Caller
from .messages import inbox, message_body, reply_to, report_text, roster
from .protocol import MAX_TEXT_CHARS, ErrorCode, LocalApiError, Operation
from .roster import TeamAgent, resolve_target, team_agents, team_pm

log = logging.getLogger(__name__)

MAX_CHECKIN_SECONDS = 604800  # a week, like AgentMessage ttlSeconds
_TELL_PM = frozenset({ReportState.BLOCKED, ReportState.NEEDS_REVIEW, ReportState.DONE})


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _text(args: Mapping[str, Any], key: str = "text") -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LocalApiError(ErrorCode.BAD_REQUEST, f"{key} must be a non-empty string")
    if len(value) > MAX_TEXT_CHARS - 100:  # room for the sender header
        raise LocalApiError(ErrorCode.BAD_REQUEST, f"{key} is longer than {MAX_TEXT_CHARS - 100} characters")
    return value


def _target(args: Mapping[str, Any]) -> str:
    value = args.get("target")
    if not isinstance(value, str) or not value.strip():
        raise LocalApiError(ErrorCode.BAD_REQUEST, "target must be an agent (dev-1), member, @role or all")
    return value.strip()


class TeamApi:
    def __init__(self, kube: Kube, node: str, clock: Callable[[], datetime.datetime] = _now) -> None:
        self.kube = kube
        self.node = node
        self.clock = clock

    async def handle(self, caller: Caller, operation: Operation, args: Mapping[str, Any]) -> Any:
        try:
            return await self._handle(caller, operation, args)
        except LocalApiError:
            raise
        except Exception as error:  # the API server refused or is away: say so, in its words
            log.info("local API %s for %s failed: %s", operation, caller.agent.name, error)
            raise LocalApiError(
                ErrorCode.API_ERROR, f"the API server refused: {describe_error(error)}"
            ) from None

    async def _handle(self, caller: Caller, operation: Operation, args: Mapping[str, Any]) -> Any:
        if operation is Operation.WHOAMI:
            me = caller.agent
            return {
                "agent": me.short,
                "name": me.name,
                "team": me.team,
                "member": me.member,
                "role": me.role,
                "namespace": caller.namespace,
            }
        agents = await self._agents(caller)
        me = next((a for a in agents if a.name == caller.agent.name), caller.agent)
        if operation is Operation.SEND:
            text, target = _text(args), _target(args)
            return await self._send(caller, me, resolve_target(target, agents, me.name), text)
        if operation is Operation.CHECKIN:
            text = _text(args)
            seconds = args.get("seconds")
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not seconds > 0:
                raise LocalApiError(ErrorCode.BAD_REQUEST, "seconds must be a positive number")
            if seconds > MAX_CHECKIN_SECONDS:
                raise LocalApiError(
                    ErrorCode.BAD_REQUEST, f"a check-in is at most {MAX_CHECKIN_SECONDS} s ahead"
                )
            target = args.get("target") or me.short
            receivers = resolve_target(_target({"target": target}), agents, me.name)
            due = in_the_future(self.clock(), float(seconds))
            return await self._send(caller, me, receivers, text, deliver_after=due)
        if operation is Operation.REPORT:
            return await self._report(caller, me, agents, args)
        messages = await self._messages(caller)
        if operation is Operation.REPLY:
            text = _text(args)
            sender = reply_to(messages, me)
            if sender is None:
                raise LocalApiError(ErrorCode.NOTHING_TO_REPLY_TO, "no message from a teammate to reply to")
            receivers = [a for a in agents if a.name == sender]
            if not receivers:
                raise LocalApiError(ErrorCode.UNKNOWN_TARGET, f"{sender} is no longer in the team")
            return await self._send(caller, me, receivers, text)
        if operation is Operation.STATUS:
            return roster(agents, messages, me)
        if operation is Operation.INBOX:
            return {"you": me.short, "messages": inbox(messages, me)}
        raise LocalApiError(ErrorCode.BAD_REQUEST, f"unknown operation {operation!r}")

    async def teammates(self, caller: Caller) -> list[TeamAgent]:
        """The caller's team as it sees it (the hooks' session context reads it too)."""
        return await self._agents(caller)

    async def _agents(self, caller: Caller) -> list[TeamAgent]:
        team = caller.agent.team
        objects, _ = await self.kube.list(
            Resource.AGENTS, caller.namespace, label_selector=f"{LABEL_TEAM}={team}"
        )
        return team_agents(objects, team)

    async def _messages(self, caller: Caller) -> list[KubeObject]:
        """Every AgentMessage of the namespace: one created by hand may carry no team label at all; the
        pure readers keep those to or from the caller's team."""
        objects, _ = await self.kube.list(Resource.AGENT_MESSAGES, caller.namespace)
        return objects

    async def _send(
        self,
        caller: Caller,
        me: TeamAgent,
        receivers: list[TeamAgent],
        text: str,
        *,
        deliver_after: str | None = None,
    ) -> dict[str, Any]:
        sent = []
        for receiver in receivers:
            body = message_body(me, receiver, text, from_node=self.node, deliver_after=deliver_after)
            created = await self.kube.create(Resource.AGENT_MESSAGES, body, caller.namespace)
            sent.append({"to": receiver.short, "message": created["metadata"]["name"]})
            log.info(
                "%s/%s sent %s to %s", caller.namespace, me.name, created["metadata"]["name"], receiver.name
            )
        return {"sent": sent, "deliverAfter": deliver_after}

    async def _report(
        self, caller: Caller, me: TeamAgent, agents: list[TeamAgent], args: Mapping[str, Any]
    ) -> dict[str, Any]:
        state_text = args.get("state")
        try:
            state = ReportState(str(state_text))
        except ValueError:
            choices = ", ".join(s.value for s in ReportState)
            raise LocalApiError(
                ErrorCode.BAD_REQUEST, f"state must be one of {choices}, not {state_text!r}"
            ) from None
        note = args.get("note")
        if note is not None and (not isinstance(note, str) or len(note) > 4096):
            raise LocalApiError(ErrorCode.BAD_REQUEST, "note must be a string of at most 4096 characters")
        report = {"state": state.value, "note": note or None, "time": format_time(self.clock())}
        await self.kube.patch_status(Resource.AGENTS, me.name, {"report": report}, caller.namespace)
        result: dict[str, Any] = {"report": {k: v for k, v in report.items() if v is not None}, "told": None}
        pm = team_pm(agents)
        if state in _TELL_PM and pm is not None and pm.name != me.name:
            told = await self._send(caller, me, [pm], report_text(state.value, note or None, me.workspace))
            result["told"] = told["sent"][0]
        return result
