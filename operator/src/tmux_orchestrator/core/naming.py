"""Names, labels, annotations and owner references of the objects the operator writes.

Everything a restarted operator needs to find again is derived from names and labels, never remembered.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final

from tmux_orchestrator.api.constants import (
    API_VERSION,
    LABEL_MEMBER,
    LABEL_NODE,
    LABEL_REVISION,
    LABEL_ROLE,
    LABEL_TEAM,
    PREFIX,
)
from tmux_orchestrator.api.team import AgentTeamSpec

TEAM_KIND: Final = "AgentTeam"
AGENT_KIND: Final = "Agent"
MESSAGE_KIND: Final = "AgentMessage"

# Operator-owned metadata on Agents. The operator writes Agent metadata and spec, never status, so facts it
# must recover after a restart (when an agent was moved to its revision, its restart count at that moment,
# which PM incarnation was already briefed) are stamped on the Agent in the same patch as the change.
ANNOTATION_REVISION_UPDATED_AT: Final = f"{PREFIX}revision-updated-at"
ANNOTATION_RESTARTS_AT_UPDATE: Final = f"{PREFIX}restarts-at-update"
ANNOTATION_BRIEFED_INCARNATION: Final = f"{PREFIX}briefed-incarnation"
# Value of ANNOTATION_BRIEFED_INCARNATION on a PM created with a brand-new team: its first incarnation gets
# the member briefing from the node agent, not a recovery briefing.
BRIEFED_INITIAL: Final = "initial"

# Labels of operator-sent AgentMessages: which team, which kind of notification, about which agent.
LABEL_NOTIFICATION: Final = f"{PREFIX}notification"
LABEL_ABOUT: Final = f"{PREFIX}about"
# Routing labels of every AgentMessage (with LABEL_NODE): the Agent it is delivered to. Node agents watch
# messages by LABEL_NODE; the operator sets both and moves them while the target agent moves.
LABEL_AGENT: Final = f"{PREFIX}agent"

HASH_LENGTH: Final = 10
MAX_OBJECT_NAME: Final = 253
MAX_SESSION: Final = 64
_SESSION_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def short_hash(*parts: str, length: int = HASH_LENGTH) -> str:
    """A stable hex digest of `parts` (unambiguous: parts are NUL-separated)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]


def agent_name(team: str, member: str, ordinal: int) -> str:
    return f"{team}-{member}-{ordinal}"


def window_name(member: str, ordinal: int) -> str:
    return f"{member}-{ordinal}"


def default_session(team: str) -> str:
    """The team name made a valid tmux session name: tmux reads '.' and ':' as target separators."""
    return _SESSION_UNSAFE.sub("-", team)[:MAX_SESSION]


def session_name(team: str, spec: AgentTeamSpec) -> str:
    return spec.session or default_session(team)


def agent_labels(team: str, member: str, role: str, revision: str, node: str | None) -> dict[str, str]:
    """The contract labels. `node` is empty while unscheduled so the key set never changes."""
    return {
        LABEL_TEAM: team,
        LABEL_MEMBER: member,
        LABEL_ROLE: role,
        LABEL_REVISION: revision,
        LABEL_NODE: node or "",
    }


def owner_reference(team: str, uid: str) -> dict[str, Any]:
    """Controller reference to the team: garbage collection removes what the team owns, no finalizer."""
    return {
        "apiVersion": API_VERSION,
        "kind": TEAM_KIND,
        "name": team,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def revision_object_name(team: str, revision: str) -> str:
    return f"{team}-{revision}"


def bounded_name(prefix: str, suffix: str) -> str:
    """`prefix-suffix` cut to a valid object name; the suffix (a hash) is what keeps it unique."""
    return f"{prefix[: MAX_OBJECT_NAME - len(suffix) - 1]}-{suffix}"
