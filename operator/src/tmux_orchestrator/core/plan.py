"""plan_team: one reconcile of one team, observed state in, every write as data out.

The I/O layer applies a TeamPlan in this order, stopping at the first failure (the next pass recomputes):
1. ControllerRevisions to create / renumber;
2. the status patch (it carries the observed resourceVersion: a 409 means the plan was made from a stale
   team and must be dropped). The rollout's decisions are recorded here *before* any agent moves;
3. AgentMessages to create (AlreadyExists = already sent);
4. Agents to create / patch (each patch carries the agent's resourceVersion) / delete (uid precondition),
   and the status of agents no node fits (see core.unscheduled);
5. Events (named `<object>.<key>`; AlreadyExists = already posted);
6. ControllerRevisions and AgentMessages to delete.
Writing the status first makes every rollout step crash-safe: a pass replayed after a crash finds the step
it recorded and the agents it already moved, and moves only the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tmux_orchestrator.api.agent import AgentSpec, AgentTemplate, DesiredState, TeamRef
from tmux_orchestrator.api.constants import (
    ANNOTATION_ABORT,
    ANNOTATION_PROMOTE,
    ANNOTATION_RESTARTED_AT,
    API_VERSION,
)
from tmux_orchestrator.api.team import AgentTeamSpec, AgentTeamStatus, LastHandled

from .agents import AgentKey, AgentView
from .checkins import plan_check_ins
from .clock import format_time
from .conditions import ConditionReason, ConditionType, condition_since, find_condition
from .events import EventReason, TeamEvent, team_event
from .naming import (
    AGENT_KIND,
    ANNOTATION_BRIEFED_INCARNATION,
    ANNOTATION_RESTARTS_AT_UPDATE,
    ANNOTATION_REVISION_UPDATED_AT,
    BRIEFED_INITIAL,
    agent_labels,
    agent_name,
    owner_reference,
    session_name,
    window_name,
)
from .notifications import Notification, NotificationPlan, plan_notifications
from .observed import Observed, ObservedAgent
from .patch import merge_patch
from .restart import RestartPlan, plan_rolling_restart
from .rollout import RolloutDecision, RolloutPhase, RolloutPolicy, RolloutRecord, advance_rollout
from .scheduling import ScheduleDecision, SchedulingReason, schedule_team
from .status import TeamProgress, compute_team_status
from .templates import (
    RevisionHistoryPlan,
    build_template_book,
    plan_revision_history,
    team_templates,
    template_revision,
)
from .unscheduled import AgentStatusWrite, plan_unscheduled_agents


@dataclass(frozen=True)
class DesiredAgent:
    """An Agent to create."""

    name: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    spec: AgentSpec

    def to_wire(self, namespace: str, owner: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": API_VERSION,
            "kind": AGENT_KIND,
            "metadata": {
                "name": self.name,
                "namespace": namespace,
                "labels": dict(self.labels),
                "annotations": dict(self.annotations),
                "ownerReferences": [dict(owner)],
            },
            "spec": self.spec.to_wire(),
        }


@dataclass(frozen=True)
class AgentUpdate:
    """A JSON merge patch for one Agent (metadata.resourceVersion included as a precondition)."""

    name: str
    patch: Mapping[str, Any]
    changes: tuple[str, ...]
    """What changed, for logs: revision, node, restart, spec, labels, annotations, owner."""


@dataclass(frozen=True)
class AgentDeletion:
    name: str
    uid: str
    """Delete precondition: never delete a newer object that reused the name."""


@dataclass(frozen=True)
class TeamPlan:
    team: str
    namespace: str
    owner: Mapping[str, Any]
    """The controller ownerReference every object the plan creates carries."""
    status: AgentTeamStatus
    status_patch: Mapping[str, Any] | None = None
    """Merge patch for the status subresource; None when the status is unchanged (write nothing)."""
    agents_to_create: tuple[DesiredAgent, ...] = ()
    agents_to_update: tuple[AgentUpdate, ...] = ()
    agents_to_delete: tuple[AgentDeletion, ...] = ()
    agent_statuses: tuple[AgentStatusWrite, ...] = ()
    """Status of agents without a node (Pending, Scheduled=False): nobody else can write it."""
    revisions: RevisionHistoryPlan = field(default_factory=RevisionHistoryPlan)
    messages_to_send: tuple[Notification, ...] = ()
    messages_to_delete: tuple[str, ...] = ()
    events: tuple[TeamEvent, ...] = ()
    requeue_after: float | None = None
    """Seconds until the plan may change with no watched object changing (a pause ends, an analysis
    passes, a Lease may expire, an agent turns idle); 0 when the next step is due at once; None: no timer."""

    @property
    def writes_nothing(self) -> bool:
        return not (
            self.status_patch
            or self.agents_to_create
            or self.agents_to_update
            or self.agents_to_delete
            or self.agent_statuses
            or self.revisions.to_create
            or self.revisions.to_renumber
            or self.revisions.to_delete
            or self.messages_to_send
            or self.messages_to_delete
        )

    def revision_bodies(self) -> list[dict[str, Any]]:
        return [r.to_wire(self.team, self.namespace, self.owner) for r in self.revisions.to_create]

    def agent_bodies(self) -> list[dict[str, Any]]:
        return [a.to_wire(self.namespace, self.owner) for a in self.agents_to_create]

    def message_bodies(self) -> list[dict[str, Any]]:
        return [m.to_wire(self.team, self.namespace, self.owner) for m in self.messages_to_send]


def declared_agents(team: str, spec: AgentTeamSpec) -> list[AgentKey]:
    """One key per member replica, in spec order; scaling down drops the highest ordinals."""
    return [
        AgentKey(agent_name(team, member.name, ordinal), member.name, index, ordinal, member.role)
        for index, member in enumerate(spec.members)
        for ordinal in range(member.replicas)
    ]


def agent_spec(
    team: str,
    *,
    spec: AgentTeamSpec,
    key: AgentKey,
    revision: str,
    template: AgentTemplate,
    node: str | None,
    restarted_at: str | None,
) -> AgentSpec:
    return AgentSpec(
        team_ref=TeamRef(name=team),
        member=key.member,
        role=key.role,
        ordinal=key.ordinal,
        node_name=node,
        session=session_name(team, spec),
        window=window_name(key.member, key.ordinal),
        revision=revision,
        template=template,
        restart_policy=spec.restart_policy,
        recovery=spec.recovery,
        monitoring=spec.monitoring,
        desired_state=DesiredState.RUNNING,
        restarted_at=restarted_at,
    )


def assign_nodes(agents: Sequence[AgentView], schedule: ScheduleDecision) -> dict[str, str | None]:
    """Node of each agent: the team's node while it has room (agents already there keep their place),
    otherwise where it is (a lost node is kept: the agent resumes if the node comes back)."""
    if schedule.node is None:
        return {a.name: a.node for a in agents}
    placed: dict[str, str | None] = {a.name: schedule.node for a in agents if a.node == schedule.node}
    room = schedule.free_slots - len(placed)
    for agent in agents:
        if agent.name in placed:
            continue
        if room > 0:
            placed[agent.name] = schedule.node
            room -= 1
        else:
            placed[agent.name] = agent.node
    return placed


def _pending(annotations: Mapping[str, str], key: str, handled: str | None) -> str | None:
    value = annotations.get(key) or None
    return value if value is not None and value != handled else None


def _common_node(agents: Iterable[ObservedAgent]) -> str | None:
    counts = Counter(a.spec.node_name for a in agents if a.spec.node_name)
    return min(counts, key=lambda n: (-counts[n], n), default=None)


def _partition(agents: Sequence[ObservedAgent], uid: str) -> tuple[dict[str, ObservedAgent], list[str]]:
    """Agents the team owns or may adopt (no controller), and names taken by anything else."""
    owned: dict[str, ObservedAgent] = {}
    taken: list[str] = []
    for agent in agents:
        if agent.deleting or agent.controller_uid not in (None, uid):
            taken.append(agent.name)
        else:
            owned[agent.name] = agent
    return owned, taken


def _scheduling_events(
    previous: AgentTeamStatus, schedule: ScheduleDecision, agents: Sequence[AgentView], when: str
) -> list[TeamEvent]:
    if schedule.node is not None and schedule.node == previous.node:
        return []
    if schedule.reason is SchedulingReason.SCHEDULED:
        return [team_event(EventReason.SCHEDULED, f"team scheduled on node {schedule.node}", occasion=when)]
    if schedule.moved:
        events = []
        if schedule.lost_node:
            lost = sum(1 for a in agents if a.node == schedule.lost_node)
            message = f"node {schedule.lost_node} lost (Lease expired): {lost} agent(s) Lost"
            events.append(team_event(EventReason.NODE_LOST, message, occasion=when))
        events.append(team_event(EventReason.RESCHEDULED, schedule.message, occasion=when))
        return events
    return []


def _unschedulable_event(
    previous: AgentTeamStatus, status: AgentTeamStatus, schedule: ScheduleDecision, when: str
) -> list[TeamEvent]:
    """Posted when the reason agents cannot be placed first appears or changes. A team being moved off a
    lost node already got its NodeLost and Rescheduled events."""
    before = find_condition(previous.conditions, ConditionType.RECONCILING)
    after = find_condition(status.conditions, ConditionType.RECONCILING)
    if after is None or (before is not None and before.message == after.message):
        return []
    if after.reason == ConditionReason.UNSCHEDULABLE:
        return [team_event(EventReason.FAILED_SCHEDULING, after.message or "", occasion=when)]
    if after.reason == ConditionReason.NODE_LOST and schedule.node is None:
        return [team_event(EventReason.NODE_LOST, after.message or "", occasion=when)]
    return []


def _requeue(now: datetime, moments: Iterable[datetime | None], immediate: bool) -> float | None:
    if immediate:
        return 0.0
    future = [(m - now).total_seconds() for m in moments if m is not None]
    return max(min(future), 0.0) if future else None


@dataclass(frozen=True)
class _Scene:
    """What one pass sees of the team, in the core's terms."""

    observed: Observed
    owned: Mapping[str, ObservedAgent]
    taken: Sequence[str]
    views: Sequence[AgentView]
    live_nodes: frozenset[str]
    schedule: ScheduleDecision

    @property
    def when(self) -> str:
        return format_time(self.observed.now)


@dataclass(frozen=True)
class _Intent:
    """What the pass decided, before it is turned into objects."""

    templates: Mapping[str, AgentTemplate]
    target: str
    policy: RolloutPolicy
    rollout: RolloutDecision
    last_handled: LastHandled
    restart_request: str | None
    restart: RestartPlan


def _observe(observed: Observed) -> _Scene:
    team, spec, now = observed.team, observed.team.spec, observed.now
    live = frozenset(node.name for node in observed.nodes if node.is_live(now))
    owned, taken = _partition(observed.agents, team.uid)
    keys = declared_agents(team.name, spec)
    schedule = schedule_team(
        nodes=observed.nodes,
        selector=(spec.placement.node_selector if spec.placement else None) or {},
        required=len(keys),
        current=team.status.node or _common_node(owned.values()),
        own_agents_per_node=Counter(a.spec.node_name for a in observed.agents if a.spec.node_name),
        now=now,
    )
    views = [
        AgentView(key, owned.get(key.name), key.name in owned and owned[key.name].spec.node_name in live)
        for key in keys
    ]
    return _Scene(observed, owned, taken, views, live, schedule)


def _decide(scene: _Scene) -> _Intent:
    team = scene.observed.team
    templates = team_templates(team.spec)
    target = template_revision(templates)
    policy = RolloutPolicy.from_spec(team.spec)
    handled = team.status.last_handled or LastHandled()
    promote = _pending(team.annotations, ANNOTATION_PROMOTE, handled.promote)
    abort = _pending(team.annotations, ANNOTATION_ABORT, handled.abort)
    restart_request = _pending(team.annotations, ANNOTATION_RESTARTED_AT, handled.restarted_at)
    rollout = advance_rollout(
        policy=policy,
        target=target,
        record=RolloutRecord.from_status(team.status),
        agents=scene.views,
        promote_pending=promote is not None,
        abort_pending=abort is not None,
        now=scene.observed.now,
    )
    last_handled = LastHandled(
        promote=promote if rollout.promote_handled else handled.promote,
        abort=abort if rollout.abort_handled else handled.abort,
        restarted_at=restart_request or handled.restarted_at,
    )
    restart = plan_rolling_restart(scene.views, last_handled.restarted_at)
    return _Intent(templates, target, policy, rollout, last_handled, restart_request, restart)


def _desired_agents(scene: _Scene, intent: _Intent) -> tuple[list[DesiredAgent], list[DesiredAgent]]:
    """Agents to create, and the desired form of the existing ones. Annotations hold only what changes:
    revision stamps when an agent moves to another revision, the briefing marker on a new team's PM."""
    team = scene.observed.team
    placement = assign_nodes(scene.views, scene.schedule)
    book = build_template_book(
        intent.target, intent.templates, scene.observed.revisions, scene.owned.values()
    )
    brand_new = not scene.owned and not team.status.ready_replicas
    creates: list[DesiredAgent] = []
    existing: list[DesiredAgent] = []
    for view in scene.views:
        key, current = view.key, view.observed
        revision = intent.rollout.targets[key.name]
        template = book.template(revision, key.member)
        if template is None:  # that revision's template is gone from history: leave the agent as it is
            revision = view.revision or intent.target
            template = current.spec.template if current else intent.templates[key.member]
        node = placement[key.name]
        restarted_at = intent.restart.restarted_at[key.name]
        annotations: dict[str, str] = {}
        if current is None or current.spec.revision != revision:
            restarts = current.status.restart_count if current and current.status else None
            annotations[ANNOTATION_REVISION_UPDATED_AT] = scene.when
            annotations[ANNOTATION_RESTARTS_AT_UPDATE] = str(restarts or 0)
        if current is None and key.is_pm and brand_new:
            annotations[ANNOTATION_BRIEFED_INCARNATION] = BRIEFED_INITIAL
        agent = DesiredAgent(
            key.name,
            agent_labels(team.name, key.member, key.role, revision, node),
            annotations,
            agent_spec(
                team.name,
                spec=team.spec,
                key=key,
                revision=revision,
                template=template,
                node=node,
                restarted_at=restarted_at,
            ),
        )
        if current is not None:
            existing.append(agent)
        elif key.name not in scene.taken:
            creates.append(agent)
    return creates, existing


def _events(
    scene: _Scene, intent: _Intent, status: AgentTeamStatus, notes: NotificationPlan
) -> list[TeamEvent]:
    previous = scene.observed.team.status
    events = [
        *_scheduling_events(previous, scene.schedule, scene.views, scene.when),
        *_unschedulable_event(previous, status, scene.schedule, scene.when),
        *intent.rollout.events,
        *notes.events,
    ]
    if intent.restart_request is not None:
        request = f"{ANNOTATION_RESTARTED_AT}={intent.restart_request}"
        message = f"rolling restart of {len(scene.views)} agent(s) ({request})"
        events.append(team_event(EventReason.RESTART_STARTED, message, occasion=scene.when))
    return events


def plan_team(observed: Observed) -> TeamPlan:
    """Everything to write for one team, computed from what was observed. Pure."""
    team, now = observed.team, observed.now
    owner = owner_reference(team.name, team.uid)
    if team.deleting:
        return TeamPlan(team.name, team.namespace, owner, team.status)
    scene = _observe(observed)
    intent = _decide(scene)
    creates, existing = _desired_agents(scene, intent)
    declared = {view.name for view in scene.views}
    deletes = [AgentDeletion(a.name, a.uid) for a in scene.owned.values() if a.name not in declared]
    status = compute_team_status(
        previous=team.status,
        generation=team.generation,
        agents=scene.views,
        rollout=intent.rollout.state,
        policy=intent.policy,
        schedule=scene.schedule,
        last_handled=intent.last_handled,
        progress=TeamProgress(
            restarting=intent.restart.pending,
            creating=len(creates),
            deleting=len(deletes),
            conflicts=sorted(declared.intersection(scene.taken)),
        ),
        now=now,
    )
    stopped = intent.rollout.state.phase in (RolloutPhase.ABORTED, RolloutPhase.HALTED)
    notes = plan_notifications(
        team=team.name,
        spec=team.spec,
        agents=scene.views,
        rollout=intent.rollout.state,
        rollout_stopped_at=condition_since(status.conditions, ConditionType.PROGRESSING) if stopped else None,
        sent=observed.messages,
        now=now,
    )
    check_ins = plan_check_ins(
        team=team.name,
        check_in=team.spec.monitoring.check_in,
        agents=scene.views,
        sent=observed.messages,
        now=now,
    )
    briefed = notes.briefed or {}
    updates = [
        update
        for agent in existing
        if (update := _agent_update(scene.owned[agent.name], agent, briefed.get(agent.name), owner))
        is not None
    ]
    pending_writes, pending_events = plan_unscheduled_agents(
        scene.views, assign_nodes(scene.views, scene.schedule), scene.schedule, now
    )
    nodes = {node.name: node for node in observed.nodes}
    lease_ends = [
        nodes[v.node].lease_expires_at
        for v in scene.views
        if v.node is not None and v.node in scene.live_nodes
    ]
    return TeamPlan(
        team=team.name,
        namespace=team.namespace,
        owner=owner,
        status=status,
        status_patch=_status_patch(team.resource_version, team.status, status),
        agents_to_create=tuple(creates),
        agents_to_update=tuple(updates),
        agents_to_delete=tuple(deletes),
        agent_statuses=tuple(pending_writes),
        revisions=plan_revision_history(
            team=team.name,
            current=intent.target,
            current_templates=intent.templates,
            protected={intent.rollout.state.stable_revision} | {a.spec.revision for a in observed.agents},
            observed=observed.revisions,
            limit=team.spec.revision_history_limit,
        ),
        messages_to_send=(*notes.messages, *check_ins.messages),
        messages_to_delete=(*notes.to_delete, *check_ins.to_delete),
        events=(*_events(scene, intent, status, notes), *pending_events),
        requeue_after=_requeue(
            now,
            [intent.rollout.wake_at, notes.wake_at, check_ins.wake_at, *lease_ends],
            intent.rollout.transitioned,
        ),
    )


def _status_patch(
    resource_version: str | None, previous: AgentTeamStatus, status: AgentTeamStatus
) -> dict[str, Any] | None:
    diff = merge_patch(previous.to_wire(), status.to_wire())
    if not diff:
        return None
    patch: dict[str, Any] = {"status": diff}
    if resource_version:
        patch["metadata"] = {"resourceVersion": resource_version}
    return patch


def _agent_update(
    agent: ObservedAgent, desired: DesiredAgent, briefed: str | None, owner: Mapping[str, Any]
) -> AgentUpdate | None:
    """The merge patch from `agent` to `desired`; only our label and annotation keys are touched."""
    spec_patch = merge_patch(agent.spec.to_wire(), desired.spec.to_wire())
    changes = [name for name, key in _SPEC_CHANGES if key in spec_patch] or (["spec"] if spec_patch else [])
    annotations = dict(desired.annotations)
    if briefed is not None:
        annotations[ANNOTATION_BRIEFED_INCARNATION] = briefed
    metadata: dict[str, Any] = {}
    for name, wanted, current in (
        ("labels", desired.labels, agent.labels),
        ("annotations", annotations, agent.annotations),
    ):
        changed = {k: v for k, v in wanted.items() if current.get(k) != v}
        if changed:
            metadata[name] = changed
            changes.append(name)
    if agent.controller_uid is None:  # an orphan with our name and labels: adopt it, as a ReplicaSet does
        metadata["ownerReferences"] = [*map(dict, agent.owner_references), dict(owner)]
        changes.append("owner")
    if not changes:
        return None
    if agent.resource_version:
        metadata["resourceVersion"] = agent.resource_version
    patch: dict[str, Any] = {"metadata": metadata}
    if spec_patch:
        patch["spec"] = spec_patch
    return AgentUpdate(agent.name, patch, tuple(changes))


_SPEC_CHANGES = (
    ("revision", "revision"),
    ("node", "nodeName"),
    ("restart", "restartedAt"),
    ("template", "template"),
)
