"""Member templates, the team's template revision, and its ControllerRevision history.

The revision is a hash of what runs in each member's panes (command, env, working directory, profile,
briefing), keyed by member name. Deliberately left out, because changing them must not restart agents:
replicas (scaling is not a new version), role (labels and notifications only), restartPolicy, recovery
and monitoring (node-agent behaviour, applied to every agent in place), session and placement (where, not
what), mission (only read by the operator). Env is sorted by name: reordering it changes nothing in a pane.
Fields left unset are omitted from the hashed form, so a future optional template field does not change the
revision of every existing team: a team without a workspace keeps the revision it had before workspaces
existed. The effective workspace is part of the template (where the agent works is part of what runs).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from tmux_orchestrator.api.agent import AgentTemplate
from tmux_orchestrator.api.common import EnvVar
from tmux_orchestrator.api.constants import LABEL_REVISION, LABEL_TEAM
from tmux_orchestrator.api.team import AgentTeamSpec, Member
from tmux_orchestrator.api.workspace import effective_workspace

from .naming import HASH_LENGTH, revision_object_name, short_hash
from .observed import ObservedAgent, ObservedRevision

MemberTemplates = Mapping[str, AgentTemplate]
"""Template of each member of one revision, by member name."""


def merged_env(team_env: Sequence[EnvVar] | None, member_env: Sequence[EnvVar] | None) -> list[EnvVar] | None:
    """Team env overridden by member env of the same name, sorted by name; None when empty."""
    merged = {var.name: var for var in team_env or ()}
    merged.update({var.name: var for var in member_env or ()})
    return [merged[name] for name in sorted(merged)] or None


def member_template(spec: AgentTeamSpec, member: Member) -> AgentTemplate:
    return AgentTemplate(
        command=list(member.command),
        env=merged_env(spec.env, member.env),
        working_dir=member.working_dir or spec.working_dir,
        profile=member.profile,
        briefing=member.briefing,
        tools=member.tools,
        workspace=effective_workspace(spec.workspace, member.workspace),
    )


def team_templates(spec: AgentTeamSpec) -> dict[str, AgentTemplate]:
    return {member.name: member_template(spec, member) for member in spec.members}


def revision_data(templates: MemberTemplates) -> dict[str, Any]:
    """The ControllerRevision `data`: exactly what the revision hash covers."""
    return {"members": {name: templates[name].to_wire() for name in sorted(templates)}}


def template_revision(templates: MemberTemplates) -> str:
    canonical = json.dumps(revision_data(templates), sort_keys=True, separators=(",", ":"))
    return short_hash(canonical, length=HASH_LENGTH)


def parse_revision_data(data: Mapping[str, Any]) -> dict[str, AgentTemplate] | None:
    """Templates stored in a ControllerRevision; None when the data is not ours or is damaged."""
    members = data.get("members")
    if not isinstance(members, Mapping):
        return None
    try:
        return {str(name): AgentTemplate.model_validate(body) for name, body in members.items()}
    except ValidationError:
        return None


@dataclass(frozen=True)
class TemplateBook:
    """Templates of every revision the team may need: the current one, the stored history, and, when a
    ControllerRevision is missing, what agents still carrying that revision run."""

    by_revision: Mapping[str, MemberTemplates]

    def template(self, revision: str, member: str) -> AgentTemplate | None:
        return self.by_revision.get(revision, {}).get(member)


def build_template_book(
    current: str,
    current_templates: MemberTemplates,
    revisions: Iterable[ObservedRevision],
    agents: Iterable[ObservedAgent],
) -> TemplateBook:
    book: dict[str, dict[str, AgentTemplate]] = {}
    for agent in agents:
        book.setdefault(agent.spec.revision, {}).setdefault(agent.spec.member, agent.spec.template)
    for stored in revisions:
        templates = parse_revision_data(stored.data)
        if templates is not None:
            book[stored.revision] = dict(templates)
    book[current] = dict(current_templates)
    return TemplateBook(book)


@dataclass(frozen=True)
class RevisionObject:
    """An apps/v1 ControllerRevision to create."""

    name: str
    revision: str
    number: int
    templates: MemberTemplates

    def to_wire(self, team: str, namespace: str, owner: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": self.name,
                "namespace": namespace,
                "labels": {LABEL_TEAM: team, LABEL_REVISION: self.revision},
                "ownerReferences": [dict(owner)],
            },
            "data": revision_data(self.templates),
            "revision": self.number,
        }


@dataclass(frozen=True)
class RevisionRenumber:
    """Patch `revision` of an existing ControllerRevision: an old template became current again."""

    name: str
    number: int


@dataclass(frozen=True)
class RevisionHistoryPlan:
    to_create: tuple[RevisionObject, ...] = ()
    to_renumber: tuple[RevisionRenumber, ...] = ()
    to_delete: tuple[str, ...] = ()


def plan_revision_history(
    *,
    team: str,
    current: str,
    current_templates: MemberTemplates,
    protected: Collection[str],
    observed: Sequence[ObservedRevision],
    limit: int,
) -> RevisionHistoryPlan:
    """Keep the current revision newest, and at most `limit` older ones besides `protected` (the stable
    revision and any revision agents still carry, needed for rollback)."""
    numbers = [stored.number for stored in observed]
    newest = max(numbers, default=0)
    existing = next((stored for stored in observed if stored.revision == current), None)
    to_create: tuple[RevisionObject, ...] = ()
    to_renumber: tuple[RevisionRenumber, ...] = ()
    if existing is None:
        to_create = (
            RevisionObject(revision_object_name(team, current), current, newest + 1, current_templates),
        )
    elif existing.number < newest or numbers.count(newest) > 1:
        to_renumber = (RevisionRenumber(existing.name, newest + 1),)
    old = sorted(
        (stored for stored in observed if stored.revision != current), key=lambda s: (s.number, s.name)
    )
    excess = len(old) - limit
    deletable = [stored.name for stored in old if stored.revision not in protected]
    return RevisionHistoryPlan(to_create, to_renumber, tuple(deletable[: max(excess, 0)]))
