"""The operator process: kopf for AgentTeams, the Controller for everything it watches and writes.

kopf's own state is kept out of the way of the schema and of garbage collection:
- progress and diff-base in annotations under our prefix (the CRDs' structural schemas would prune a
  `status.kopf` field, making kopf retry forever), never in status;
- no finalizers: no deletion handler (children go by ownerReference garbage collection) and no kopf
  daemons or timers (they add finalizers); the per-team timer is the Controller's work queue;
- handlers return nothing (a returned value would be written to status.<handler id>);
- kopf posts only warnings and errors as Events; the Controller posts its own, named ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import kopf

from tmux_orchestrator.api.constants import GROUP, VERSION
from tmux_orchestrator.dashboard import DashboardOptions, start_dashboard
from tmux_orchestrator.kube.client import Kube, Resource, connect

from .cache import ObjectKey
from .controller import Controller, ControllerConfig
from .metrics import serve_metrics

log = logging.getLogger(__name__)

DIFF_BASE_KEY: Final = "last-handled-configuration"
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
    dashboard_port: int | None = None
    """None: no dashboard."""
    dashboard_host: str = "0.0.0.0"
    dashboard_actions: bool = False


def operator_settings() -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP, v1=False)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key=DIFF_BASE_KEY, v1=False
    )
    settings.persistence.finalizer = f"{GROUP}/kopf-finalizer"  # never added: no handler needs one
    settings.posting.level = logging.WARNING
    settings.posting.reporting_component = f"{GROUP}/operator"
    settings.watching.server_timeout = WATCH_SERVER_TIMEOUT_SECONDS
    settings.watching.client_timeout = WATCH_SERVER_TIMEOUT_SECONDS + 30
    settings.watching.connect_timeout = 10
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
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


def build_registry(controller: Controller) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    teams = (GROUP, VERSION, Resource.AGENT_TEAMS.value)

    @kopf.on.login(id="login", registry=registry)
    async def login(**_: Any) -> kopf.ConnectionInfo:
        return await connection_info(controller.kube)

    @kopf.on.cleanup(id="stop-controller", registry=registry)
    async def stop_controller(**_: Any) -> None:
        # kopf takes tasks started after it for its own and, at exit, waits 5 s before cancelling them;
        # stopping ours first makes the exit immediate.
        await controller.stop()

    @kopf.on.event(*teams, id="team-event", registry=registry)
    async def team_event(event: Mapping[str, Any], **_: Any) -> None:
        controller.team_event(event.get("type"), dict(event["object"]))

    @kopf.on.resume(*teams, id="team-spec", registry=registry)
    @kopf.on.create(*teams, id="team-spec", registry=registry)
    @kopf.on.update(*teams, id="team-spec", registry=registry)
    async def team_spec_changed(
        name: str,
        namespace: str | None,
        reason: str,
        diff: kopf.Diff,
        **_: Any,
    ) -> None:
        # kopf's diff-base tells what changed since the configuration last handled (across restarts).
        changes = ", ".join(f"{item.operation} {'.'.join(map(str, item.field)) or '.'}" for item in diff)
        log.info("team %s/%s %s: %s", namespace, name, reason, changes or "no change")
        controller.teams.add(ObjectKey(namespace or "", name))

    return registry


async def run_operator(options: OperatorOptions) -> None:
    """Run until SIGINT/SIGTERM (kopf handles the signals) or until the Controller fails."""
    async with await connect(options.kubeconfig) as kube:
        controller = Controller(
            kube, ControllerConfig(namespaces=options.namespaces, team_workers=options.team_workers)
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


async def _run_with_kopf(controller: Controller, options: OperatorOptions) -> None:
    """kopf for AgentTeams beside the Controller, until either ends."""
    stop = asyncio.Event()
    controller_task = asyncio.create_task(controller.run(), name="controller")
    controller_task.add_done_callback(lambda _: stop.set())
    try:
        await kopf.operator(
            registry=build_registry(controller),
            settings=operator_settings(),
            standalone=True,
            clusterwide=not options.namespaces,
            namespaces=options.namespaces,
            stop_flag=stop,
        )
    finally:
        controller_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await controller_task
