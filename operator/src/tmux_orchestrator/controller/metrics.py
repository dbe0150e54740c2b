"""Prometheus metrics of the operator (the default registry, so process CPU and memory come along)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics, start_http_server

from tmux_orchestrator.kube.client import KubeObject, WriteVerb

from .cache import Change

_PREFIX = "tmux_orchestrator"


RECONCILES = Counter(f"{_PREFIX}_reconciles", "Team reconcile passes, by result.", ["result"])
RECONCILE_ERRORS = Counter(
    f"{_PREFIX}_reconcile_errors", "Team reconcile passes that failed, by kind of error.", ["error"]
)
RECONCILE_SECONDS = Histogram(
    f"{_PREFIX}_reconcile_duration_seconds",
    "Duration of one team reconcile pass (observe, plan, apply).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
API_WRITES = Counter(
    f"{_PREFIX}_api_writes",
    "Write requests the operator sent to the API server, by verb and resource (Events included).",
    ["verb", "resource"],
)
AGENTS = Gauge(f"{_PREFIX}_agents", "Agents by phase (as their node agents report it).", ["phase"])
NOTIFICATIONS = Gauge(
    f"{_PREFIX}_notifications", "Operator notifications (AgentMessages) by delivery phase.", ["phase"]
)
MESSAGE_ROUTES = Counter(
    f"{_PREFIX}_message_routes",
    "Routing decisions for AgentMessages that changed or withheld labels.",
    ["outcome"],
)


def count_write(verb: WriteVerb, resource: str) -> None:
    """The operator's `Kube.on_write`: every write request, counted where it is sent."""
    API_WRITES.labels(verb=verb.value, resource=resource).inc()


def track_phases(gauge: Gauge, phase_of: Callable[[KubeObject], str | None]) -> Callable[[str, Change], None]:
    """A cache listener keeping `gauge` = number of cached objects per phase (objects without one are
    not counted)."""

    def listener(_kind: str, change: Change) -> None:
        old = phase_of(change.old) if change.old is not None else None
        new = phase_of(change.new) if change.new is not None else None
        if old == new:
            return
        if old is not None:
            gauge.labels(phase=old).dec()
        if new is not None:
            gauge.labels(phase=new).inc()

    return listener


def serve_metrics(port: int) -> None:
    """Serve /metrics on `port` from a background thread (0: not at all)."""
    if port:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series only add noise
        start_http_server(port)
