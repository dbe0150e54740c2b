"""Which agent a local API caller is, and the identity every agent pane is started with (pure).

The caller is the agent whose pane process is an ancestor of (or is) the calling process: tmux reports each
pane's pid, the kernel the caller's. The pane's environment names the agent too, but only for the agent's
own use: anything in the environment can be changed by the process, so it never decides who is asking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .protocol import ENV_AGENT, ENV_MEMBER, ENV_NAMESPACE, ENV_ROLE, ENV_SOCKET, ENV_TEAM
from .roster import TeamAgent


class PaneFacts(Protocol):
    """What identification needs of a pane (tmux_sidecar.tmux.snapshot.PaneInfo has it)."""

    @property
    def pid(self) -> int | None: ...
    @property
    def dead(self) -> bool: ...
    @property
    def agent_uid(self) -> str | None: ...


@dataclass(frozen=True)
class Caller:
    namespace: str
    agent: TeamAgent


def pane_callers(panes: Iterable[PaneFacts], agents: Mapping[str, Mapping[str, Any]]) -> dict[int, Caller]:
    """Live agent panes by pane pid; `agents` maps Agent uid → Agent object."""
    callers = {}
    for pane in panes:
        obj = agents.get(pane.agent_uid or "")
        if obj is None or pane.dead or not pane.pid:
            continue
        callers[pane.pid] = Caller(str(obj["metadata"]["namespace"]), TeamAgent.from_object(obj))
    return callers


def find_caller(chain: Sequence[int], callers: Mapping[int, Caller]) -> Caller | None:
    """The agent whose pane holds the first process of `chain` (the caller, then its ancestors)."""
    return next((callers[pid] for pid in chain if pid in callers), None)


def identity_env(namespace: str, agent: TeamAgent, socket_path: str | None) -> dict[str, str]:
    """The pane environment (DESIGN §8 **contract**); it wins over the template's env of the same name."""
    env = {
        ENV_AGENT: agent.name,
        ENV_TEAM: agent.team,
        ENV_MEMBER: agent.member,
        ENV_ROLE: agent.role,
        ENV_NAMESPACE: namespace,
    }
    if socket_path:
        env[ENV_SOCKET] = socket_path
    return env
