"""The operator's control loops: kopf's watch events and our listings feed the caches, changes trigger
per-team reconciles and message routing, each a level-triggered pass over what is observed now.

`reconcile_team` is the one way a team is acted on, whoever asks: the team changing, an Agent of
the team changing, its node or that node's Lease changing liveness, the timer the previous pass asked for
(plan.requeue_after), or the periodic resync. Passes over one team never overlap (WorkQueue).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from pydantic import ValidationError

from tmux_orchestrator.api.constants import LABEL_NODE
from tmux_orchestrator.core import LABEL_NOTIFICATION, EventType, Observed, plan_team
from tmux_orchestrator.core.lost import plan_lost_agents
from tmux_orchestrator.core.naming import short_hash
from tmux_orchestrator.core.nodes import plan_node_status
from tmux_orchestrator.core.wakeups import team_wake_delay
from tmux_orchestrator.kube.client import (
    NODE_LEASE_NAMESPACE,
    ApiError,
    Kube,
    KubeObject,
    Resource,
    describe_error,
    is_conflict,
    is_not_found,
    is_unavailable,
    node_lease_name,
)

from .apply import EventPoster, apply_team_plan
from .cache import Change, ObjectKey, object_key
from .listing import cache_listings, sync_cache
from .metrics import (
    AGENTS,
    MESSAGE_ROUTES,
    NOTIFICATIONS,
    RECONCILE_ERRORS,
    RECONCILE_SECONDS,
    RECONCILES,
    track_phases,
)
from .observe import (
    BY_TARGET,
    ClusterCaches,
    agent_node,
    lease_is_live,
    observe_team,
    observed_node,
    team_key,
)
from .routing import MessageTarget, RouteOutcome, message_phase, route_message, target_agent
from .workqueue import WorkQueue

log = logging.getLogger(__name__)

STALE_RETRY_SECONDS: Final = 0.5
"""After a 409 or 404 the pass was planned from a stale picture: look again shortly (the watch that
brings the news usually triggers the next pass even sooner)."""
INVALID_RETRY_SECONDS: Final = 60.0
REQUEUE_MARGIN_SECONDS: Final = 0.5
"""Added to timers: a Lease is still live at its exact expiry instant, a pause still running at its end."""
IDLE_REQUEUE_FLOOR_SECONDS: Final = 1.0
"""A plan that writes nothing yet asks to run again at once must not spin."""
LEASE_RECHECK_SECONDS: Final = 10.0
"""A Lease that looks expired is read from the API server at most this often per node."""
RELIST_AFTER_KOPF_SECONDS: Final = 1.0
"""A kind is listed again this long after kopf began relisting it (one listing for the whole relist)."""


class ReconcileResult(StrEnum):
    UNCHANGED = "unchanged"
    APPLIED = "applied"
    STALE = "stale"
    GONE = "gone"
    INVALID = "invalid"
    FAILED = "failed"


@dataclass(frozen=True)
class ControllerConfig:
    namespaces: tuple[str, ...] = ()
    """Namespaces served; empty: all of them."""
    team_workers: int = 8
    route_workers: int = 2
    resync_seconds: float = 300.0
    """How often every watched kind is listed again (dropping what a watch gap hid) and every team
    reconciled anyway."""


class Controller:
    def __init__(self, kube: Kube, config: ControllerConfig) -> None:
        self.kube = kube
        self.config = config
        self.caches = ClusterCaches()
        self.events = EventPoster(kube)
        self._running: asyncio.Task[None] | None = None
        self._lease_checked: dict[str, float] = {}
        self._stopped = asyncio.Event()
        self._stopped.set()
        self.active: Callable[[], bool] = lambda: True
        """False once this replica may no longer act (leader election lost): passes are skipped."""
        self.teams: WorkQueue[ObjectKey] = WorkQueue(
            "teams", self.reconcile_team, workers=config.team_workers, describe=_describe_api_error
        )
        self.routes: WorkQueue[ObjectKey] = WorkQueue(
            "messages", self.sync_message_route, workers=config.route_workers, describe=_describe_api_error
        )
        self.node_statuses: WorkQueue[str] = WorkQueue(
            "nodes", self.sync_node_status, workers=1, describe=_describe_api_error
        )
        self.listings = cache_listings(kube, self.caches, config.namespaces)
        # A listing of many objects from a busy API server may take seconds: not a pass that hangs.
        self.relists: WorkQueue[str] = WorkQueue(
            "relists",
            self.sync_kind,
            workers=len(self.listings),
            describe=_describe_api_error,
            detach_after=30.0,
        )
        self.caches.teams.subscribe(self._team_changed)
        self.caches.agents.subscribe(self._agent_changed)
        self.caches.agents.subscribe(track_phases(AGENTS, _status_phase))
        self.caches.nodes.subscribe(self._node_changed)
        self.caches.leases.subscribe(self._lease_changed)
        self.caches.revisions.subscribe(self._revision_changed)
        self.caches.messages.subscribe(self._message_changed)
        self.caches.messages.subscribe(track_phases(NOTIFICATIONS, _notification_phase))

    # -- running ------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """List every watched kind into its cache; once all are synced, reconcile and route. Until stopped.
        The caches follow kopf's watch events (`watch_event`) whether this runs or not (a standby's too)."""
        self._running = asyncio.current_task()
        self._stopped.clear()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.relists.run(), name="relist-workers")
                for kind in self.listings:
                    self.relists.add(kind)
                while not self.caches.synced:  # the first listing of every kind (retried while it fails)
                    await asyncio.sleep(0.05)
                log.info("caches synced; reconciling %d team(s)", len(self.caches.teams))
                group.create_task(self.teams.run(), name="team-workers")
                group.create_task(self.routes.run(), name="route-workers")
                group.create_task(self.node_statuses.run(), name="node-workers")
                for node in self.caches.nodes:
                    self.node_statuses.add(object_key(node).name)
                for team in self.caches.teams:
                    self.teams.add(object_key(team))
                group.create_task(self._resync_forever(), name="resync")
                group.create_task(self.events.run(), name="event-posters")
        finally:
            self._stopped.set()

    async def stop(self) -> None:
        """Cancel `run` and wait until every task it started has ended."""
        if self._running is not None:
            self._running.cancel()
        await self._stopped.wait()

    async def _resync_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.resync_seconds)
            self.resync()

    def resync(self) -> None:
        """List every kind again (dropping what a watch gap hid) and give every team a pass."""
        for kind in self.listings:
            self.relists.add(kind)
        for team in self.caches.teams:
            self.teams.add(object_key(team))

    async def sync_kind(self, kind: str) -> float | None:
        """One kind's listing replaces its cache's content (failures are retried by the queue)."""
        await sync_cache(self.listings[kind])
        return None

    # -- watch events, from kopf ---------------------------------------------------------------------------

    def watch_event(self, kind: str, event_type: str | None, body: KubeObject) -> None:
        """A watch event as kopf delivers it: type None for the objects of a listing."""
        listing = self.listings[kind]
        namespace = str((body.get("metadata") or {}).get("namespace") or "")
        served = self.config.namespaces
        if listing.kind.in_served_namespaces and served and namespace not in served:
            return  # kopf also watches the node Lease namespace, for every kind (one scope per operator)
        if event_type == "DELETED":
            listing.cache.remove(body)
        else:
            listing.cache.put(body)
        if event_type is None and listing.cache.synced:
            # kopf lists again only when its watch could not resume (410 Gone): what was deleted meanwhile
            # stays in its picture, and in ours until a listing of our own says so.
            self.relists.add(kind, RELIST_AFTER_KOPF_SECONDS)

    # -- reconciling ---------------------------------------------------------------------------------------

    async def reconcile_team(self, key: ObjectKey) -> float | None:
        """One pass: observe → plan → apply. Returns when the team wants its next pass."""
        if not self.active():
            return None
        started = time.perf_counter()
        result, requeue = ReconcileResult.FAILED, None
        try:
            result, requeue = await self._reconcile(key)
        except ApiError as error:
            RECONCILE_ERRORS.labels(error=f"HTTP {error.status}").inc()
            raise
        except Exception as error:
            RECONCILE_ERRORS.labels(error=type(error).__name__).inc()
            raise
        finally:
            RECONCILE_SECONDS.observe(time.perf_counter() - started)
            RECONCILES.labels(result=result.value).inc()
        return requeue

    async def _reconcile(self, key: ObjectKey) -> tuple[ReconcileResult, float | None]:
        try:
            observed = observe_team(self.caches, key, datetime.now(UTC))
        except ValidationError as error:
            RECONCILE_ERRORS.labels(error="Invalid").inc()
            log.error("team %s/%s: an observed object does not match its schema: %s", *key, error)
            return ReconcileResult.INVALID, INVALID_RETRY_SECONDS
        team = self.caches.teams.get(key)
        if observed is None or team is None:
            self.teams.forget(key)
            return ReconcileResult.GONE, None
        if await self._confirm_lost_nodes(observed):
            return ReconcileResult.STALE, 0.0
        if await self._mark_lost_agents(observed):
            return ReconcileResult.APPLIED, 0.0  # one step per pass: plan from what we just wrote
        plan = plan_team(observed)
        if plan.writes_nothing:
            for event in plan.events:  # level events: posted once, remembered
                self.events.post_team_event(team, event, self.caches)
            return ReconcileResult.UNCHANGED, _requeue(plan.requeue_after, IDLE_REQUEUE_FLOOR_SECONDS)
        try:
            await apply_team_plan(self.kube, self.caches, self.events, plan, team)
        except ApiError as error:
            if not (is_conflict(error) or is_not_found(error)):
                raise
            log.info(
                "team %s/%s: planned from a stale picture (HTTP %s); observing again", *key, error.status
            )
            if is_not_found(error):
                await self._forget_team_if_gone(key)
            return ReconcileResult.STALE, STALE_RETRY_SECONDS
        return ReconcileResult.APPLIED, _requeue(plan.requeue_after, 0.0)

    async def _mark_lost_agents(self, observed: Observed) -> bool:
        """Status of agents whose node stopped renewing its Lease (confirmed just before): phase Lost.
        True when anything was written (the agents' resourceVersions moved: the pass must observe again)."""
        patches = plan_lost_agents(observed)
        for name, patch in patches:
            try:
                self.caches.agents.put(
                    await self.kube.patch_status(Resource.AGENTS, name, patch, observed.team.namespace)
                )
            except ApiError as error:
                if not is_not_found(error):
                    raise
            log.info(
                "agent %s/%s marked Lost (its node stopped renewing its Lease)", observed.team.namespace, name
            )
        return bool(patches)

    async def _confirm_lost_nodes(self, observed: Observed) -> bool:
        """Read the Lease of each node of the team that looks lost, before the team is moved off it: a
        watch that lags must never move teams. True when a Lease was fresher than the cache had it."""
        placed = {observed.team.status.node, *(agent.spec.node_name for agent in observed.agents)}
        refreshed = False
        for node in sorted(name for name in placed if name):
            cached = self.caches.node_lease(node)
            checked = self._lease_checked.get(node)
            if lease_is_live(cached, observed.now) or (
                checked is not None and time.monotonic() - checked < LEASE_RECHECK_SECONDS
            ):
                continue
            self._lease_checked[node] = time.monotonic()
            lease = await self.kube.read_lease(node_lease_name(node), NODE_LEASE_NAMESPACE)
            if lease is not None and lease_is_live(lease, observed.now):
                log.warning("Lease of node %s was stale in the cache (watch lagging?); read it again", node)
                self.caches.leases.put(lease)
                refreshed = True
        return refreshed

    async def _forget_team_if_gone(self, key: ObjectKey) -> None:
        """A 404 may mean the team itself is gone and its deletion never reached the cache."""
        try:
            await self.kube.get(Resource.AGENT_TEAMS, key.name, key.namespace)
        except ApiError as error:
            if not is_not_found(error):
                raise
            team = self.caches.teams.get(key)
            if team is not None:
                self.caches.teams.remove(team)

    # -- TmuxNodes whose Lease expired ---------------------------------------------------------------------

    async def sync_node_status(self, name: str) -> float | None:
        """Ready=Unknown (NodeLost) on a TmuxNode whose Lease expired, after reading the Lease itself (a
        lagging watch must never mark a live node). Returns when to look again: at the Lease's expiry."""
        if not self.active():
            return None
        node = self.caches.nodes.get(ObjectKey("", name))
        if node is None:
            self.node_statuses.forget(name)
            return None
        now = datetime.now(UTC)
        plan = plan_node_status(observed_node(self.caches, node), now)
        if plan.patch is not None:
            lease = await self.kube.read_lease(node_lease_name(name), NODE_LEASE_NAMESPACE)
            if lease is not None and lease_is_live(lease, now):
                self.caches.leases.put(lease)
                return 0.0
            try:
                updated = await self.kube.patch_status(Resource.TMUX_NODES, name, plan.patch)
            except ApiError as error:
                if is_not_found(error):
                    return None
                raise
            self.caches.nodes.put(updated)
            log.warning("node %s lost: its Lease expired; Ready=Unknown (NodeLost)", name)
            message = str(plan.patch["conditions"][0].get("message") or "")
            self.events.post(
                node,
                name=f"{name}.{short_hash('NodeLost', updated['metadata'].get('resourceVersion', ''))}",
                type_=EventType.WARNING,
                reason="NodeLost",
                action="Monitor",
                note=message,
            )
        if plan.wake_at is None:
            return None
        return max((plan.wake_at - now).total_seconds(), 0.0) + REQUEUE_MARGIN_SECONDS

    # -- routing messages ----------------------------------------------------------------------------------

    async def sync_message_route(self, key: ObjectKey) -> float | None:
        """Label one AgentMessage with its target agent and that agent's node (see routing)."""
        if not self.active():
            return None
        message = self.caches.messages.get(key)
        if message is None:
            return None
        name = target_agent(message.get("spec") or {})
        agent = self.caches.agents.get(ObjectKey(key.namespace, name)) if name else None
        target = MessageTarget(name, agent_node(agent)) if name and agent else None
        decision = route_message(message, target)
        if decision.labels:
            patch = {"metadata": {"labels": dict(decision.labels)}}
            try:
                routed = await self.kube.patch(Resource.AGENT_MESSAGES, key.name, patch, key.namespace)
            except ApiError as error:
                if is_not_found(error):
                    return None
                raise
            self.caches.messages.put(routed)
            MESSAGE_ROUTES.labels(outcome=decision.outcome.value).inc()
            log.info("message %s/%s %s to %s", *key, decision.outcome.value.lower(), dict(decision.labels))
        elif decision.outcome is RouteOutcome.TARGET_MISSING:
            self.events.post(
                message,
                name=f"{key.name}.{short_hash(decision.outcome, decision.target or '')}",
                type_=EventType.WARNING,
                reason=decision.outcome.value,
                action="Route",
                note=f"no Agent {decision.target} in namespace {key.namespace}: the message waits for it",
            )
        return None

    # -- triggers (cache listeners) ------------------------------------------------------------------------

    def _team_changed(self, _kind: str, change: Change) -> None:
        self.teams.add(object_key(change.current))

    def _agent_changed(self, _kind: str, change: Change) -> None:
        agent = change.current
        team = team_key(agent)
        if team is not None:
            self.teams.add(team, team_wake_delay(change.old, change.new))
        old_node = agent_node(change.old) if change.old is not None else None
        new_node = agent_node(change.new) if change.new is not None else None
        if change.old is not None and change.new is not None and old_node == new_node:
            return
        if old_node is not None and old_node != new_node:  # room was freed on old_node
            self._wake_pending_teams()
        for message in self.caches.messages.lookup(BY_TARGET, object_key(agent)):
            self.routes.add(object_key(message))

    def _node_changed(self, _kind: str, change: Change) -> None:
        name = object_key(change.current).name
        self._wake_node(name)
        if change.new is not None:
            self.node_statuses.add(name)

    def _lease_changed(self, _kind: str, change: Change) -> None:
        # A renewal of a live Lease changes nothing; only a node turning live or lost matters. Expiry itself
        # causes no event: each team's pass asks for a timer at its node's Lease end (requeue_after).
        now = datetime.now(UTC)
        if lease_is_live(change.old, now) == lease_is_live(change.new, now):
            return
        node = ((change.current.get("metadata") or {}).get("labels") or {}).get(LABEL_NODE)
        if node:
            self._wake_node(str(node))
            self.node_statuses.add(str(node))

    def _revision_changed(self, _kind: str, change: Change) -> None:
        team = team_key(change.current)
        if team is not None:
            self.teams.add(team)

    def _message_changed(self, _kind: str, change: Change) -> None:
        message = change.current
        labels = (message.get("metadata") or {}).get("labels") or {}
        phase_changed = (
            change.old is None or change.new is None or message_phase(change.old) != message_phase(change.new)
        )
        team = team_key(message)
        if labels.get(LABEL_NOTIFICATION) and team is not None and phase_changed:
            self.teams.add(team)
        if change.new is not None:
            self.routes.add(object_key(message))

    def _wake_node(self, node: str) -> None:
        for team in self.caches.teams_on_node(node):
            self.teams.add(team)
        self._wake_pending_teams()

    def _wake_pending_teams(self) -> None:
        for team in self.caches.unplaced_teams():
            self.teams.add(team)


def _describe_api_error(error: Exception) -> str | None:
    """Refusals of the API server are expected (a namespace being deleted, RBAC, a webhook), and so is an API
    server that is down or hung for a while: one line, no traceback. Anything else is a bug: None."""
    return describe_error(error) if isinstance(error, ApiError) or is_unavailable(error) else None


def _requeue(seconds: float | None, floor: float) -> float | None:
    if seconds is None:
        return None
    return max(seconds + (REQUEUE_MARGIN_SECONDS if seconds > 0 else 0.0), floor)


def _status_phase(agent: KubeObject) -> str | None:
    """An Agent's phase as its node agent reports it; Pending until it reports one."""
    return str((agent.get("status") or {}).get("phase") or "Pending")


def _notification_phase(message: KubeObject) -> str | None:
    """Delivery phase of an operator notification; None for other messages (not counted)."""
    if not ((message.get("metadata") or {}).get("labels") or {}).get(LABEL_NOTIFICATION):
        return None
    phase = message_phase(message)
    return phase.value if phase else "Pending"
