"""What an agent is told again when its CLI starts a session without its memory (pure).

Claude Code 2.1.332 fires SessionStart with `source` "compact" (after /compact or auto-compaction), "clear"
(after /clear) and "resume" (a resumed session), besides "startup" (captured in tests/data/hooks). A hook
may answer with additional context that the CLI puts before the next turn; after compact, clear or resume
the node agent gives back the member's briefing and the team roster, so a PM never forgets its team.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from tmux_sidecar.localapi.roster import TeamAgent

REINJECT_SOURCES: Final = frozenset({"compact", "clear", "resume"})
HEADER: Final = "[tmux-orchestrator]"


def wants_context(event: str, payload: Mapping[str, Any]) -> bool:
    """A SessionStart after which the CLI no longer holds its briefing (not a fresh start: the briefing is
    typed into a new agent as its first message)."""
    return event == "SessionStart" and payload.get("source") in REINJECT_SOURCES


def _row(agent: TeamAgent, me: TeamAgent) -> str:
    state = ", ".join(part for part in (agent.phase, agent.activity) if part) or "state unknown"
    you = " (you)" if agent.name == me.name else ""
    return f"- {agent.short}{you}: {agent.role}, {state}"


def session_context(
    source: str, me: TeamAgent, briefing: str | None, agents: Sequence[TeamAgent] | None
) -> str:
    """Who the agent is, its briefing and its team (None: the roster could not be read just now)."""
    lines = [
        f"{HEADER} Your session was restarted ({source}) and your earlier context may be gone.",
        f"You are {me.short} ({me.member}, {me.role}) in team {me.team}.",
        "",
        "Your briefing:",
        briefing.strip() if briefing and briefing.strip() else "(no briefing given)",
        "",
    ]
    if agents is None:
        lines.append("Team roster: not available right now; `tmux-orchestrator team status` shows it.")
    else:
        lines += [f"Team roster ({len(agents)} agents: name: role, phase, activity):"]
        lines += [_row(agent, me) for agent in agents]
    return "\n".join(lines)
