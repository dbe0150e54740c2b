"""In-memory copies of observed objects: kept current by watch events (the operator's come from kopf, the
dashboard's from `Kube.watch`) and checked against full listings.

A listing replaces what the cache holds for its scope (`replace_all`): what it lacks was deleted while the
watch did not see it (kopf, relisting after a watch gap, never drops such objects: docs/architecture.md).
The first listing of every scope marks the cache synced: no team is planned from a partial picture (an
incomplete node list would move teams, a missing Agent would be created again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

from tmux_orchestrator.kube.client import KubeObject, WatchEvent, WatchEventType

log = logging.getLogger(__name__)

MAX_DELETIONS_KEPT: Final = 10_000


class ObjectKey(NamedTuple):
    namespace: str
    """Empty for cluster-scoped objects."""
    name: str


def object_key(obj: Mapping[str, Any]) -> ObjectKey:
    meta = obj.get("metadata") or {}
    return ObjectKey(str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def resource_version(obj: Mapping[str, Any] | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("resourceVersion") or "")


def is_older(candidate: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """`candidate` is an older version of the same object than `current`.

    resourceVersions are opaque to clients, but the API server's are etcd revisions (integers); they are
    compared only to keep a write's response (read-your-writes) from being replaced by a watch event that
    was already on its way, and when either is not a number nothing is considered older.
    """
    new, old = resource_version(candidate), resource_version(current)
    same_object = (candidate.get("metadata") or {}).get("uid") == (current.get("metadata") or {}).get("uid")
    return same_object and new.isdigit() and old.isdigit() and int(new) < int(old)


@dataclass(frozen=True)
class Change:
    """One object that changed in a cache: `old` is None when it appeared, `new` is None when it vanished."""

    old: KubeObject | None
    new: KubeObject | None

    @property
    def current(self) -> KubeObject:
        body = self.new if self.new is not None else self.old
        assert body is not None
        return body


IndexFunction = Callable[[KubeObject], Iterable[Hashable]]
ChangeListener = Callable[[str, Change], None]


class ObjectCache:
    """Objects of one kind by (namespace, name), with secondary indexes maintained on every change.

    Listeners are told about every change, including the ones a RESYNC reveals.
    """

    def __init__(self, kind: str, indexes: Mapping[str, IndexFunction] | None = None) -> None:
        self.kind = kind
        self.synced = False
        self._objects: dict[ObjectKey, KubeObject] = {}
        self._index_functions = dict(indexes or {})
        self._indexes: dict[str, dict[Hashable, set[ObjectKey]]] = {
            name: {} for name in self._index_functions
        }
        self._listeners: list[ChangeListener] = []
        self._unsynced: set[str | None] = {None}
        self._deleted: dict[ObjectKey, str] = {}
        """resourceVersion of each deletion seen since the last listing: a listing taken before it must not
        bring the object back."""

    def __len__(self) -> int:
        return len(self._objects)

    def __iter__(self) -> Iterator[KubeObject]:
        return iter(list(self._objects.values()))

    def subscribe(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def get(self, key: ObjectKey) -> KubeObject | None:
        return self._objects.get(key)

    def lookup(self, index: str, value: Hashable) -> list[KubeObject]:
        """Objects whose index function yielded `value`, in name order."""
        keys = sorted(self._indexes[index].get(value, ()))
        return [self._objects[key] for key in keys]

    def index_values(self, index: str) -> list[Hashable]:
        return list(self._indexes[index])

    def count(self, index: str, value: Hashable) -> int:
        return len(self._indexes[index].get(value, ()))

    def put(self, obj: KubeObject) -> None:
        """An object seen in a watch event or returned by a write; an older version never replaces a newer."""
        key = object_key(obj)
        old = self._objects.get(key)
        if old is not None and (is_older(obj, old) or resource_version(obj) == resource_version(old)):
            return
        self._deleted.pop(key, None)
        self._store(key, obj)
        self._notify(Change(old, obj))

    def remove(self, obj: Mapping[str, Any]) -> None:
        """An object seen deleted (its last state, whose resourceVersion is the deletion's)."""
        key = object_key(obj)
        old = self._objects.get(key)
        if old is not None and is_older(obj, old):
            return
        self._deleted[key] = resource_version(obj)
        if len(self._deleted) > MAX_DELETIONS_KEPT:  # no listing came for a long time: forget the oldest
            del self._deleted[next(iter(self._deleted))]
        if old is not None:
            self._drop(key)

    def _drop(self, key: ObjectKey) -> None:
        old = self._objects[key]
        self._unindex(key, old)
        del self._objects[key]
        self._notify(Change(old, None))

    def expect_scopes(self, scopes: Iterable[str | None]) -> None:
        """The streams that feed this cache, by namespace (None: all namespaces, or cluster-scoped).
        The cache is synced once each has delivered its first full listing."""
        self._unsynced = set(scopes)
        self.synced = not self._unsynced

    def replace_all(self, objects: Iterable[KubeObject], scope: str | None = None, version: str = "") -> None:
        """A full listing of `scope` taken at resourceVersion `version`: what it lacks was deleted while
        nobody watched. The watch goes on while a listing is read, so what the cache learned after the
        listing was taken (a newer object, a later deletion) wins over it; that takes comparable versions
        (the API server's are etcd revisions, see `is_older`), without which the listing wins."""
        fresh = {object_key(obj): obj for obj in objects}
        listed = int(version) if version.isdigit() else None

        def learned_later(rv: str) -> bool:
            return listed is not None and rv.isdigit() and int(rv) > listed

        in_scope = [key for key in self._objects if scope in (None, key.namespace)]
        for key in in_scope:
            if key not in fresh and not learned_later(resource_version(self._objects[key])):
                log.info("%s %s: not in the listing, deleted while unwatched", self.kind, _describe(key))
                self._drop(key)
        for key, obj in fresh.items():
            current = self._objects.get(key)
            if learned_later(self._deleted.get(key, "")) or (
                current is not None and learned_later(resource_version(current))
            ):
                continue
            self.put(obj)
        self._deleted = {
            key: rv
            for key, rv in self._deleted.items()
            if scope not in (None, key.namespace) or learned_later(rv)
        }
        self._unsynced.discard(scope)
        if not self.synced and not self._unsynced:
            log.info("%s cache synced: %d object(s)", self.kind, len(self._objects))
            self.synced = True

    def apply(self, event: WatchEvent, scope: str | None = None) -> None:
        if event.type is WatchEventType.RESYNC:
            self.replace_all(event.objects, scope)
        elif event.object is None:
            return
        elif event.type is WatchEventType.DELETED:
            self.remove(event.object)
        else:
            self.put(event.object)

    def _store(self, key: ObjectKey, obj: KubeObject) -> None:
        old = self._objects.get(key)
        if old is not None:
            self._unindex(key, old)
        self._objects[key] = obj
        for name, function in self._index_functions.items():
            for value in set(function(obj)):
                self._indexes[name].setdefault(value, set()).add(key)

    def _unindex(self, key: ObjectKey, obj: KubeObject) -> None:
        for name, function in self._index_functions.items():
            index = self._indexes[name]
            for value in set(function(obj)):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]

    def _notify(self, change: Change) -> None:
        for listener in self._listeners:
            try:
                listener(self.kind, change)
            except Exception:  # a listener's bug must not stop the cache from following the cluster
                log.exception("listener of %s failed", self.kind)


def _describe(key: ObjectKey) -> str:
    return f"{key.namespace}/{key.name}" if key.namespace else key.name
