"""Who a message TARGET names in a team (DESIGN §8), for every sender: agents, the operator, people (pure).

TARGET: an agent by member-ordinal (`dev-1`), a member (`dev`: each of its replicas), a role (`@developer`:
each agent of that role), or `all`. A group (member, role, all) leaves out the sender itself; a target that
names nobody is an error listing what exists, so the sender can correct it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol, TypeVar

ALL: Final = "all"


class TeamMemberAgent(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def member(self) -> str: ...
    @property
    def ordinal(self) -> int: ...
    @property
    def role(self) -> str: ...


AgentT = TypeVar("AgentT", bound=TeamMemberAgent)


class UnknownTargetError(ValueError):
    """The target names no agent (the message says what exists)."""


def short_name(agent: TeamMemberAgent) -> str:
    """How teammates address an agent: member-ordinal (dev-1)."""
    return f"{agent.member}-{agent.ordinal}"


def select_target(target: str, agents: Sequence[AgentT], sender: str | None = None) -> list[AgentT]:
    """The agents `target` names, in the order given; UnknownTargetError when it names nobody."""
    target = target.strip()
    if target == ALL:
        chosen = [a for a in agents if a.name != sender]
    elif target.startswith("@"):
        chosen = [a for a in agents if a.role == target[1:] and a.name != sender]
        if not chosen and any(a.role == target[1:] for a in agents):
            raise UnknownTargetError(f"you are the only agent with role {target[1:]!r}")
    else:
        by_short = [a for a in agents if short_name(a) == target]
        chosen = by_short or [a for a in agents if a.member == target and a.name != sender]
        if not chosen and any(a.member == target for a in agents):
            raise UnknownTargetError(f"you are the only agent of member {target!r}")
    if not chosen:
        raise UnknownTargetError(unknown_target_message(target, agents))
    return chosen


def unknown_target_message(target: str, agents: Sequence[TeamMemberAgent]) -> str:
    shorts = ", ".join(short_name(a) for a in agents) or "none"
    members = ", ".join(sorted({a.member for a in agents})) or "none"
    roles = ", ".join(f"@{role}" for role in sorted({a.role for a in agents})) or "none"
    return (
        f"no agent, member or role {target!r} in this team. "
        f"Agents: {shorts}. Members: {members}. Roles: {roles}. Or: all."
    )
