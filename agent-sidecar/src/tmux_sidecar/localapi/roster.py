"""A team as its agents see it, and who a message target means (pure).

TARGET (DESIGN §8): an agent by member-ordinal (`dev-1`), a member (`dev`: each of its replicas), a role
(`@developer`: each agent of that role), or `all` (everyone else in the team). A target that names nobody is
an error that lists what exists, so the sender can correct it; nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tmux_orchestrator.api.constants import PM_ROLE

from .protocol import ErrorCode, LocalApiError

ALL = "all"


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
    since: str | None = None  # when the activity last changed
    report: Mapping[str, Any] | None = None

    @property
    def short(self) -> str:
        """How teammates address it: member-ordinal (dev-1)."""
        return f"{self.member}-{self.ordinal}"

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
            since=status.get("lastActivityTime"),
            report=status.get("report"),
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
    """The agents `target` names; a group (member, role, all) leaves out the sender itself."""
    target = target.strip()
    if target == ALL:
        chosen = [a for a in agents if a.name != sender]
    elif target.startswith("@"):
        chosen = [a for a in agents if a.role == target[1:] and a.name != sender]
        if not chosen and any(a.role == target[1:] for a in agents):
            raise LocalApiError(ErrorCode.UNKNOWN_TARGET, f"you are the only agent with role {target[1:]!r}")
    else:
        by_short = [a for a in agents if a.short == target]
        chosen = by_short or [a for a in agents if a.member == target and a.name != sender]
        if not chosen and any(a.member == target for a in agents):
            raise LocalApiError(ErrorCode.UNKNOWN_TARGET, f"you are the only agent of member {target!r}")
    if not chosen:
        raise LocalApiError(ErrorCode.UNKNOWN_TARGET, unknown_target_message(target, agents))
    return chosen


def unknown_target_message(target: str, agents: Sequence[TeamAgent]) -> str:
    shorts = ", ".join(a.short for a in agents) or "none"
    members = ", ".join(sorted({a.member for a in agents})) or "none"
    roles = ", ".join(f"@{role}" for role in sorted({a.role for a in agents})) or "none"
    return (
        f"no agent, member or role {target!r} in this team. "
        f"Agents: {shorts}. Members: {members}. Roles: {roles}. Or: all."
    )


def team_pm(agents: Sequence[TeamAgent]) -> TeamAgent | None:
    return next((a for a in agents if a.role == PM_ROLE), None)
