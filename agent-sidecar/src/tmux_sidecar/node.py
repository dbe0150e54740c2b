"""The node agent: keeps the tmux windows of this node's Agents matching their specs and reports the truth.

Edge module (Kubernetes + tmux I/O). Every decision is made by pure functions elsewhere: `plan_windows`
(what to do to tmux), `plan_restart` (when to restart an exited agent), the detector profiles (what the
screen means), `compute_agent_status`/`status_patch` (what to report, and whether anything changed) and
`judge_message` (which message to type now).

Loops: one watch of this node's Agents (server-side field selector), one watch of the AgentMessages routed to
this node (label selector), process exits from tmux as events, a Lease renewal, and the sync pass that ties
them together — run on every event and at least every `observe_interval` seconds. tmux supervision never
waits for the API server: restarts go on while it is unreachable and the truth is reported when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tmux_orchestrator.api import (
    Activity,
    AgentMessageSpec,
    AgentSpec,
    AgentStatus,
    AgentTemplate,
    MessagePhase,
)
from tmux_orchestrator.api.constants import LABEL_NODE
from tmux_orchestrator.kube import Kube, KubeObject, Resource, is_not_found
from tmux_orchestrator.kube.client import (
    FIELD_MANAGER,
    NODE_LEASE_NAMESPACE,
    WatchEvent,
    WatchEventType,
    micro_time,
    node_lease_name,
)

from .agent_status import PaneState, SupervisorFacts, compute_agent_status, rfc3339, status_patch
from .classification import Classification, crash_evidence, last_output_lines
from .converge import ActionKind, ActionReason, DesiredAgent, ObservedWindow, TmuxAction, plan_windows
from .delivery import (
    MAX_ATTEMPTS,
    DeliveryVerdict,
    PendingMessage,
    judge_message,
    screen_fragment,
    typed_on_screen,
    typed_text,
)
from .localapi.handlers import TeamApi
from .localapi.identity import Caller, identity_env, pane_callers
from .localapi.roster import TeamAgent
from .localapi.server import LocalApiServer
from .profiles import UnknownProfileError, load_profile
from .restart import RestartAction, RestartDecision, plan_restart
from .tmux.control import ControlClient, ControlClosedError, TmuxError, message_text
from .tmux.events import ExitWatcher, PaneExited, ServerExited
from .tmux.snapshot import (
    AGENT_UID_OPTION,
    RESTARTED_AT_OPTION,
    REVISION_OPTION,
    PaneInfo,
    ServerSnapshot,
    take_snapshot,
)

log = logging.getLogger(__name__)

LEASE_DURATION_SECONDS = 40
_BOOTSTRAP_WINDOW = "bootstrap"


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
    api_socket: str | None = None  # the local API for agents (localapi); None: not served


@dataclass
class AgentRecord:
    """What the node agent knows about one Agent: the last object from the API and its own memory."""

    obj: KubeObject
    spec: AgentSpec
    restart_times: list[float] = field(default_factory=list)
    restart_count: int = 0
    failed: bool = False
    last_exit_code: int | None = None
    last_crash_reason: str | None = None
    exit_decision: RestartDecision | None = None
    reported: dict[str, Any] | None = None  # the status the API server has, as far as we know
    briefed_revision: str | None = None
    restarted_at: str | None = None
    started_at: datetime.datetime | None = None
    # The tail of the last screen seen while the process lived: tmux can drop the final output of a pane
    # whose process it reaps quickly, and the crash reason should still show what the agent last said.
    last_lines: tuple[str, ...] = ()

    @property
    def uid(self) -> str:
        return str(self.obj["metadata"]["uid"])

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"]["namespace"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

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


def _seed_record(obj: KubeObject, spec: AgentSpec) -> AgentRecord:
    """A record for an Agent we see for the first time, remembering what an earlier run reported."""
    record = AgentRecord(obj=obj, spec=spec)
    status = obj.get("status") or {}
    record.reported = dict(status)
    record.restart_count = int(status.get("restartCount") or 0)
    record.failed = status.get("phase") == "Failed"
    record.last_exit_code = status.get("lastExitCode")
    record.last_crash_reason = status.get("lastCrashReason")
    record.briefed_revision = status.get("briefedRevision")
    record.restarted_at = status.get("restartedAt")
    return record


class NodeAgent:
    def __init__(self, kube: Kube, config: NodeAgentConfig) -> None:
        self.kube = kube
        self.config = config
        self.agents: dict[str, AgentRecord] = {}  # uid → record
        self.messages: dict[str, KubeObject] = {}  # uid → AgentMessage
        self.readings: dict[str, Classification] = {}  # agent uid → latest classification
        self.tmux: ControlClient | None = None
        self.wake = asyncio.Event()
        self.synced_agents = asyncio.Event()
        self.pass_count = 0
        self._delivering: set[str] = set()
        self._reported_agents: int | None = None
        self._last_snapshot: ServerSnapshot | None = None  # unchanged panes are not captured again
        self._typed: set[str] = set()
        self._delivery_task: asyncio.Task[None] | None = (
            None  # messages typed but not yet confirmed submitted
        )

    # -- main ----------------------------------------------------------------------------------------------

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(self._lease_loop(), name="lease"),
            asyncio.create_task(self._watch_agents(), name="watch-agents"),
            asyncio.create_task(self._watch_messages(), name="watch-messages"),
            asyncio.create_task(self._tmux_loop(), name="tmux"),
        ]
        if self.config.api_socket:
            api = LocalApiServer(self.config.api_socket, TeamApi(self.kube), self._callers, self.config.node)
            tasks.append(asyncio.create_task(api.serve(), name="local-api"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _tmux_loop(self) -> None:
        """Connect to tmux (starting a server if there is none) and run sync passes; reconnect if it dies."""
        await self.synced_agents.wait()
        while True:
            try:
                client = await ControlClient.connect(
                    self.config.socket_name,
                    socket_path=self.config.socket_path,
                    config_file=self.config.tmux_config,
                )
            except (TmuxError, OSError) as error:
                log.warning("cannot start tmux: %s", error)
                await asyncio.sleep(1.0)
                continue
            self.tmux = client
            self._last_snapshot = None  # a new server reuses pane ids: never trust the old screens
            try:
                async with client, ExitWatcher(client) as watcher:
                    await self._register_node(client)
                    await self._supervise(client, watcher)
            except ControlClosedError:
                pass
            finally:
                self.tmux = None
            log.warning("tmux server went away; reconnecting and recreating agents")
            await asyncio.sleep(0.2)

    async def _supervise(self, client: ControlClient, watcher: ExitWatcher) -> None:
        async def exits() -> None:
            async for event in watcher:
                if isinstance(event, PaneExited):
                    self._record_exit(event.pane, event.observed_at)
                    self.wake.set()
                elif isinstance(event, ServerExited):
                    return

        exit_task = asyncio.create_task(exits(), name="exits")
        try:
            while not exit_task.done():
                await self.sync_once(client)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self._next_wait())
                self.wake.clear()
        finally:
            for task in (exit_task, self._delivery_task):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            self._delivery_task = None
        raise ControlClosedError("tmux server exited")

    def _next_wait(self) -> float:
        wait = self.config.observe_interval
        now = time.time()
        for record in self.agents.values():
            decision = record.exit_decision
            if decision is not None and decision.restart_at is not None:
                wait = min(wait, max(0.0, decision.restart_at - now))
        return wait

    def _callers(self) -> dict[int, Caller]:
        """Agent panes by pane pid, as last observed: who may use the local API."""
        panes = self._last_snapshot.panes if self._last_snapshot is not None else ()
        return pane_callers(panes, {uid: record.obj for uid, record in self.agents.items()})

    # -- the sync pass -------------------------------------------------------------------------------------

    async def sync_once(self, client: ControlClient) -> None:
        """Observe tmux, converge windows, report statuses that changed, deliver due messages."""
        self.pass_count += 1
        records = {uid: record for uid, record in self.agents.items()}

        def wanted(pane: PaneInfo) -> bool:
            return pane.agent_uid in records

        snapshot = await take_snapshot(client, capture=wanted, previous=self._last_snapshot)
        windows = _windows(snapshot.panes)
        now = time.time()
        due = {
            uid: record.exit_decision.due(now)
            for uid, record in records.items()
            if record.exit_decision is not None and record.exit_decision.action is RestartAction.RESTART
        }
        actions = plan_windows([r.desired() for r in records.values()], windows, due)
        if actions:
            await self._apply(client, actions, {w.window_id: w for w in windows})
            snapshot = await take_snapshot(client, capture=wanted, previous=snapshot)
            windows = _windows(snapshot.panes)
        self._last_snapshot = snapshot
        by_uid = {w.agent_uid: w for w in windows if w.agent_uid}
        panes = snapshot.by_id
        moment = datetime.datetime.now(datetime.UTC)
        reports = []
        to_brief: list[tuple[AgentRecord, PaneInfo]] = []
        for uid, record in records.items():
            window = by_uid.get(uid)
            pane = panes.get(window.pane_id) if window else None
            reading: Classification | None = None
            if pane is not None and (pane_snapshot := snapshot.pane_snapshot(pane.pane_id)) is not None:
                reading = self._classify(record, pane_snapshot)
                if reading is not None:
                    self.readings[uid] = reading
            if pane is not None and pane.exit_known and record.exit_decision is None:
                # An exit the watcher has not reported (before we started, or while we were respawning).
                self._record_exit(pane, time.time())
            lines = snapshot.screens.get(pane.pane_id, ()) if pane is not None else ()
            reports.append(
                self._report(
                    record, window=window, pane=pane, reading=reading, now=moment, snapshot_lines=lines
                )
            )
            if reading is not None and reading.ready and pane is not None and not pane.dead:
                to_brief.append((record, pane))
        # Status writes are independent of each other: one slow write must not delay a crash report.
        await asyncio.gather(*reports)
        # Typing waits for screens (seconds at worst); it runs beside the passes, one delivery task at a time,
        # so observation and crash reports never wait for a slow agent to take a message.
        if self._delivery_task is None or self._delivery_task.done():
            self._delivery_task = asyncio.create_task(
                self._deliveries(client, to_brief, moment), name="deliver"
            )
        await self._report_node_agents(len(records))

    def _classify(self, record: AgentRecord, pane_snapshot: Any) -> Classification | None:
        try:
            profile = load_profile(record.spec.template.profile)
        except UnknownProfileError:
            profile = load_profile("shell")
        result: Classification = profile.classify(pane_snapshot)
        return result

    async def _apply(
        self, client: ControlClient, actions: list[TmuxAction], windows: Mapping[str, ObservedWindow]
    ) -> None:
        for action in actions:
            try:
                await self._apply_one(client, action, windows)
            except TmuxError as error:
                log.warning("%s %s failed: %s", action.kind, action.agent.name if action.agent else "", error)

    async def _apply_one(
        self, client: ControlClient, action: TmuxAction, windows: Mapping[str, ObservedWindow]
    ) -> None:
        agent = action.agent
        if action.kind is ActionKind.KILL:
            assert action.window is not None
            log.info("closing window %s (%s)", action.window.window_id, action.reason)
            await client.kill_window(action.window.window_id)
            return
        assert agent is not None
        record = self.agents.get(agent.uid)
        template = agent.template
        env = _environment(template)
        if record is not None:
            env |= identity_env(record.namespace, TeamAgent.from_object(record.obj), self.config.api_socket)
        options = {
            AGENT_UID_OPTION: agent.uid,
            REVISION_OPTION: agent.revision,
            RESTARTED_AT_OPTION: agent.restarted_at or "",
        }
        if action.kind is ActionKind.ADOPT:
            assert action.window is not None
            # Tag it as running the template it was started with; a changed template respawns next pass.
            await client.set_window_options(action.window.window_id, options)
            log.info(
                "adopted untagged window %s as %s/%s", action.window.window_id, agent.namespace, agent.name
            )
            return
        if action.kind is ActionKind.CREATE:
            bootstrap = None
            if not await client.has_session(agent.session):
                bootstrap = await client.new_session(agent.session, window_name=_BOOTSTRAP_WINDOW)
            await client.new_window(
                agent.session,
                agent.window,
                template.command,
                env=env,
                cwd=template.working_dir,
                user_options=options,
            )
            if bootstrap is not None:
                await client.kill_window(bootstrap.window_id)
        else:
            assert action.window is not None
            await client.respawn_pane(
                action.window.pane_id, template.command, env=env, cwd=template.working_dir
            )
            await client.set_window_options(action.window.window_id, options)
        log.info("%s %s/%s (%s)", action.kind, agent.namespace, agent.name, action.reason)
        if record is None:
            return
        now = time.time()
        record.started_at = datetime.datetime.now(datetime.UTC)
        record.exit_decision = None
        if action.reason is ActionReason.RESTART_DUE:
            # Only restarts after an exit count: the operator's canary analysis reads restartCount as crashes.
            record.restart_times.append(now)
            record.restart_count += 1
        if action.reason is ActionReason.RESTART_REQUESTED:
            record.restarted_at = agent.restarted_at
        if action.reason in (
            ActionReason.REVISION_CHANGED,
            ActionReason.RESTART_REQUESTED,
            ActionReason.MISSING,
        ):
            record.failed = False

    def _record_exit(self, pane: PaneInfo, observed_at: float) -> None:
        record = self.agents.get(pane.agent_uid or "")
        if record is None or record.exit_decision is not None:
            return
        evidence = crash_evidence(pane.process_facts(), ())
        exit_code = evidence.exit_code
        decision = plan_restart(
            policy=record.spec.restart_policy,
            recovery=record.spec.recovery,
            restart_times=record.restart_times,
            exit_code=exit_code,
            exited_at=observed_at,
        )
        record.exit_decision = decision
        record.last_exit_code = exit_code
        record.last_crash_reason = evidence.reason + _not_found_hint(record.spec.template)
        record.failed = decision.action is RestartAction.GIVE_UP
        log.info("%s/%s %s; %s", record.namespace, record.name, evidence.reason, decision.message)

    async def _report(
        self,
        record: AgentRecord,
        *,
        window: ObservedWindow | None,
        pane: PaneInfo | None,
        reading: Classification | None,
        now: datetime.datetime,
        snapshot_lines: tuple[str, ...] = (),
    ) -> None:
        if pane is not None and reading is not None:
            if not pane.dead:
                record.last_lines = last_output_lines(snapshot_lines) if snapshot_lines else record.last_lines
            elif reading.crash is not None and record.exit_decision is not None:
                crash = reading.crash
                if not crash.last_lines and record.last_lines:
                    crash = replace(crash, last_lines=record.last_lines)
                record.last_crash_reason = crash.reason + _not_found_hint(record.spec.template)
        process = None
        if pane is not None:
            process = PaneState(
                pane_id=pane.pane_id,
                pid=pane.pid,
                dead=pane.dead,
                exit_status=pane.exit_status,
                exit_signal=pane.exit_signal,
                started_at=record.started_at,
            )
        desired_hash = template_hash(record.spec.template)
        reported = record.reported or {}
        revision = record.spec.revision if window is not None and window.revision == desired_hash else None
        revision = revision or reported.get("revision")
        previous = AgentStatus.model_validate(reported) if reported else None
        status = compute_agent_status(
            generation=record.obj["metadata"].get("generation"),
            node=self.config.node,
            revision=revision,
            desired_state=record.spec.desired_state,
            process=process,
            supervisor=SupervisorFacts(
                restart_count=record.restart_count,
                failed=record.failed,
                last_exit_code=record.last_exit_code,
                last_crash_reason=record.last_crash_reason,
            ),
            activity=reading.activity if reading else Activity.UNKNOWN,
            cli_ready=bool(reading and reading.ready),
            previous=previous,
            now=now,
            briefed_revision=record.briefed_revision,
            restarted_at=record.restarted_at,
        )
        if status.started_at is None and previous is not None and process is not None and not process.dead:
            status = status.model_copy(update={"started_at": previous.started_at})
        patch = status_patch(reported, status)
        if patch is None:
            return
        try:
            result = await self.kube.patch_status(Resource.AGENTS, record.name, patch, record.namespace)
        except Exception as error:  # the API server may be away; supervision goes on, we retry next pass
            if is_not_found(error):
                return
            log.info("status of %s/%s not written yet: %s", record.namespace, record.name, error)
            return
        record.reported = dict(result.get("status") or {})

    async def _deliveries(
        self, client: ControlClient, to_brief: list[tuple[AgentRecord, PaneInfo]], now: datetime.datetime
    ) -> None:
        try:
            for record, pane in to_brief:
                await self._brief_if_needed(client, record, pane)
            await self._deliver_messages(client, now)
        except ControlClosedError:
            pass  # the tmux server went away; the next connection starts over
        except Exception:
            log.exception("message delivery failed")

    async def _brief_if_needed(self, client: ControlClient, record: AgentRecord, pane: PaneInfo) -> None:
        briefing = record.spec.template.briefing
        if not briefing or record.briefed_revision == record.spec.revision:
            return
        if await self._type_and_submit(client, pane.pane_id, briefing, f"briefing:{record.uid}"):
            record.briefed_revision = record.spec.revision

    # -- messages ------------------------------------------------------------------------------------------

    async def _deliver_messages(self, client: ControlClient, now: datetime.datetime) -> None:
        by_name = {(r.namespace, r.name): r for r in self.agents.values()}
        for uid, obj in list(self.messages.items()):
            message = _pending_message(obj)
            if message is None or uid in self._delivering:
                continue
            target = message.spec.agent or obj["metadata"].get("labels", {}).get(
                "orchestrator.tmux.dev/agent"
            )
            record = by_name.get((message.namespace, target or ""))
            reading = self.readings.get(record.uid) if record else None
            ready = bool(record and reading and reading.ready and not record.failed)
            verdict = judge_message(
                message, agent_ready=ready, activity=reading.activity if reading else None, now=now
            )
            if verdict is DeliveryVerdict.EXPIRE:
                await self._message_status(
                    obj,
                    MessagePhase.EXPIRED,
                    attempts=message.attempts,
                    reason="ttlSeconds passed",
                    agent=target,
                )
            elif verdict is DeliveryVerdict.FAIL:
                reason = f"not confirmed on screen after {MAX_ATTEMPTS} attempts"
                await self._message_status(
                    obj, MessagePhase.FAILED, attempts=message.attempts, reason=reason, agent=target
                )
            elif verdict is DeliveryVerdict.DELIVER and record is not None:
                window_pane = self._pane_of(record)
                if window_pane is None:
                    continue
                self._delivering.add(uid)
                try:
                    text = typed_text(message.spec, record.spec.team_ref.name)
                    delivered = await self._type_and_submit(client, window_pane, text, uid)
                finally:
                    self._delivering.discard(uid)
                attempts = message.attempts + 1
                if delivered:
                    await self._message_status(
                        obj, MessagePhase.DELIVERED, attempts=attempts, reason=None, agent=target, now=now
                    )
                else:
                    await self._message_status(
                        obj,
                        MessagePhase.PENDING,
                        attempts=attempts,
                        reason="not confirmed on screen",
                        agent=target,
                    )

    def _pane_of(self, record: AgentRecord) -> str | None:
        reported = record.reported or {}
        pane = reported.get("paneId")
        return str(pane) if pane else None

    async def _type_and_submit(self, client: ControlClient, pane_id: str, text: str, key: str = "") -> bool:
        """Type `text` literally, see it on screen, press Enter, see the screen take it.

        Text that was typed but not confirmed as submitted is never typed again (`key` remembers it), so a
        retry only presses Enter: an agent never receives the same message twice in its input line.
        """
        fragment = screen_fragment(text)
        try:
            if key not in self._typed:
                before = await client.capture_pane(pane_id)
                await client.send_literal(pane_id, message_text(text))
                if not await _wait_screen(
                    client, pane_id, lambda lines: typed_on_screen(lines, fragment) or list(lines) != before
                ):
                    return False  # nothing reached the screen: typing again is safe
                if key:
                    self._typed.add(key)
            typed = await client.capture_pane(pane_id)
            await client.send_enter(pane_id)
            submitted = await _wait_screen(client, pane_id, lambda lines: list(lines) != typed)
        except TmuxError as error:
            log.info("typing into %s failed: %s", pane_id, error)
            return False
        if submitted:
            self._typed.discard(key)
        return submitted

    async def _message_status(
        self,
        obj: KubeObject,
        phase: MessagePhase,
        *,
        attempts: int,
        reason: str | None,
        agent: str | None,
        now: datetime.datetime | None = None,
    ) -> None:
        status: dict[str, Any] = {
            "phase": phase.value,
            "attempts": attempts,
            "reason": reason,
            "agent": agent,
        }
        if now is not None:
            status["deliveredAt"] = rfc3339(now)
        meta = obj["metadata"]
        try:
            result = await self.kube.patch_status(
                Resource.AGENT_MESSAGES, meta["name"], status, meta["namespace"]
            )
        except Exception as error:
            log.info("message %s/%s status not written: %s", meta["namespace"], meta["name"], error)
            return
        self.messages[meta["uid"]] = result

    # -- Kubernetes ----------------------------------------------------------------------------------------

    async def _watch_agents(self) -> None:
        selector = f"spec.nodeName={self.config.node}"
        async for event in self.kube.watch(Resource.AGENTS, field_selector=selector):
            self._on_agent_event(event)
            self.synced_agents.set()
            self.wake.set()

    def _on_agent_event(self, event: WatchEvent) -> None:
        if event.type is WatchEventType.RESYNC:
            seen = set()
            for obj in event.objects:
                seen.add(obj["metadata"]["uid"])
                self._upsert_agent(obj)
            for uid in set(self.agents) - seen:
                del self.agents[uid]
            return
        assert event.object is not None
        uid = event.object["metadata"]["uid"]
        if event.type is WatchEventType.DELETED:
            self.agents.pop(uid, None)
            self.readings.pop(uid, None)
        else:
            self._upsert_agent(event.object)

    def _upsert_agent(self, obj: KubeObject) -> None:
        uid = obj["metadata"]["uid"]
        try:
            spec = AgentSpec.model_validate(obj["spec"])
        except ValueError as error:
            log.warning("ignoring Agent %s: %s", obj["metadata"].get("name"), error)
            return
        record = self.agents.get(uid)
        if record is None:
            self.agents[uid] = _seed_record(obj, spec)
            return
        record.obj, record.spec = obj, spec
        # Our own writes come back through the watch; the server's copy is what the next patch diffs against.
        record.reported = dict(obj.get("status") or {})

    async def _watch_messages(self) -> None:
        selector = f"{LABEL_NODE}={self.config.node}"
        async for event in self.kube.watch(Resource.AGENT_MESSAGES, label_selector=selector):
            if event.type is WatchEventType.RESYNC:
                self.messages = {obj["metadata"]["uid"]: obj for obj in event.objects}
            elif event.object is not None:
                uid = event.object["metadata"]["uid"]
                if event.type is WatchEventType.DELETED:
                    self.messages.pop(uid, None)
                else:
                    self.messages[uid] = event.object
            self.wake.set()

    async def _register_node(self, client: ControlClient) -> None:
        """Create or update our TmuxNode (spec only when we create it or were given --capacity)."""
        node = self.config.node
        body: dict[str, Any] = {
            "apiVersion": "orchestrator.tmux.dev/v1alpha1",
            "kind": "TmuxNode",
            "metadata": {"name": node, "labels": {**self.config.labels, LABEL_NODE: node}},
        }
        if self.config.capacity is not None:
            body["spec"] = {"capacity": self.config.capacity}
        try:
            await self.kube.get(Resource.TMUX_NODES, node)
            # Labels and capacity given on the command line are ours to keep; others' labels stay.
            await self.kube.patch(
                Resource.TMUX_NODES, node, {k: v for k, v in body.items() if k in ("spec", "metadata")}
            )
        except Exception as error:
            if not is_not_found(error):
                raise
            await self.kube.create(Resource.TMUX_NODES, body)
        status = {
            "tmuxVersion": client.info.version,
            "hostname": socket.gethostname(),
            "tmuxSocket": self.config.socket_name or self.config.socket_path,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "TmuxServerUp",
                    "message": f"tmux {client.info.version} (server pid {client.info.pid}) answers",
                    "lastTransitionTime": rfc3339(datetime.datetime.now(datetime.UTC)),
                }
            ],
        }
        await self.kube.patch_status(Resource.TMUX_NODES, node, status)

    async def _report_node_agents(self, count: int) -> None:
        if count == self._reported_agents:
            return
        try:
            await self.kube.patch_status(Resource.TMUX_NODES, self.config.node, {"agents": count})
        except Exception as error:
            log.info("node agent count not written: %s", error)
            return
        self._reported_agents = count

    async def _lease_loop(self) -> None:
        while True:
            try:
                await self._renew_lease()
            except Exception as error:
                log.info("lease not renewed: %s", error)
            await asyncio.sleep(self.config.lease_interval)

    async def _renew_lease(self) -> None:
        node = self.config.node
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": node_lease_name(node),
                "namespace": NODE_LEASE_NAMESPACE,
                "labels": {LABEL_NODE: node},
            },
            "spec": {
                "holderIdentity": node,
                "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                "renewTime": micro_time(datetime.datetime.now(datetime.UTC)),
            },
        }
        await self.kube.coordination.patch_namespaced_lease(
            node_lease_name(node),
            NODE_LEASE_NAMESPACE,
            body,
            field_manager=f"{FIELD_MANAGER}-sidecar",
            force=True,
            _content_type="application/apply-patch+yaml",
        )


def _windows(panes: tuple[PaneInfo, ...]) -> list[ObservedWindow]:
    """Every window, each by its first pane (untagged ones matter only to adopt an agent's lost window)."""
    first: dict[str, PaneInfo] = {}
    for pane in panes:
        if pane.window_id not in first or pane.pane_index < first[pane.window_id].pane_index:
            first[pane.window_id] = pane
    return [
        ObservedWindow(
            window_id=pane.window_id,
            session=pane.session_name,
            name=pane.window_name,
            pane_id=pane.pane_id,
            agent_uid=pane.agent_uid,
            revision=pane.revision,
            restarted_at=pane.restarted_at,
            pane_dead=pane.dead,
            pid=pane.pid,
        )
        for pane in first.values()
    ]


def _not_found_hint(template: AgentTemplate) -> str:
    """tmux's child exits 1 without a word when exec fails; the reason then says what happened."""
    missing = _missing_program(template)
    return f" (command not found: {missing})" if missing is not None else ""


def _missing_program(template: AgentTemplate) -> str | None:
    """argv[0] when it cannot be found on the pane's PATH (the template's, else ours), else None."""
    program = template.command[0]
    path = _environment(template).get("PATH", os.environ.get("PATH", ""))
    if "/" in program:
        base = template.working_dir or os.getcwd()
        return None if os.access(os.path.join(base, program), os.X_OK) else program
    return None if shutil.which(program, path=path) else program


def _environment(template: AgentTemplate) -> dict[str, str]:
    return {var.name: var.value for var in template.env or []}


def _pending_message(obj: KubeObject) -> PendingMessage | None:
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


async def _wait_screen(client: ControlClient, pane_id: str, check: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check(await client.capture_pane(pane_id)):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)
