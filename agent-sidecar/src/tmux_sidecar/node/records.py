"""What the node agent remembers: its configuration, one record per Agent and the messages routed to it."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tmux_orchestrator.api import AgentMessageSpec, AgentSpec, AgentTemplate, MessagePhase
from tmux_orchestrator.kube import KubeObject
from tmux_sidecar.activity_check import Disagreement
from tmux_sidecar.agent_events import AgentEvent
from tmux_sidecar.classification import Classification, DetectorProfile
from tmux_sidecar.converge import DesiredAgent
from tmux_sidecar.delivery import PendingMessage
from tmux_sidecar.hook_state import HookState, prompt_reported
from tmux_sidecar.restart import RestartDecision


def template_hash(template: AgentTemplate) -> str:
    """What runs in a pane, as a short hash stored on its window: a change means a respawn."""
    wire = json.dumps(template.to_wire(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(wire.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class NodeAgentConfig:
    node: str
    socket_name: str | None = None
    socket_path: str | None = None
    capacity: int | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    observe_interval: float = 1.0
    lease_interval: float = 10.0
    tmux_config: str | None = "/dev/null"
    api_socket: str | None = None  # the local API for agents (tmux_sidecar.localapi); None: not served
    screen_endpoint: str | None = None  # URL of the screen endpoint (node.screens), advertised in status
    agent_nice: int = 10  # agents' CPU priority below the node agent's (tmux_sidecar.priority); 0: untouched
    agent_cpu_weight: int = 100  # weight of this node's agents' cpu cgroup (tmux_sidecar.cpu_group); 0: none


@dataclass
class AgentRecord:
    """What the node agent knows about one Agent: the last object from the API and its own memory."""

    obj: KubeObject
    spec: AgentSpec
    profile: DetectorProfile  # resolved once, again only when the template names another profile
    restart_times: list[float] = field(default_factory=list)
    restart_count: int = 0
    failed: bool = False
    last_exit_code: int | None = None
    last_crash_reason: str | None = None
    last_crash_message: str | None = None
    exit_decision: RestartDecision | None = None
    reported: dict[str, Any] | None = None  # the status the API server has, as far as we know
    reported_version: str = ""  # the resourceVersion of the object `reported` came from (see take_reported)
    # The whole status last handed to the status writer while the server did not have it yet (see
    # node.status.agent_status_want); None once written, or when there was nothing to write.
    pending_status: dict[str, Any] | None = None
    briefed_revision: str | None = None
    restarted_at: str | None = None
    started_at: datetime.datetime | None = None
    # The tail of the last screen seen while the process lived: tmux can drop the final output of a pane
    # whose process it reaps quickly, and the crash reason should still show what the agent last said.
    last_lines: tuple[str, ...] = ()
    events: list[AgentEvent] = field(default_factory=list)  # decided, not posted yet (see NodeAgent)
    hook: HookState | None = None  # what the CLI's hooks last said (tmux-orchestrator hook)
    # Prompts UserPromptSubmit reported (monotonic time, text), newest last: delivery's own evidence.
    hook_prompts: list[tuple[float, str]] = field(default_factory=list)
    disagreement: Disagreement | None = None  # hook state and screen reading at odds (activity_check)
    # What the last status want was computed from (node.status.changed_status_want): unchanged, not again.
    status_inputs: tuple[object, ...] | None = None

    @property
    def uid(self) -> str:
        return str(self.obj["metadata"]["uid"])

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"]["namespace"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def pane_id(self) -> str | None:
        """The pane the API server was last told about."""
        pane = (self.reported or {}).get("paneId")
        return str(pane) if pane else None

    def prompt_reported(self, text: str, since: float) -> bool:
        """Whether the CLI's prompt hook reported `text` since the monotonic time `since`."""
        return prompt_reported(self.hook_prompts, text, since)

    def desired(self) -> DesiredAgent:
        return DesiredAgent(
            uid=self.uid,
            namespace=self.namespace,
            name=self.name,
            session=self.spec.session,
            window=self.spec.window,
            revision=template_hash(self.spec.template),
            template=self.spec.template,
            desired_state=self.spec.desired_state,
            restarted_at=self.spec.restarted_at,
        )


def take_reported(record: AgentRecord, obj: KubeObject) -> None:
    """The status of `obj` (from the watch, or the answer to our own write) as what the server has, unless
    the record already holds a newer one. A watch that lags behind our writes (a starved API server, or one
    that closed the watch and replays it) would otherwise put back a status we already replaced, and the
    next pass would write the newer one again: at 1,000 agents starting at once, 2.5 status writes per
    agent instead of 1.2."""
    version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
    known = record.reported_version
    if version.isdigit() and known.isdigit() and int(version) < int(known):
        return  # resourceVersions are etcd revisions; compared only to drop what is older
    record.reported = dict(obj.get("status") or {})
    record.reported_version = version


def seed_record(obj: KubeObject, spec: AgentSpec, profile: DetectorProfile) -> AgentRecord:
    """A record for an Agent we see for the first time, remembering what an earlier run reported."""
    record = AgentRecord(obj=obj, spec=spec, profile=profile)
    status = obj.get("status") or {}
    take_reported(record, obj)
    record.restart_count = int(status.get("restartCount") or 0)
    record.failed = status.get("phase") == "Failed"
    record.last_exit_code = status.get("lastExitCode")
    record.last_crash_reason = status.get("lastCrashReason")
    record.last_crash_message = status.get("lastCrashMessage")
    record.briefed_revision = status.get("briefedRevision")
    record.restarted_at = status.get("restartedAt")
    return record


@dataclass
class NodeState:
    """Everything the watches, the sync pass and the deliveries share."""

    agents: dict[str, AgentRecord] = field(default_factory=dict)  # uid → record
    messages: dict[str, KubeObject] = field(default_factory=dict)  # uid → AgentMessage
    readings: dict[str, Classification] = field(default_factory=dict)  # agent uid → latest classification


def pending_message(obj: KubeObject) -> PendingMessage | None:
    """The AgentMessage as delivery decisions read it; None when its spec is not valid."""
    try:
        spec = AgentMessageSpec.model_validate(obj["spec"])
    except (KeyError, ValueError):
        return None
    status = obj.get("status") or {}
    created = datetime.datetime.fromisoformat(obj["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    phase = MessagePhase(status["phase"]) if status.get("phase") else None
    return PendingMessage(
        namespace=obj["metadata"]["namespace"],
        name=obj["metadata"]["name"],
        uid=obj["metadata"]["uid"],
        spec=spec,
        created_at=created,
        phase=phase,
        attempts=int(status.get("attempts") or 0),
    )
