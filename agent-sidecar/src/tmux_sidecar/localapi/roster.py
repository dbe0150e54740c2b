"""A team as its agents see it, and who a message target means (pure).

TARGET (DESIGN §8, resolved by tmux_orchestrator.core.targets): an agent by member-ordinal (`dev-1`), a
member (`dev`), a role (`@developer`) or `all`. A target that names nobody is an error that lists what
exists, so the sender can correct it; nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tmux_orchestrator.api.constants import PM_ROLE
from tmux_orchestrator.core.targets import UnknownTargetError, select_target, short_name

from .protocol import ErrorCode, LocalApiError


@dataclass(frozen=True)
class TeamAgent:
    """One agent of the team, from its Agent object."""

    name: str  # the Agent's object name, <team>-<member>-<ordinal>
    team: str
    member: str
    ordinal: int
    role: str
    node: str | None = None
    uid: str | None = None
    phase: str | None = None
    activity: str | None = None
    activity_source: str | None = None  # Hook or Screen: who said so
    since: str | None = None  # when the activity last changed
    last_assistant_message: str | None = None  # its last answer, as its Stop hook reported it
    report: Mapping[str, Any] | None = None
    workspace: Mapping[str, Any] | None = None  # status.workspace: path, branch, head, dirty, aheadOfBase

    @property
    def short(self) -> str:
        """How teammates address it: member-ordinal (dev-1)."""
        return short_name(self)

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> TeamAgent:
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        return cls(
            name=str(obj["metadata"]["name"]),
            team=str((spec.get("teamRef") or {}).get("name") or ""),
            member=str(spec.get("member") or ""),
            ordinal=int(spec.get("ordinal") or 0),
            role=str(spec.get("role") or "developer"),
            node=spec.get("nodeName"),
            uid=obj["metadata"].get("uid"),
            phase=status.get("phase"),
            activity=status.get("activity"),
            activity_source=status.get("activitySource"),
            since=status.get("lastActivityTime"),
            last_assistant_message=status.get("lastAssistantMessage"),
            report=status.get("report"),
            workspace=status.get("workspace"),
        )


def team_agents(objects: Sequence[Mapping[str, Any]], team: str) -> list[TeamAgent]:
    """The team's agents, in member then ordinal order (objects being deleted are gone already)."""
    agents = [
        TeamAgent.from_object(obj)
        for obj in objects
        if not (obj.get("metadata") or {}).get("deletionTimestamp")
    ]
    return sorted((a for a in agents if a.team == team), key=lambda a: (a.member, a.ordinal))


def resolve_target(target: str, agents: Sequence[TeamAgent], sender: str) -> list[TeamAgent]:
    """The agents `target` names (core.targets); a group (member, role, all) leaves out the sender."""
    try:
        return select_target(target, agents, sender)
    except UnknownTargetError as error:
        raise LocalApiError(ErrorCode.UNKNOWN_TARGET, str(error)) from None


def team_pm(agents: Sequence[TeamAgent]) -> TeamAgent | None:
    return next((a for a in agents if a.role == PM_ROLE), None)
