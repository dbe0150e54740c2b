"""RFC 3339 timestamps as Kubernetes writes them (metav1.Time: whole seconds, UTC, `Z`; MicroTime for
Leases and Events). The one place timestamps are formatted, for the operator and the node agent alike."""

from __future__ import annotations

from datetime import UTC, datetime


def format_time(moment: datetime) -> str:
    """`moment` as metav1.Time text; sub-second precision is dropped, as the API server would."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(moment: datetime) -> str:
    """`moment` as metav1.MicroTime text (Lease renewTime, Event eventTime)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | None) -> datetime | None:
    """A timestamp from an object (metav1.Time or MicroTime); None when absent or unreadable.

    Unreadable values are treated as absent rather than fatal: they come from other writers, and one bad
    field must not stop the team's reconcile.
    """
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def seconds_between(earlier: datetime, later: datetime) -> float:
    return (later - earlier).total_seconds()
