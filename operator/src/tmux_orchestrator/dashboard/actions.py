"""What the dashboard's write actions send (pure): the kubectl plugin's builders, checked input, and the
note of the Event that audits each action."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tmux_orchestrator.plugin_view import message_bodies

_MAX_TEXT = 64 * 1024


class ActionError(ValueError):
    """The request cannot be carried out as asked (the message says why)."""


def send_body(
    team: Mapping[str, Any], agents: Sequence[Mapping[str, Any]], payload: object
) -> dict[str, Any]:
    """The AgentMessage for `{"member": M, "text": T}` (as `kubectl agentteam send` builds it). The text is
    kept exactly as given: it is typed literally into the agent."""
    if not isinstance(payload, Mapping):
        raise ActionError("expected a JSON object with member and text")
    member, text = payload.get("member"), payload.get("text")
    members = [m.get("name") for m in (team.get("spec") or {}).get("members") or []]
    if not isinstance(member, str) or member not in members:
        raise ActionError(f"member must be one of {', '.join(map(str, members))}; got {member!r}")
    if not isinstance(text, str) or not text.strip():
        raise ActionError("text must be a non-empty string")
    if len(text) > _MAX_TEXT:
        raise ActionError(f"text is longer than {_MAX_TEXT} characters")
    # The member's first agent (ordinal 0), addressed as `kubectl agentteam send TEAM MEMBER-0` does.
    return message_bodies(team, f"{member}-0", text, agents)[0]


def audit_note(verb: str, who: str, done: str) -> str:
    return f"{verb} from the dashboard (client {who}): {done}"
