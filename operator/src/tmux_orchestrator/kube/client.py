"""Async access to the API server for our resources, Leases and Events."""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.exceptions import ApiException

from tmux_orchestrator.api.constants import GROUP, VERSION

log = logging.getLogger(__name__)

KubeObject = dict[str, Any]
ApiError = ApiException
FIELD_MANAGER = "tmux-orchestrator"
_WATCH_TIMEOUT_SECONDS = 300
_RETRY_SECONDS = 1.0


class Resource(StrEnum):
    """Plurals of our custom resources."""

    AGENT_TEAMS = "agentteams"
    AGENTS = "agents"
    TMUX_NODES = "tmuxnodes"
    AGENT_MESSAGES = "agentmessages"

    @property
    def namespaced(self) -> bool:
        return self is not Resource.TMUX_NODES


class WatchEventType(StrEnum):
    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"
    # Not from the server: a complete fresh listing, sent first and after every relist, so a consumer can
    # drop what it knew and converge from a full picture (objects deleted while we were not watching vanish).
    RESYNC = "RESYNC"


@dataclass(frozen=True)
class WatchEvent:
    type: WatchEventType
    object: KubeObject | None = None
    objects: tuple[KubeObject, ...] = ()


def is_not_found(error: BaseException) -> bool:
    return isinstance(error, ApiException) and error.status == 404


def is_conflict(error: BaseException) -> bool:
    return isinstance(error, ApiException) and error.status == 409


def rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def connect(kubeconfig: str | None = None) -> Kube:
    """A client from `kubeconfig`, else $KUBECONFIG / ~/.kube/config, else the in-cluster ServiceAccount."""
    configuration = client.Configuration()
    try:
        await config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    except config.ConfigException:
        if kubeconfig is not None:
            raise
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return Kube(client.ApiClient(configuration))


class Kube:
    """Our resources through one ApiClient. Every method is a single API call unless it says otherwise."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self.api_client = api_client
        # The generated APIs are typed with model classes; we speak plain dicts (and server-side apply
        # content types their signatures do not list), so they are held as Any at this one edge.
        self.custom: Any = client.CustomObjectsApi(api_client)
        self.coordination: Any = client.CoordinationV1Api(api_client)
        self.core: Any = client.CoreV1Api(api_client)
        self.apps: Any = client.AppsV1Api(api_client)
        self.events: Any = client.EventsV1Api(api_client)

    async def close(self) -> None:
        await self.api_client.close()

    async def __aenter__(self) -> Kube:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # -- custom resources ---------------------------------------------------------------------------------

    async def get(self, resource: Resource, name: str, namespace: str | None = None) -> KubeObject:
        if resource.namespaced:
            result = await self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, resource, name)
        else:
            result = await self.custom.get_cluster_custom_object(GROUP, VERSION, resource, name)
        return dict(result)

    async def list(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        field_selector: str | None = None,
        label_selector: str | None = None,
    ) -> tuple[list[KubeObject], str]:
        """Objects and the list's resourceVersion (to start a watch from)."""
        kwargs = _selectors(field_selector, label_selector)
        if namespace is not None and resource.namespaced:
            result = await self.custom.list_namespaced_custom_object(
                GROUP, VERSION, namespace, resource, **kwargs
            )
        else:
            result = await self.custom.list_cluster_custom_object(GROUP, VERSION, resource, **kwargs)
        return list(result.get("items", [])), str(result["metadata"].get("resourceVersion", ""))

    async def create(self, resource: Resource, body: KubeObject, namespace: str | None = None) -> KubeObject:
        if resource.namespaced:
            result = await self.custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, resource, body
            )
        else:
            result = await self.custom.create_cluster_custom_object(GROUP, VERSION, resource, body)
        return dict(result)

    async def patch(
        self, resource: Resource, name: str, patch: KubeObject, namespace: str | None = None
    ) -> KubeObject:
        """A JSON merge patch of the main resource (spec, metadata)."""
        kwargs = {"_content_type": "application/merge-patch+json"}
        if resource.namespaced:
            result = await self.custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, resource, name, patch, **kwargs
            )
        else:
            result = await self.custom.patch_cluster_custom_object(
                GROUP, VERSION, resource, name, patch, **kwargs
            )
        return dict(result)

    async def patch_status(
        self, resource: Resource, name: str, status: Mapping[str, Any], namespace: str | None = None
    ) -> KubeObject:
        """A JSON merge patch of the status subresource (None values delete fields)."""
        body = {"status": dict(status)}
        kwargs = {"_content_type": "application/merge-patch+json"}
        if resource.namespaced:
            result = await self.custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, namespace, resource, name, body, **kwargs
            )
        else:
            result = await self.custom.patch_cluster_custom_object_status(
                GROUP, VERSION, resource, name, body, **kwargs
            )
        return dict(result)

    async def delete(self, resource: Resource, name: str, namespace: str | None = None) -> None:
        try:
            if resource.namespaced:
                await self.custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, resource, name)
            else:
                await self.custom.delete_cluster_custom_object(GROUP, VERSION, resource, name)
        except ApiException as error:
            if error.status != 404:
                raise

    async def watch(
        self,
        resource: Resource,
        namespace: str | None = None,
        *,
        field_selector: str | None = None,
        label_selector: str | None = None,
    ) -> AsyncIterator[WatchEvent]:
        """List then watch, forever: RESYNC with the full listing first, then ADDED/MODIFIED/DELETED.

        An expired resourceVersion (410) or a broken connection leads to a fresh list and another RESYNC,
        never to a silently missed deletion.
        """
        while True:
            try:
                items, version = await self.list(
                    resource, namespace, field_selector=field_selector, label_selector=label_selector
                )
                yield WatchEvent(WatchEventType.RESYNC, objects=tuple(items))
                async for event in self._watch_from(
                    resource, namespace, version, field_selector, label_selector
                ):
                    yield event
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the API server restarted, the network dropped, 410 Gone...
                log.info("watch of %s restarting after %s", resource, _describe(error))
                await asyncio.sleep(_RETRY_SECONDS)

    async def _watch_from(
        self,
        resource: Resource,
        namespace: str | None,
        version: str,
        field_selector: str | None,
        label_selector: str | None,
    ) -> AsyncIterator[WatchEvent]:
        kwargs: dict[str, Any] = {
            **_selectors(field_selector, label_selector),
            "resource_version": version,
            "timeout_seconds": _WATCH_TIMEOUT_SECONDS,
            "allow_watch_bookmarks": True,
        }
        while True:
            stream = watch.Watch()
            if namespace is not None and resource.namespaced:
                events = stream.stream(
                    self.custom.list_namespaced_custom_object, GROUP, VERSION, namespace, resource, **kwargs
                )
            else:
                events = stream.stream(
                    self.custom.list_cluster_custom_object, GROUP, VERSION, resource, **kwargs
                )
            async with events:
                async for raw in events:
                    kind = raw["type"]
                    obj = raw["object"]
                    if kind == "ERROR":
                        raise ApiException(
                            status=obj.get("code", 500), reason=obj.get("message", "watch error")
                        )
                    kwargs["resource_version"] = obj["metadata"]["resourceVersion"]
                    if kind == "BOOKMARK":
                        continue
                    yield WatchEvent(WatchEventType(kind), object=obj)

    # -- leases and events --------------------------------------------------------------------------------

    async def renew_lease(
        self, name: str, namespace: str, holder: str, duration_seconds: int, now: datetime.datetime
    ) -> None:
        """Create or renew a coordination.k8s.io Lease held by `holder`."""
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "holderIdentity": holder,
                "leaseDurationSeconds": duration_seconds,
                "renewTime": micro_time(now),
            },
        }
        await self.coordination.patch_namespaced_lease(
            name,
            namespace,
            body,
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type="application/apply-patch+yaml",
        )

    async def read_lease(self, name: str, namespace: str) -> KubeObject | None:
        try:
            lease = await self.coordination.read_namespaced_lease(name, namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return dict(self.api_client.sanitize_for_serialization(lease))

    async def emit_event(
        self,
        regarding: Mapping[str, Any],
        *,
        type_: str,
        reason: str,
        note: str,
        action: str,
        reporter: str,
        now: datetime.datetime,
    ) -> None:
        """An events.k8s.io/v1 Event about `regarding` (a full object: apiVersion, kind, metadata)."""
        metadata = regarding["metadata"]
        namespace = metadata.get("namespace") or "default"
        body = {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"generateName": f"{metadata['name']}.", "namespace": namespace},
            "eventTime": micro_time(now),
            "type": type_,
            "reason": reason,
            "note": note[:1024],
            "action": action,
            "reportingController": f"{GROUP}/{reporter}",
            "reportingInstance": reporter,
            "regarding": {
                "apiVersion": regarding.get("apiVersion"),
                "kind": regarding.get("kind"),
                "name": metadata["name"],
                "namespace": metadata.get("namespace"),
                "uid": metadata.get("uid"),
            },
        }
        await self.events.create_namespaced_event(namespace, body)


def _selectors(field_selector: str | None, label_selector: str | None) -> dict[str, str]:
    kwargs: dict[str, str] = {}
    if field_selector:
        kwargs["field_selector"] = field_selector
    if label_selector:
        kwargs["label_selector"] = label_selector
    return kwargs


def _describe(error: BaseException) -> str:
    if isinstance(error, ApiException):
        return f"HTTP {error.status} {error.reason}"
    return f"{type(error).__name__}: {error}"
