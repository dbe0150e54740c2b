"""The operator process: kopf watches every kind the operator observes (into the Controller's caches) and
serves the liveness endpoint; the Controller plans and writes, and (with leader election) a Lease lets
only one replica run it.

kopf writes nothing, so a standby replica writes nothing at all:
- only watching handlers (on.event) and a probe: no create/update/resume handlers, whose progress and
  diff-base kopf would store in annotations, and no finalizers (no deletion handler: children go by
  ownerReference garbage collection; no kopf daemons or timers, which add finalizers: kopf #1074); pauses
  and deadlines are timers of the Controller's work queue;
- handlers return nothing (a returned value would be written to status.<handler id>);
- kopf posts no Events (the Controller posts its own, named ones) and does not peer (standalone).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import kopf

from tmux_orchestrator.api.constants import GROUP
from tmux_orchestrator.core.leadership import LeaseTiming
from tmux_orchestrator.dashboard import DashboardOptions, start_dashboard
from tmux_orchestrator.kube.client import NODE_LEASE_NAMESPACE, Kube, connect

from .controller import Controller, ControllerConfig
from .leader import LeaderElector, LeadershipLost
from .listing import WATCHED_KINDS
from .metrics import count_write, serve_metrics

log = logging.getLogger(__name__)

WATCH_SERVER_TIMEOUT_SECONDS: Final = 300
"""Each kopf watch request ends server-side after this long and is reopened from its resourceVersion."""


@dataclass(frozen=True)
class OperatorOptions:
    kubeconfig: str | None = None
    namespaces: tuple[str, ...] = ()
    """Empty: all namespaces."""
    metrics_port: int = 8080
    """0: no metrics endpoint."""
    team_workers: int = 8
    resync_seconds: float = 300.0
    dashboard_port: int | None = None
    """None: no dashboard."""
    dashboard_host: str = "0.0.0.0"
    dashboard_actions: bool = False
    liveness_port: int = 0
    """kopf's liveness endpoint (/healthz) for the Deployment's probes; 0: not served."""
    leader_election: LeaderElection | None = None
    """None: this process acts alone (run only one)."""


@dataclass(frozen=True)
class LeaderElection:
    namespace: str
    lease: str
    identity: str
    timing: LeaseTiming = field(default_factory=LeaseTiming)


class NoDiffBase(kopf.DiffBaseStorage):
    """A diff-base that is never kept. kopf builds one on every event of every watched object (a deep copy
    of the whole body) for change handlers, whatever handlers there are; with only on.event handlers nobody
    reads it, so that copy was most of kopf's cost per event."""

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return kopf.BodyEssence()

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        raise AssertionError("kopf stores a diff-base only for change handlers; the operator has none")


def operator_settings() -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP, v1=False)
    settings.persistence.diffbase_storage = NoDiffBase()
    settings.persistence.finalizer = f"{GROUP}/kopf-finalizer"  # never added: no handler needs one
    settings.posting.enabled = False
    # Each object's events go to its own worker at once: kopf 1.45 has no time-based batching left
    # (settings.queueing.batch_window is deprecated and ignored), so kopf adds no latency of its own.
    for kind in WATCHED_KINDS:
        if kind.label_selector:
            settings.watching.label_selectors[kind.group, kind.version, kind.plural] = kind.label_selector
        if kind.field_selector:
            settings.watching.field_selectors[kind.group, kind.version, kind.plural] = kind.field_selector
    settings.watching.server_timeout = WATCH_SERVER_TIMEOUT_SECONDS
    settings.watching.client_timeout = WATCH_SERVER_TIMEOUT_SECONDS + 30
    settings.watching.connect_timeout = 10
    # No call of kopf's waits for ever on a hung API server (the same deadlines as our own client's calls);
    # a watch that stays silent past kopf's inactivity timeout (70 s; bookmarks come every minute) reconnects.
    settings.networking.request_timeout = 20
    settings.networking.connect_timeout = 5
    # Served resources are resolved once at startup: no cluster-wide watch of CRDs and namespaces (and no
    # RBAC for them). The CRDs must be installed before the operator starts.
    settings.scanning.disabled = True
    return settings


async def connection_info(kube: Kube) -> kopf.ConnectionInfo:
    """kopf's credentials from the same configuration as our client (kubeconfig or ServiceAccount)."""
    config = kube.api_client.configuration
    header = await config.get_api_key_with_prefix("BearerToken")  # refreshes a rotated token
    scheme, _, token = str(header or "").rpartition(" ")
    return kopf.ConnectionInfo(
        server=str(config.host),
        ca_path=config.ssl_ca_cert,
        insecure=not config.verify_ssl,
        scheme=scheme or None,
        token=token or None,
        certificate_path=config.cert_file,
        private_key_path=config.key_file,
    )


def build_registry(controller: Controller, elector: LeaderElector | None) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    @kopf.on.login(id="login", registry=registry)
    async def login(**_: Any) -> kopf.ConnectionInfo:
        return await connection_info(controller.kube)

    @kopf.on.cleanup(id="stop-controller", registry=registry)
    async def stop_controller(**_: Any) -> None:
        # kopf takes tasks started after it for its own and, at exit, waits 5 s before cancelling them;
        # stopping ours first makes the exit immediate.
        await controller.stop()

    for kind in WATCHED_KINDS:
        kopf.on.event(kind.group, kind.version, kind.plural, id=f"{kind.plural}-event", registry=registry)(
            _feeder(controller, kind.name)
        )

    @kopf.on.probe(id="operator", registry=registry)
    async def probe(**_: Any) -> dict[str, Any]:
        # Answering at all is the liveness signal (the event loop runs); the body says what this replica is.
        role = "leader" if elector is None or elector.leading else "standby"
        return {"role": role, "teams": len(controller.caches.teams)}

    return registry


def _feeder(controller: Controller, kind: str) -> Callable[..., Awaitable[None]]:
    async def watch_event(event: Mapping[str, Any], **_: Any) -> None:
        controller.watch_event(kind, event.get("type"), dict(event["object"]))

    return watch_event


def kopf_namespaces(namespaces: tuple[str, ...]) -> tuple[str, ...]:
    """What kopf watches: the served namespaces and, when limited to some, the node Leases' namespace too
    (kopf scopes every kind alike; listing.WatchedKind says which kind is taken from where)."""
    return tuple(dict.fromkeys((*namespaces, NODE_LEASE_NAMESPACE))) if namespaces else ()


async def run_operator(options: OperatorOptions) -> None:
    """Run until SIGINT/SIGTERM (kopf handles the signals) or until the Controller fails."""
    async with await connect(options.kubeconfig, on_write=count_write) as kube:
        controller = Controller(
            kube,
            ControllerConfig(
                namespaces=options.namespaces,
                team_workers=options.team_workers,
                resync_seconds=options.resync_seconds,
            ),
        )
        serve_metrics(options.metrics_port)
        async with contextlib.AsyncExitStack() as stack:
            if options.dashboard_port is not None:
                url = await stack.enter_async_context(
                    start_dashboard(
                        kube,
                        options.dashboard_host,
                        options.dashboard_port,
                        namespaces=options.namespaces,
                        options=DashboardOptions(actions=options.dashboard_actions),
                    )
                )
                log.info("dashboard at %s/", url)
            await _run_with_kopf(controller, options)


def _elector(controller: Controller, options: OperatorOptions) -> LeaderElector | None:
    election = options.leader_election
    if election is None:
        return None
    elector = LeaderElector(
        controller.kube, election.namespace, election.lease, election.identity, election.timing
    )
    controller.active = lambda: elector.leading
    return elector


async def _lead(controller: Controller, elector: LeaderElector | None) -> None:
    """The Controller, once this replica holds the Lease (at once without leader election)."""
    if elector is None:
        await controller.run()
        return
    await elector.acquire()
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(controller.run(), name="controller")
            group.create_task(elector.hold(), name="lease-renewal")
    except* LeadershipLost as lost:
        raise lost.exceptions[0] from None


async def _run_with_kopf(controller: Controller, options: OperatorOptions) -> None:
    """kopf (watch events into the caches, liveness) beside the Controller, until either ends. Raises
    LeadershipLost when this replica lost the Lease: the process must exit and start again as a standby."""
    stop = asyncio.Event()
    elector = _elector(controller, options)
    leading = asyncio.create_task(_lead(controller, elector), name="lead")
    leading.add_done_callback(lambda _: stop.set())
    liveness = f"http://0.0.0.0:{options.liveness_port}/healthz" if options.liveness_port else None
    try:
        await kopf.operator(
            registry=build_registry(controller, elector),
            settings=operator_settings(),
            standalone=True,  # kopf's own peering stays off: the Lease decides who acts
            clusterwide=not options.namespaces,
            namespaces=kopf_namespaces(options.namespaces),
            stop_flag=stop,
            liveness_endpoint=liveness,
        )
    finally:
        leading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await leading
        if elector is not None:  # only once the Controller has stopped: then a standby may take over
            await elector.release()
