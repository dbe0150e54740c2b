"""What the dashboard shows, kept current by one set of list+watch streams (edge).

`Kube.watch` with its RESYNCs, fed into the operator's `ObjectCache`s (the dashboard also runs on its own,
without the operator's kopf): one watch per kind (per namespace when limited to some), however many pages
are open. Every change wakes the open pages
(`subscribe`), which re-render from these caches; Agent changes are also recorded as activity samples for
the timeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Iterator

from tmux_orchestrator.api.constants import GROUP, LABEL_TEAM
from tmux_orchestrator.controller.cache import Change, ObjectCache, ObjectKey
from tmux_orchestrator.kube.client import Kube, KubeObject, Resource, WatchEvent

from .timeline import ActivityHistory, band_state
from .views import event_time

log = logging.getLogger(__name__)


def _team_of(agent: KubeObject) -> Iterable[Hashable]:
    meta = agent.get("metadata") or {}
    team = (meta.get("labels") or {}).get(LABEL_TEAM) or ((agent.get("spec") or {}).get("teamRef") or {}).get(
        "name"
    )
    return [(meta.get("namespace"), team)] if team else []


def message_target(message: KubeObject) -> str | None:
    """The Agent a message is for: spec.agent, else the agent the operator routed it to."""
    spec = message.get("spec") or {}
    labels = (message.get("metadata") or {}).get("labels") or {}
    target = spec.get("agent") or labels.get(f"{GROUP}/agent")
    return str(target) if target else None


def message_sender(message: KubeObject) -> str | None:
    sender = (message.get("spec") or {}).get("from")
    if isinstance(sender, dict):  # a structured sender names its agent
        sender = sender.get("agent") or sender.get("name")
    return str(sender) if sender else None


def _message_keys(message: KubeObject) -> Iterable[Hashable]:
    namespace = (message.get("metadata") or {}).get("namespace")
    keys: list[Hashable] = []
    if target := message_target(message):
        keys.append(("to", namespace, target))
    if sender := message_sender(message):
        keys.append(("from", namespace, sender))
    return keys


def _regarding(event: KubeObject) -> Iterable[Hashable]:
    regarding = event.get("involvedObject") or {}
    if not str(regarding.get("apiVersion") or "").startswith(f"{GROUP}/"):
        return []
    namespace = regarding.get("namespace") or (event.get("metadata") or {}).get("namespace")
    return [(namespace, regarding.get("kind"), regarding.get("name"))]


async def follow(cache: ObjectCache, events: AsyncIterator[WatchEvent], scope: str | None = None) -> None:
    """Feed `cache` from the list+watch stream of `scope` (a namespace, or None for all), forever."""
    async for event in events:
        cache.apply(event, scope)


class Fleet:
    """Caches of teams, agents, nodes, messages and core/v1 Events about our objects; the activity history."""

    def __init__(self, kube: Kube, namespaces: tuple[str, ...] = (), clock: Callable[[], float] = time.time):
        self.kube = kube
        self.namespaces = namespaces
        self.clock = clock
        self.teams = ObjectCache("AgentTeam")
        self.agents = ObjectCache("Agent", {"team": _team_of})
        self.nodes = ObjectCache("TmuxNode")
        self.messages = ObjectCache("AgentMessage", {"about": _message_keys})
        self.events = ObjectCache("Event", {"regarding": _regarding})
        self.history = ActivityHistory()
        self._subscribers: set[asyncio.Event] = set()
        for cache in self._caches():
            cache.expect_scopes(self._scopes(cache))
            cache.subscribe(self._changed)

    def _caches(self) -> tuple[ObjectCache, ...]:
        return (self.teams, self.agents, self.nodes, self.messages, self.events)

    def _scopes(self, cache: ObjectCache) -> list[str | None]:
        if cache is self.nodes or not self.namespaces:
            return [None]
        return list(self.namespaces)

    @property
    def synced(self) -> bool:
        return all(cache.synced for cache in self._caches())

    async def run(self) -> None:
        """Follow every stream until cancelled."""
        streams: list[tuple[ObjectCache, AsyncIterator[WatchEvent], str | None]] = [
            (self.nodes, self.kube.watch(Resource.TMUX_NODES), None)
        ]
        for scope in self._scopes(self.teams):
            streams += [
                (self.teams, self.kube.watch(Resource.AGENT_TEAMS, scope), scope),
                (self.agents, self.kube.watch(Resource.AGENTS, scope), scope),
                (self.messages, self.kube.watch(Resource.AGENT_MESSAGES, scope), scope),
                (self.events, self.kube.watch_events(scope), scope),
            ]
        tasks = [asyncio.create_task(follow(cache, events, scope)) for cache, events, scope in streams]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _changed(self, kind: str, change: Change) -> None:
        if kind == "Agent":
            meta = change.current["metadata"]
            if change.new is None:
                self.history.forget(meta["namespace"], meta["name"])
            else:
                state = band_state(change.new.get("status"))
                self.history.record(meta["namespace"], meta["name"], state, self.clock())
        for wake in self._subscribers:
            wake.set()

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Event]:
        """An event set on every change while the block runs (one per open page)."""
        wake = asyncio.Event()
        self._subscribers.add(wake)
        try:
            yield wake
        finally:
            self._subscribers.discard(wake)

    # -- reads for the pages --------------------------------------------------------------------------------

    def team(self, namespace: str, name: str) -> KubeObject | None:
        return self.teams.get(_key(namespace, name))

    def agent(self, namespace: str, name: str) -> KubeObject | None:
        return self.agents.get(_key(namespace, name))

    def node(self, name: str) -> KubeObject | None:
        return self.nodes.get(_key("", name))

    def agents_of(self, namespace: str, team: str) -> list[KubeObject]:
        return self.agents.lookup("team", (namespace, team))

    def messages_to(self, namespace: str, agent: str) -> list[KubeObject]:
        return _by_creation(self.messages.lookup("about", ("to", namespace, agent)))

    def messages_from(self, namespace: str, agent: str) -> list[KubeObject]:
        return _by_creation(self.messages.lookup("about", ("from", namespace, agent)))

    def events_about(self, namespace: str, kind: str, name: str) -> list[KubeObject]:
        events = self.events.lookup("regarding", (namespace, kind, name))
        return sorted(events, key=event_time, reverse=True)


def _key(namespace: str, name: str) -> ObjectKey:
    return ObjectKey(namespace, name)


def _by_creation(objects: list[KubeObject]) -> list[KubeObject]:
    return sorted(objects, key=lambda o: str(o["metadata"].get("creationTimestamp") or ""), reverse=True)
