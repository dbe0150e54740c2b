"""Events as `kubectl describe` and `kubectl events` read them: core/v1 Events with first/last timestamps
and a count, posted from a background queue so an Event never holds up a reconcile or a sync pass.

Why core/v1 rather than events.k8s.io/v1: describe sorts by lastTimestamp and prints "(xN over …)" from
count, and events.k8s.io/v1 refuses to set either (its validation requires them unset). The kubelet's own
recorder writes the same shape. A repeated event (a crash loop's BackOff) is one object whose count and
lastTimestamp grow, as the kubelet's event correlator does.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import socket
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from tmux_orchestrator.core.clock import format_micro_time, format_time

from .client import Kube, describe_error, is_already_exists, is_not_found

log = logging.getLogger(__name__)

MAX_NAME: Final = 253
MAX_MESSAGE: Final = 1024
MAX_INSTANCE: Final = 128
_POSTED_MEMORY: Final = 8192
"""Names of recently posted once-only events remembered, so a level-triggered event costs one request,
not one per pass (after a restart each is attempted once more and answered AlreadyExists)."""


def reporting_instance() -> str:
    """Who reports: the host name, which in a Pod is the Pod's name."""
    return socket.gethostname()[:MAX_INSTANCE]


def event_body(
    regarding: Mapping[str, Any],
    *,
    name: str,
    type_: str,
    reason: str,
    note: str,
    action: str,
    controller: str,
    component: str,
    instance: str,
    now: datetime.datetime,
) -> dict[str, Any]:
    """A new core/v1 Event about `regarding` (apiVersion, kind, metadata with name/namespace/uid)."""
    metadata = regarding["metadata"]
    namespace = metadata.get("namespace") or "default"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name[:MAX_NAME], "namespace": namespace},
        "involvedObject": {
            "apiVersion": regarding.get("apiVersion"),
            "kind": regarding.get("kind"),
            "name": metadata["name"],
            "namespace": metadata.get("namespace"),
            "uid": metadata.get("uid"),
        },
        "type": type_,
        "reason": reason,
        "message": note[:MAX_MESSAGE],
        "action": action,
        "eventTime": format_micro_time(now),
        "firstTimestamp": format_time(now),
        "lastTimestamp": format_time(now),
        "count": 1,
        "source": {"component": component, "host": instance},
        "reportingComponent": controller,
        "reportingInstance": instance,
    }


def repeat_patch(existing: Mapping[str, Any], note: str, now: datetime.datetime) -> dict[str, Any]:
    """The merge patch that counts one more occurrence of an existing Event."""
    return {
        "count": int(existing.get("count") or 1) + 1,
        "lastTimestamp": format_time(now),
        "message": note[:MAX_MESSAGE],
    }


@dataclass(frozen=True)
class _Post:
    regarding: Mapping[str, Any]
    name: str
    type: str
    reason: str
    action: str
    note: str
    repeat: bool
    at: datetime.datetime


class EventRecorder:
    """Posts Events from a background queue. A named event is posted once (AlreadyExists = done) unless
    `repeat`: then a second post of the same name counts one more occurrence of it."""

    def __init__(
        self, kube: Kube, *, controller: str, component: str, instance: str | None = None, workers: int = 4
    ) -> None:
        self._kube = kube
        self._controller = controller
        self._component = component
        self._instance = instance or reporting_instance()
        self._workers = workers
        self._queue: asyncio.Queue[_Post] = asyncio.Queue()
        self._posted: OrderedDict[str, None] = OrderedDict()
        self._counts: OrderedDict[str, int] = OrderedDict()  # repeat events we wrote: name → count

    def post(
        self,
        regarding: Mapping[str, Any],
        *,
        name: str,
        type_: str,
        reason: str,
        action: str,
        note: str,
        repeat: bool = False,
        now: datetime.datetime | None = None,
    ) -> None:
        if not repeat:
            if name in self._posted:
                return
            self._posted[name] = None
            while len(self._posted) > _POSTED_MEMORY:
                self._posted.popitem(last=False)
        at = now or datetime.datetime.now(datetime.UTC)
        self._queue.put_nowait(_Post(regarding, name, type_, reason, action, note, repeat, at))

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for number in range(self._workers):
                group.create_task(self._send_forever(), name=f"event-poster-{number}")

    async def _send_forever(self) -> None:
        while True:
            post = await self._queue.get()
            try:
                await self._send(post)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._posted.pop(post.name, None)
                log.warning("event %s not posted: %s", post.name, describe_error(error))

    async def _count_again(self, name: str, namespace: str, count: int, post: _Post) -> bool:
        """Count one more occurrence of an Event this recorder wrote last; False if it is gone."""
        try:
            await self._kube.patch_event(name, namespace, repeat_patch({"count": count}, post.note, post.at))
        except Exception as error:
            if not is_not_found(error):
                raise
            self._counts.pop(name, None)
            return False
        self._remember(name, count + 1)
        return True

    async def _post_new(self, name: str, namespace: str, body: Mapping[str, Any], post: _Post) -> None:
        try:
            await self._kube.create_event(namespace, body)
        except Exception as error:
            if not is_already_exists(error):
                raise
            if not post.repeat:
                return
            current = await self._kube.read_event(name, namespace)  # posted before we (re)started
            patch = repeat_patch(current, post.note, post.at)
            await self._kube.patch_event(name, namespace, patch)
            self._remember(name, patch["count"])
            return
        if post.repeat:
            self._remember(name, 1)

    def _remember(self, name: str, count: int) -> None:
        self._counts[name] = count
        self._counts.move_to_end(name)
        while len(self._counts) > _POSTED_MEMORY:
            self._counts.popitem(last=False)

    async def _send(self, post: _Post) -> None:
        body = event_body(
            post.regarding,
            name=post.name,
            type_=post.type,
            reason=post.reason,
            note=post.note,
            action=post.action,
            controller=self._controller,
            component=self._component,
            instance=self._instance,
            now=post.at,
        )
        namespace = body["metadata"]["namespace"]
        name = body["metadata"]["name"]
        count = self._counts.get(name) if post.repeat else None
        # A repeat of an Event we wrote (a crash loop's BackOff) costs one request, not three.
        if count is None or not await self._count_again(name, namespace, count, post):
            await self._post_new(name, namespace, body, post)
        meta = post.regarding["metadata"]
        log.info(
            "event %s %s on %s/%s: %s",
            post.type,
            post.reason,
            meta.get("namespace") or "",
            meta["name"],
            post.note,
        )
