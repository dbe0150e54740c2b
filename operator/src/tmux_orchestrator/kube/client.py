"""Async access to the API server for our resources, Leases and Events."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import random
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import aiohttp
from kubernetes_asyncio import client, config
from kubernetes_asyncio.client.exceptions import ApiException

from tmux_orchestrator.api.constants import GROUP, VERSION
from tmux_orchestrator.core.backoff import WATCH_BACKOFF, retry_delay
from tmux_orchestrator.core.clock import format_micro_time

log = logging.getLogger(__name__)

KubeObject = dict[str, Any]
ListResult = tuple[list[KubeObject], str]
"""Listed objects and the list's resourceVersion (to start a watch from)."""
ApiError = ApiException
FIELD_MANAGER = "tmux-orchestrator"
_WATCH_TIMEOUT_SECONDS = 300
_READ_BUFFER_BYTES = 2**21  # as kubernetes_asyncio's: a watch event of a large object fits (etcd's 1.5 MiB)

# Patch content types: the generated signatures do not list `_content_type`, which their runtime accepts,
# so it is passed through these two keyword sets (the one place the typed APIs are sidestepped).
MERGE_PATCH: Final[dict[str, Any]] = {"_content_type": "application/merge-patch+json"}
APPLY_PATCH: Final[dict[str, Any]] = {"_content_type": "application/apply-patch+yaml"}


class WriteVerb(StrEnum):
    CREATE = "create"
    PATCH = "patch"
    PATCH_STATUS = "patch_status"
    DELETE = "delete"


WriteCounter = Callable[[WriteVerb, str], None]
"""Called once per write request, before it is sent (the operator counts them in a metric)."""

NODE_LEASE_NAMESPACE = "kube-node-lease"
"""Where node agents keep their Leases (the kubelet's namespace for the same purpose)."""


def node_lease_name(node: str) -> str:
    """Name of the Lease a node agent renews for TmuxNode `node`."""
    return f"tmuxnode-{node}"


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

    @property
    def affected(self) -> tuple[KubeObject, ...]:
        """The objects this event is about: the whole listing for RESYNC, else the one object."""
        if self.type is WatchEventType.RESYNC:
            return self.objects
        return (self.object,) if self.object is not None else ()


@dataclass(frozen=True)
class ApiTimeouts:
    """How long any API call may take: no call waits forever for a hung API server (a SIGSTOPped process
    or a network partition accepts connections and never answers)."""

    connect: float = 5.0
    """Seconds to get a connection (TCP and TLS handshake)."""
    request: float = 20.0
    """Seconds for a whole request and its response, connection included (every call but watches)."""
    watch_read: float = _WATCH_TIMEOUT_SECONDS + 30.0
    """Seconds a watch may stay silent; longer than the server-side timeout it asks for, so a healthy
    watch always ends on the server's side first (bookmarks arrive well within it)."""


class ApiTimeoutError(TimeoutError):
    """The API server did not answer a call in time."""


class TimedApiClient(client.ApiClient):
    """An ApiClient whose every call has a deadline (`ApiTimeouts.request` unless the call gives its own),
    raising ApiTimeoutError that names the call."""

    def __init__(self, configuration: client.Configuration, timeouts: ApiTimeouts) -> None:
        super().__init__(configuration)
        self.timeouts = timeouts
        # kubernetes_asyncio's session trusts the environment: before every request it looks for a proxy
        # and a ~/.netrc entry, each in a worker thread (14 % of a node agent's CPU while 1,000 agents
        # start). `connect` reads the environment's proxy once instead, and netrc credentials never apply
        # to an API server (kopf's session does not trust the environment either). The first session
        # keeps owning the connection pool and is closed last.
        self._pool_owner = self.rest_client.pool_manager
        self.rest_client.pool_manager = aiohttp.ClientSession(
            connector=self._pool_owner.connector,
            connector_owner=False,
            trust_env=False,
            read_bufsize=_READ_BUFFER_BYTES,
        )

    async def close(self) -> None:
        await super().close()
        await self._pool_owner.close()

    async def call_api(self, resource_path: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("_request_timeout") is None:
            kwargs["_request_timeout"] = aiohttp.ClientTimeout(
                total=self.timeouts.request,
                connect=self.timeouts.connect,
                sock_connect=self.timeouts.connect,
            )
        try:
            return await super().call_api(resource_path, method, *args, **kwargs)
        except TimeoutError as error:
            path_params = args[0] if args else kwargs.get("path_params")
            for key, value in dict(path_params or {}).items():
                resource_path = resource_path.replace(f"{{{key}}}", str(value))
            raise ApiTimeoutError(
                f"{method} {resource_path}: no answer from the API server in time "
                f"(connect {self.timeouts.connect:g}s, request {self.timeouts.request:g}s)"
            ) from error


def environment_proxy(server: str) -> str | None:
    """The proxy $https_proxy / $http_proxy name for `server`, unless $no_proxy exempts its host."""
    url = urllib.parse.urlsplit(server)
    if not url.hostname or urllib.request.proxy_bypass(url.hostname):
        return None
    return urllib.request.getproxies().get(url.scheme or "https")


def is_not_found(error: BaseException) -> bool:
    return isinstance(error, ApiException) and error.status == 404


def is_unavailable(error: BaseException) -> bool:
    """The API server did not give an answer about the request itself (unreachable, hung, overloaded or
    failing): trying the same request again later may work. A 4xx answer (but 429) is about the request."""
    if isinstance(error, ApiException):
        return not error.status or error.status == 429 or error.status >= 500
    return isinstance(error, TimeoutError | aiohttp.ClientError | OSError)


def is_conflict(error: BaseException) -> bool:
    """409: a stale resourceVersion or uid precondition, or a create of a name that exists."""
    return isinstance(error, ApiException) and error.status == 409


def is_already_exists(error: BaseException) -> bool:
    """409 from a create: the name is taken (as opposed to a failed precondition)."""
    return is_conflict(error) and api_reason(error) == "AlreadyExists"


def api_reason(error: BaseException) -> str | None:
    """The machine-readable `reason` of the Status the API server answered with (Conflict, NotFound...)."""
    reason = _status(error).get("reason")
    return str(reason) if reason else None


def _status(error: BaseException) -> dict[str, Any]:
    """The Status object in an API error's body; empty when there is none."""
    if not isinstance(error, ApiException) or not error.body:
        return {}
    try:
        body = json.loads(error.body)
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


async def connect(
    kubeconfig: str | None = None,
    *,
    on_write: WriteCounter | None = None,
    timeouts: ApiTimeouts | None = None,
) -> Kube:
    """A client from `kubeconfig`, else $KUBECONFIG / ~/.kube/config, else the in-cluster ServiceAccount.
    Every call it makes has the deadlines of `timeouts`."""
    configuration = client.Configuration()
    try:
        await config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    except config.ConfigException:
        if kubeconfig is not None:
            raise
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    configuration.proxy = configuration.proxy or environment_proxy(configuration.host or "")
    timeouts = timeouts or ApiTimeouts()
    return Kube(TimedApiClient(configuration, timeouts), on_write=on_write, timeouts=timeouts)


@dataclass(frozen=True)
class _Listing:
    """How to list (and, with watch=True, watch) one collection: a generated list_* method and its leading
    arguments. Methods of the typed APIs (Leases, ControllerRevisions) return models, which are turned into
    the same plain dicts the custom-object methods return."""

    method: Callable[..., Awaitable[Any]]
    args: tuple[Any, ...]
    typed: bool = False


class Kube:
    """Our resources through one ApiClient. Every method is a single API call unless it says otherwise."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        on_write: WriteCounter | None = None,
        timeouts: ApiTimeouts | None = None,
    ) -> None:
        self.api_client = api_client
        self.timeouts = timeouts or ApiTimeouts()
        self.on_write = on_write
        self.custom = client.CustomObjectsApi(api_client)
        self.coordination = client.CoordinationV1Api(api_client)
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)

    async def close(self) -> None:
        await self.api_client.close()

    def _write(self, verb: WriteVerb, resource: str) -> None:
        if self.on_write is not None:
            self.on_write(verb, resource)

    async def __aenter__(self) -> Kube:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # -- custom resources ---------------------------------------------------------------------------------

    async def get(self, resource: Resource, name: str, namespace: str | None = None) -> KubeObject:
        if resource.namespaced:
            result = await self.custom.get_namespaced_custom_object(
                GROUP, VERSION, _in(resource, namespace), resource, name
            )
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
    ) -> ListResult:
        """Objects and the list's resourceVersion (to start a watch from)."""
        return await self._list(self._custom_listing(resource, namespace), field_selector, label_selector)

    def _custom_listing(self, resource: Resource, namespace: str | None) -> _Listing:
        if namespace is not None and resource.namespaced:
            return _Listing(self.custom.list_namespaced_custom_object, (GROUP, VERSION, namespace, resource))
        return _Listing(self.custom.list_cluster_custom_object, (GROUP, VERSION, resource))

    async def _list(
        self, listing: _Listing, field_selector: str | None, label_selector: str | None
    ) -> ListResult:
        result = await listing.method(*listing.args, **_selectors(field_selector, label_selector))
        if listing.typed:
            result = self.api_client.sanitize_for_serialization(result)
        return list(result.get("items") or []), str(result["metadata"].get("resourceVersion") or "")

    async def create(self, resource: Resource, body: KubeObject, namespace: str | None = None) -> KubeObject:
        self._write(WriteVerb.CREATE, resource)
        if resource.namespaced:
            result = await self.custom.create_namespaced_custom_object(
                GROUP, VERSION, _in(resource, namespace), resource, body
            )
        else:
            result = await self.custom.create_cluster_custom_object(GROUP, VERSION, resource, body)
        return dict(result)

    async def patch(
        self, resource: Resource, name: str, patch: KubeObject, namespace: str | None = None
    ) -> KubeObject:
        """A JSON merge patch of the main resource (spec, metadata)."""
        self._write(WriteVerb.PATCH, resource)
        if resource.namespaced:
            result = await self.custom.patch_namespaced_custom_object(
                GROUP, VERSION, _in(resource, namespace), resource, name, patch, **MERGE_PATCH
            )
        else:
            result = await self.custom.patch_cluster_custom_object(
                GROUP, VERSION, resource, name, patch, **MERGE_PATCH
            )
        return dict(result)

    async def patch_status(
        self,
        resource: Resource,
        name: str,
        status: Mapping[str, Any],
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
    ) -> KubeObject:
        """A JSON merge patch of the status subresource (None values delete fields). With
        `resource_version`, a precondition: 409 Conflict if the object changed since it was read."""
        body: dict[str, Any] = {"status": dict(status)}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        self._write(WriteVerb.PATCH_STATUS, resource)
        if resource.namespaced:
            result = await self.custom.patch_namespaced_custom_object_status(
                GROUP, VERSION, _in(resource, namespace), resource, name, body, **MERGE_PATCH
            )
        else:
            result = await self.custom.patch_cluster_custom_object_status(
                GROUP, VERSION, resource, name, body, **MERGE_PATCH
            )
        return dict(result)

    async def delete(
        self, resource: Resource, name: str, namespace: str | None = None, *, uid: str | None = None
    ) -> None:
        """Delete; already gone is fine. With `uid`, only that object: a newer one that reused the name
        is left alone (409 Conflict)."""
        self._write(WriteVerb.DELETE, resource)
        kwargs: dict[str, Any] = {"body": _delete_options(uid)} if uid else {}
        try:
            if resource.namespaced:
                await self.custom.delete_namespaced_custom_object(
                    GROUP, VERSION, _in(resource, namespace), resource, name, **kwargs
                )
            else:
                await self.custom.delete_cluster_custom_object(GROUP, VERSION, resource, name, **kwargs)
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
        never to a silently missed deletion. Reconnects back off (with jitter) while they keep failing.
        """
        listing = self._custom_listing(resource, namespace)
        async for event in self._list_and_watch(listing, resource, field_selector, label_selector):
            yield event

    async def _list_and_watch(
        self, listing: _Listing, what: str, field_selector: str | None, label_selector: str | None
    ) -> AsyncIterator[WatchEvent]:
        failures = 0
        while True:
            try:
                items, version = await self._list(listing, field_selector, label_selector)
                failures = 0  # the server answered: the next break reconnects at once
                yield WatchEvent(WatchEventType.RESYNC, objects=tuple(items))
                async for event in self._watch_from(listing, version, field_selector, label_selector):
                    yield event
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the API server restarted, the network dropped, 410 Gone...
                failures += 1
                delay = retry_delay(failures, random.random(), WATCH_BACKOFF)
                log.info("watch of %s restarting in %.1fs after %s", what, delay, describe_error(error))
                await asyncio.sleep(delay)

    async def _watch_from(
        self, listing: _Listing, version: str, field_selector: str | None, label_selector: str | None
    ) -> AsyncIterator[WatchEvent]:
        kwargs: dict[str, Any] = {
            **_selectors(field_selector, label_selector),
            "resource_version": version,
            "timeout_seconds": _WATCH_TIMEOUT_SECONDS,
            "allow_watch_bookmarks": True,
            # No total deadline (a watch is long); a silent connection fails after `watch_read`.
            "_request_timeout": aiohttp.ClientTimeout(
                total=None,
                connect=self.timeouts.connect,
                sock_connect=self.timeouts.connect,
                sock_read=self.timeouts.watch_read,
            ),
        }
        while True:
            # The response read line by line here rather than through kubernetes_asyncio's Watch, which
            # builds a whole ApiClient (a TLS context loading every system CA) per watch it starts and
            # parses every event twice (once more to turn it into a model we do not use): when a
            # starved API server closes watches as unresponsive, that cost came back on every reconnect.
            response = await listing.method(*listing.args, watch=True, _preload_content=False, **kwargs)
            async with response:
                if not 200 <= response.status <= 299:  # refused (403, 410...): its Status is the body
                    raise ApiException(status=response.status, reason=(await response.text())[:500])
                async for line in response.content:  # one event per line; the server ends it at timeout
                    if not line.strip():
                        continue
                    raw = json.loads(line)
                    kind, obj = raw["type"], raw["object"]
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
        self,
        name: str,
        namespace: str,
        holder: str,
        duration_seconds: int,
        now: datetime.datetime,
        *,
        labels: Mapping[str, str] | None = None,
        field_manager: str = FIELD_MANAGER,
    ) -> None:
        """Create or renew (server-side apply) a coordination.k8s.io Lease held by `holder`."""
        metadata: dict[str, Any] = {"name": name, "namespace": namespace}
        if labels:
            metadata["labels"] = dict(labels)
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": {
                "holderIdentity": holder,
                "leaseDurationSeconds": duration_seconds,
                "renewTime": format_micro_time(now),
            },
        }
        self._write(WriteVerb.PATCH, "leases")
        await self.coordination.patch_namespaced_lease(
            name,
            namespace,
            body,
            field_manager=field_manager,
            force=True,
            **APPLY_PATCH,
        )

    async def list_leases(self, namespace: str, *, label_selector: str | None = None) -> ListResult:
        listing = _Listing(self.coordination.list_namespaced_lease, (namespace,), typed=True)
        return await self._list(listing, None, label_selector)

    async def watch_leases(
        self, namespace: str, *, label_selector: str | None = None
    ) -> AsyncIterator[WatchEvent]:
        """Leases of one namespace, as `watch` does for our resources (RESYNC first, forever)."""
        listing = _Listing(self.coordination.list_namespaced_lease, (namespace,), typed=True)
        async for event in self._list_and_watch(listing, "leases", None, label_selector):
            yield event

    async def read_lease(self, name: str, namespace: str) -> KubeObject | None:
        try:
            lease = await self.coordination.read_namespaced_lease(name, namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return dict(self.api_client.sanitize_for_serialization(lease))

    async def create_lease(self, namespace: str, body: Mapping[str, Any]) -> KubeObject:
        """Create a Lease (409 AlreadyExists when someone else created it first)."""
        self._write(WriteVerb.CREATE, "leases")
        # A plain-dict body is serialized as is; the signature asks for the generated model.
        lease = await self.coordination.create_namespaced_lease(namespace, dict(body))  # type: ignore[arg-type]
        return dict(self.api_client.sanitize_for_serialization(lease))

    async def replace_lease(self, name: str, namespace: str, body: Mapping[str, Any]) -> KubeObject:
        """Replace a Lease; `body.metadata.resourceVersion` makes it a compare-and-swap (409 if it moved)."""
        self._write(WriteVerb.PATCH, "leases")
        lease = await self.coordination.replace_namespaced_lease(name, namespace, dict(body))  # type: ignore[arg-type]
        return dict(self.api_client.sanitize_for_serialization(lease))

    async def create_event(self, namespace: str, body: Mapping[str, Any]) -> None:
        """Post a core/v1 Event (AlreadyExists passes through: named events are posted once)."""
        self._write(WriteVerb.CREATE, "events")
        # A plain-dict body is serialized as is; the signature asks for the generated model.
        await self.core.create_namespaced_event(namespace, dict(body))  # type: ignore[arg-type]

    async def read_event(self, name: str, namespace: str) -> KubeObject:
        event = await self.core.read_namespaced_event(name, namespace)
        return dict(self.api_client.sanitize_for_serialization(event))

    async def patch_event(self, name: str, namespace: str, patch: Mapping[str, Any]) -> None:
        """A JSON merge patch of a core/v1 Event (a repeat: its count and lastTimestamp)."""
        self._write(WriteVerb.PATCH, "events")
        await self.core.patch_namespaced_event(name, namespace, dict(patch), **MERGE_PATCH)

    def _event_listing(self, namespace: str | None) -> _Listing:
        if namespace is None:
            return _Listing(self.core.list_event_for_all_namespaces, (), typed=True)
        return _Listing(self.core.list_namespaced_event, (namespace,), typed=True)

    async def watch_events(
        self, namespace: str | None = None, *, field_selector: str | None = None
    ) -> AsyncIterator[WatchEvent]:
        """core/v1 Events, as `watch` does for our resources (RESYNC first, forever)."""
        listing = self._event_listing(namespace)
        async for event in self._list_and_watch(listing, "events", field_selector, None):
            yield event

    # -- authentication and authorization reviews (the node agent checks its HTTP callers) ------------------

    async def review_token(self, body: Mapping[str, Any]) -> KubeObject:
        """A TokenReview (authentication.k8s.io/v1); returns its status."""
        api = client.AuthenticationV1Api(self.api_client)
        # Plain-dict bodies are serialized as they are; the signatures ask for the generated models.
        review = await api.create_token_review(dict(body))  # type: ignore[arg-type]
        result = self.api_client.sanitize_for_serialization(review)
        return dict(result.get("status") or {})

    async def review_access(self, body: Mapping[str, Any]) -> KubeObject:
        """A SubjectAccessReview (authorization.k8s.io/v1); returns its status."""
        api = client.AuthorizationV1Api(self.api_client)
        result = await api.create_subject_access_review(dict(body))  # type: ignore[arg-type]
        return dict(self.api_client.sanitize_for_serialization(result).get("status") or {})

    # -- controller revisions -----------------------------------------------------------------------------

    def _revision_listing(self, namespace: str | None) -> _Listing:
        if namespace is None:
            return _Listing(self.apps.list_controller_revision_for_all_namespaces, (), typed=True)
        return _Listing(self.apps.list_namespaced_controller_revision, (namespace,), typed=True)

    async def list_controller_revisions(
        self, namespace: str | None = None, *, label_selector: str | None = None
    ) -> ListResult:
        return await self._list(self._revision_listing(namespace), None, label_selector)

    async def watch_controller_revisions(
        self, namespace: str | None = None, *, label_selector: str | None = None
    ) -> AsyncIterator[WatchEvent]:
        listing = self._revision_listing(namespace)
        async for event in self._list_and_watch(listing, "controllerrevisions", None, label_selector):
            yield event

    async def create_controller_revision(self, body: Mapping[str, Any]) -> KubeObject:
        namespace = body["metadata"]["namespace"]
        self._write(WriteVerb.CREATE, "controllerrevisions")
        result = await self.apps.create_namespaced_controller_revision(namespace, dict(body))  # type: ignore[arg-type]
        return dict(self.api_client.sanitize_for_serialization(result))

    async def patch_controller_revision(
        self, name: str, namespace: str, patch: Mapping[str, Any]
    ) -> KubeObject:
        """A JSON merge patch (ControllerRevision data is immutable; `revision` is not)."""
        self._write(WriteVerb.PATCH, "controllerrevisions")
        result = await self.apps.patch_namespaced_controller_revision(
            name, namespace, dict(patch), **MERGE_PATCH
        )
        return dict(self.api_client.sanitize_for_serialization(result))

    async def delete_controller_revision(self, name: str, namespace: str) -> None:
        self._write(WriteVerb.DELETE, "controllerrevisions")
        try:
            await self.apps.delete_namespaced_controller_revision(name, namespace)
        except ApiException as error:
            if error.status != 404:
                raise


def _in(resource: Resource, namespace: str | None) -> str:
    """The namespace a namespaced resource needs (a missing one is a programming error, said clearly)."""
    if namespace is None:
        raise ValueError(f"{resource} are namespaced: a namespace is required")
    return namespace


def _delete_options(uid: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": uid}}


def _selectors(field_selector: str | None, label_selector: str | None) -> dict[str, str]:
    kwargs: dict[str, str] = {}
    if field_selector:
        kwargs["field_selector"] = field_selector
    if label_selector:
        kwargs["label_selector"] = label_selector
    return kwargs


def describe_error(error: BaseException) -> str:
    """One line for a log: `HTTP 403 Forbidden: <the API server's message>`, or the error's type and text."""
    if isinstance(error, ApiException):
        message = _status(error).get("message")
        return f"HTTP {error.status} {error.reason}" + (f": {message}" if message else "")
    return f"{type(error).__name__}: {error}"
