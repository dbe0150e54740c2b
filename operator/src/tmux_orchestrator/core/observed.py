"""What one reconcile of a team sees: plain values the I/O layer builds from the API objects it watches.

`from_object` readers turn raw Kubernetes dicts into these values; they are pure (pydantic validation only)
and raise pydantic.ValidationError for an object that does not match its schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from tmux_orchestrator.api.agent import AgentSpec, AgentStatus
from tmux_orchestrator.api.common import ConditionStatus
from tmux_orchestrator.api.constants import LABEL_REVISION
from tmux_orchestrator.api.message import MessagePhase
from tmux_orchestrator.api.node import TmuxNodeSpec, TmuxNodeStatus
from tmux_orchestrator.api.team import AgentTeamSpec, AgentTeamStatus

from .clock import parse_time
from .naming import LABEL_AGENT, LABEL_NOTIFICATION

DEFAULT_LEASE_SECONDS: Final = 40
"""A node whose Lease was not renewed for this long (or its leaseDurationSeconds, if longer) is lost."""


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def _controller_uid(meta: Mapping[str, Any]) -> str | None:
    for ref in meta.get("ownerReferences") or ():
        if isinstance(ref, Mapping) and ref.get("controller"):
            uid = ref.get("uid")
            return str(uid) if uid else None
    return None


@dataclass(frozen=True)
class ObservedTeam:
    name: str
    namespace: str
    uid: str
    generation: int
    spec: AgentTeamSpec
    status: AgentTeamStatus = field(default_factory=AgentTeamStatus)
    annotations: Mapping[str, str] = field(default_factory=dict)
    resource_version: str | None = None
    deleting: bool = False

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> ObservedTeam:
        meta = _metadata(obj)
        status = obj.get("status")
        return cls(
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace", "")),
            uid=str(meta.get("uid", "")),
            generation=int(meta.get("generation") or 1),
            spec=AgentTeamSpec.model_validate(obj.get("spec") or {}),
            status=AgentTeamStatus.model_validate(status)
            if isinstance(status, Mapping)
            else AgentTeamStatus(),
            annotations=_strings(meta.get("annotations")),
            resource_version=meta.get("resourceVersion"),
            deleting=bool(meta.get("deletionTimestamp")),
        )

    def annotation(self, key: str) -> str | None:
        """A control annotation's value; empty counts as absent."""
        return self.annotations.get(key) or None


@dataclass(frozen=True)
class ObservedAgent:
    name: str
    spec: AgentSpec
    status: AgentStatus | None = None
    uid: str = ""
    generation: int = 1
    resource_version: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    owner_references: tuple[Mapping[str, Any], ...] = ()
    controller_uid: str | None = None
    deleting: bool = False

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> ObservedAgent:
        meta = _metadata(obj)
        status = obj.get("status")
        return cls(
            name=str(meta.get("name", "")),
            spec=AgentSpec.model_validate(obj.get("spec") or {}),
            status=AgentStatus.model_validate(status) if isinstance(status, Mapping) else None,
            uid=str(meta.get("uid", "")),
            generation=int(meta.get("generation") or 1),
            resource_version=meta.get("resourceVersion"),
            labels=_strings(meta.get("labels")),
            annotations=_strings(meta.get("annotations")),
            owner_references=tuple(r for r in meta.get("ownerReferences") or () if isinstance(r, Mapping)),
            controller_uid=_controller_uid(meta),
            deleting=bool(meta.get("deletionTimestamp")),
        )


@dataclass(frozen=True)
class ObservedNode:
    """A TmuxNode with its Lease and how many Agents of all teams are placed on it."""

    name: str
    spec: TmuxNodeSpec = field(default_factory=TmuxNodeSpec)
    status: TmuxNodeStatus | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    lease_renewed_at: datetime | None = None
    lease_duration_seconds: int | None = None
    agent_count: int = 0
    """Agent objects in any namespace whose spec.nodeName is this node (this team's included)."""
    created_at: datetime | None = None

    @classmethod
    def from_objects(
        cls, node: Mapping[str, Any], lease: Mapping[str, Any] | None, agent_count: int
    ) -> ObservedNode:
        meta = _metadata(node)
        status = node.get("status")
        lease_spec = lease.get("spec") if lease else None
        lease_spec = lease_spec if isinstance(lease_spec, Mapping) else {}
        duration = lease_spec.get("leaseDurationSeconds")
        return cls(
            name=str(meta.get("name", "")),
            spec=TmuxNodeSpec.model_validate(node.get("spec") or {}),
            status=TmuxNodeStatus.model_validate(status) if isinstance(status, Mapping) else None,
            labels=_strings(meta.get("labels")),
            lease_renewed_at=parse_time(lease_spec.get("renewTime") or lease_spec.get("acquireTime")),
            lease_duration_seconds=int(duration) if duration else None,
            agent_count=agent_count,
            created_at=parse_time(meta.get("creationTimestamp")),
        )

    @property
    def lease_expires_at(self) -> datetime | None:
        if self.lease_renewed_at is None:
            return None
        seconds = max(self.lease_duration_seconds or 0, DEFAULT_LEASE_SECONDS)
        return self.lease_renewed_at + timedelta(seconds=seconds)

    def is_live(self, now: datetime) -> bool:
        """The node agent renewed its Lease recently; otherwise the node and its agents are lost."""
        expires = self.lease_expires_at
        return expires is not None and now <= expires

    def is_ready(self, now: datetime) -> bool:
        """Live, and its node agent does not report tmux as unusable (Ready=False)."""
        if not self.is_live(now):
            return False
        conditions = self.status.conditions if self.status else None
        ready = next((c for c in conditions or () if c.type == "Ready"), None)
        return ready is None or ready.status is not ConditionStatus.FALSE


@dataclass(frozen=True)
class ObservedRevision:
    """A ControllerRevision of the team: one template revision."""

    name: str
    revision: str
    number: int
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> ObservedRevision:
        meta = _metadata(obj)
        name = str(meta.get("name", ""))
        labels = _strings(meta.get("labels"))
        data = obj.get("data")
        return cls(
            name=name,
            revision=labels.get(LABEL_REVISION) or name.rsplit("-", 1)[-1],
            number=int(obj.get("revision") or 0),
            data=data if isinstance(data, Mapping) else {},
        )


@dataclass(frozen=True)
class ObservedMessage:
    """An AgentMessage the operator sent for this team (selected by the team and notification labels)."""

    name: str
    kind: str | None = None
    agent: str | None = None
    created_at: datetime | None = None
    phase: MessagePhase | None = None
    deliver_after: datetime | None = None

    @classmethod
    def from_object(cls, obj: Mapping[str, Any]) -> ObservedMessage:
        meta = _metadata(obj)
        labels = _strings(meta.get("labels"))
        status = obj.get("status")
        phase = status.get("phase") if isinstance(status, Mapping) else None
        spec = obj.get("spec")
        return cls(
            deliver_after=parse_time(spec.get("deliverAfter")) if isinstance(spec, Mapping) else None,
            name=str(meta.get("name", "")),
            kind=labels.get(LABEL_NOTIFICATION),
            agent=labels.get(LABEL_AGENT),
            created_at=parse_time(meta.get("creationTimestamp")),
            phase=MessagePhase(phase)
            if isinstance(phase, str) and phase in MessagePhase._value2member_map_
            else None,
        )


@dataclass(frozen=True)
class Observed:
    """Everything one reconcile of a team reads. `now` is passed in: planning never reads a clock."""

    team: ObservedTeam
    now: datetime
    agents: Sequence[ObservedAgent] = ()
    """Agents labelled with this team in its namespace, including ones being deleted."""
    nodes: Sequence[ObservedNode] = ()
    """Every TmuxNode (cluster-scoped)."""
    revisions: Sequence[ObservedRevision] = ()
    """ControllerRevisions labelled with this team."""
    messages: Sequence[ObservedMessage] = ()
    """AgentMessages labelled with this team and a notification kind."""
