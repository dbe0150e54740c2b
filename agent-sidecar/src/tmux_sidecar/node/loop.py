"""The node agent's main loop: supervise tmux (reconnecting when its server dies) and run sync passes.

Loops: one watch of this node's Agents, one of the AgentMessages routed to it (node.watches), process exits
from tmux as events, a Lease renewal (node.registration), and the sync pass that ties them together — run on
every event and at least every `observe_interval` seconds. tmux supervision never waits for the API server:
a pass awaits tmux only; statuses go to the status writer (node.status_writes: one queue, coalesced to the
latest per object, written by its own task), registration retries in its own task, and typing runs in the
delivery task, so exits are seen, restarts happen and accepted messages are typed while the server is
unreachable or hung, and the truth is written when it answers again.

One pass is observe → plan → apply: `take_snapshot` observes, `plan_windows`/`plan_restart`, the detector
profiles and `compute_agent_status` decide (pure), node.windows, node.status and node.messages apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Sequence

from tmux_orchestrator.api import Activity, AgentPhase
from tmux_orchestrator.api.constants import GROUP
from tmux_orchestrator.kube import Kube
from tmux_orchestrator.kube.events import EventRecorder
from tmux_sidecar.classification import Classification
from tmux_sidecar.converge import plan_windows
from tmux_sidecar.localapi.handlers import TeamApi
from tmux_sidecar.localapi.identity import Caller, pane_callers
from tmux_sidecar.localapi.server import LocalApiServer
from tmux_sidecar.pane import PaneInfo, first_panes
from tmux_sidecar.readings import ScreenReadings
from tmux_sidecar.restart import RestartAction
from tmux_sidecar.tmux.control import ControlClient, ControlClosedError, TmuxError
from tmux_sidecar.tmux.events import ExitWatcher, PaneExited, ServerExited
from tmux_sidecar.tmux.snapshot import ServerSnapshot, take_snapshot
from tmux_sidecar.workspace import hold_until_ready

from .cpu_group import AgentCpuGroup
from .hooks import HookReceiver
from .messages import Deliveries
from .priority import AgentPriority
from .records import AgentRecord, NodeAgentConfig, NodeState
from .registration import AgentCount, keep_lease, keep_registered
from .status import agent_status_want, changed_status_want, crowd_hold, record_exit, wanted_phase
from .status_writes import StatusWriter
from .watches import watch_agents, watch_messages
from .windows import apply_window_actions
from .workspaces import Workspaces

log = logging.getLogger(__name__)

_RECONNECT_DELAY = 0.2
EVENT_CONTROLLER = f"{GROUP}/node-agent"
EVENT_COMPONENT = "tmux-orchestrator-node-agent"
"""`kubectl describe` shows this in the From column; the host (the pod's name in a DaemonSet) beside it."""
_START_RETRY_DELAY = 1.0
_YIELD_EVERY = 50
"""Agents read and reported between two chances for other tasks to run: a pass over hundreds of agents is
one long stretch of CPU, and an exit reported meanwhile must not wait for its end."""


class NodeAgent:
    def __init__(self, kube: Kube, config: NodeAgentConfig) -> None:
        self.kube = kube
        self.config = config
        self.state = NodeState()
        self.tmux: ControlClient | None = None
        self.wake = asyncio.Event()
        self.synced_agents = asyncio.Event()
        self.pass_count = 0
        self.writes = StatusWriter(kube)
        self.deliveries = Deliveries(kube, self.state, self.writes)
        self.agent_count = AgentCount(self.writes, config.node)
        self.events = EventRecorder(kube, controller=EVENT_CONTROLLER, component=EVENT_COMPONENT)
        self.workspaces = Workspaces(kube, config.node, self.wake)
        cpu_group = AgentCpuGroup.prepare(config.agent_cpu_weight, config.node)
        self.priority = AgentPriority(config.agent_nice, cpu_group)
        self._last_snapshot: ServerSnapshot | None = None  # unchanged panes are not captured again
        self.screen_readings = ScreenReadings()  # ... nor read again
        self._exited_during_pass: set[str] = set()  # agents whose exit came in while a pass ran
        self._delivery_task: asyncio.Task[None] | None = None  # briefings and messages being typed

    @property
    def agents(self) -> dict[str, AgentRecord]:
        return self.state.agents

    async def run(self) -> None:
        node = self.config.node
        tasks = [
            asyncio.create_task(keep_lease(self.kube, self.config), name="lease"),
            asyncio.create_task(
                watch_agents(self.kube, node, self.state, synced=self.synced_agents, wake=self.wake),
                name="watch-agents",
            ),
            asyncio.create_task(
                watch_messages(self.kube, node, self.state, wake=self.wake), name="watch-messages"
            ),
            asyncio.create_task(self._tmux_loop(), name="tmux"),
            asyncio.create_task(self.writes.run(), name="status-writes"),
            asyncio.create_task(self.events.run(), name="events"),
        ]
        if self.config.api_socket:
            team = TeamApi(self.kube, node)
            hooks = HookReceiver(self.state, self.wake, team)
            api = LocalApiServer(self.config.api_socket, team, self._callers, node, hooks=hooks)
            tasks.append(asyncio.create_task(api.serve(), name="local-api"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            await self.workspaces.close()
            self.priority.cpu_group.remove()

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
                await asyncio.sleep(_START_RETRY_DELAY)
                continue
            self.tmux = client
            # Every program this client starts (a new window, a respawn after a crash) yields the CPU to us.
            client.add_start_listener(self.priority.apply)
            self._last_snapshot = None  # a new server reuses pane ids: never trust the old screens
            registration = asyncio.create_task(
                keep_registered(self.kube, self.config, client.info), name="register"
            )
            try:
                async with client, ExitWatcher(client) as watcher:
                    await self._supervise(client, watcher)
            except ControlClosedError:
                pass
            finally:
                self.tmux = None
                registration.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await registration
            log.warning("tmux server went away; reconnecting and recreating agents")
            await asyncio.sleep(_RECONNECT_DELAY)

    async def _supervise(self, client: ControlClient, watcher: ExitWatcher) -> None:
        async def exits() -> None:
            async for event in watcher:
                if isinstance(event, PaneExited):
                    # The dead pane's last screen says why it ended (an error printed just before exiting):
                    # the first crash report carries it, not only a later pass (a process that dies within
                    # milliseconds of its start was never seen alive by a pass).
                    (screen,) = await client.capture_panes([event.pane.pane_id])
                    self._record_exit(event.pane, event.observed_at, () if screen.failed else screen.lines)
                    self._report_exit(event.pane)
                    self.wake.set()
                elif isinstance(event, ServerExited):
                    return

        exit_task = asyncio.create_task(exits(), name="exits")
        try:
            while not exit_task.done():
                await self.sync_once(client)
                # asyncio.timeout, not wait_for: Python 3.11's wait_for may lose a cancellation that lands
                # with its timeout, and the node agent would not stop (see controller/workqueue.py).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._next_wait()):
                        await self.wake.wait()
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
        for record in self.state.agents.values():
            decision = record.exit_decision
            if decision is not None and decision.restart_at is not None:
                wait = min(wait, max(0.0, decision.restart_at - now))
        return wait

    def _callers(self) -> dict[int, Caller]:
        """Agent panes by pane pid, as last observed: who may use the local API."""
        panes = self._last_snapshot.panes if self._last_snapshot is not None else ()
        return pane_callers(panes, {uid: record.obj for uid, record in self.state.agents.items()})

    def _record_exit(self, pane: PaneInfo, observed_at: float, screen: Sequence[str] = ()) -> None:
        record = self.state.agents.get(pane.agent_uid or "")
        if record is not None:
            self._exited_during_pass.add(record.uid)
            record_exit(record, pane, observed_at, screen)
            self._post_events()

    def _report_exit(self, pane: PaneInfo) -> None:
        """Report an exit now, ahead of other queued writes: a crash report does not wait for the next pass
        (which may be busy with hundreds of panes) nor behind routine status updates. The pass after it
        reads the dead pane's screen and refines the message if the process printed something at the end."""
        record = self.state.agents.get(pane.agent_uid or "")
        if record is None:
            return
        want = agent_status_want(
            self.config.node,
            record,
            pane=pane,
            reading=None,
            now=datetime.datetime.now(datetime.UTC),
            workspace=self.workspaces.report(record),
        )
        self.writes.want(want, urgent=True)

    def _post_events(self) -> None:
        """Crash, back-off and start events the records collected, posted from the background queue."""
        for record in self.state.agents.values():
            for event in record.events:
                self.events.post(
                    record.obj,
                    name=event.object_name(record.name, record.uid),
                    type_=event.type,
                    reason=event.reason.value,
                    action=event.action,
                    note=event.note,
                    repeat=True,
                )
            record.events.clear()

    # -- the sync pass -------------------------------------------------------------------------------------

    async def sync_once(self, client: ControlClient) -> None:
        """Observe tmux, converge windows, report statuses that changed, deliver due messages."""
        self.pass_count += 1
        self._exited_during_pass.clear()
        records = dict(self.state.agents)

        def wanted(pane: PaneInfo) -> bool:
            return pane.agent_uid in records

        snapshot = await take_snapshot(client, capture=wanted, previous=self._last_snapshot)
        windows = first_panes(snapshot.panes)
        now = time.time()
        due = {
            uid: record.exit_decision.due(now)
            for uid, record in records.items()
            if record.exit_decision is not None and record.exit_decision.action is RestartAction.RESTART
        }
        actions = plan_windows([r.desired() for r in records.values()], windows, due)
        actions = hold_until_ready(actions, self.workspaces.directories(records))
        if actions:
            await apply_window_actions(client, actions, self.state.agents, self.config.api_socket)
            self._post_events()
            snapshot = await take_snapshot(client, capture=wanted, previous=snapshot)
            windows = first_panes(snapshot.panes)
        self._last_snapshot = snapshot
        by_uid = {w.agent_uid: w for w in windows if w.agent_uid}  # each agent's window, by its first pane
        moment = datetime.datetime.now(datetime.UTC)
        to_brief: list[tuple[AgentRecord, PaneInfo]] = []
        for count, (uid, record) in enumerate(records.items(), 1):
            if count % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let exit events and status writes in between, then go on
            if uid not in self.state.agents or uid in self._exited_during_pass:
                # Deleted meanwhile, or exited after the snapshot was taken: its exit has been reported
                # (`_report_exit`) and the next pass, woken by it, reads the dead pane.
                continue
            pane = by_uid.get(uid)
            reading: Classification | None = None
            if pane is not None and (pane_snapshot := snapshot.pane_snapshot(pane.pane_id)) is not None:
                reading = self.screen_readings.classify(uid, record.profile, pane_snapshot)
                self.state.readings[uid] = reading
            if pane is not None and pane.exit_known and record.exit_decision is None:
                # An exit the watcher has not reported (before we started, or while we were respawning).
                self._record_exit(pane, time.time(), snapshot.screens.get(pane.pane_id, ()))
            lines = snapshot.screens.get(pane.pane_id, ()) if pane is not None else ()
            want = changed_status_want(
                self.config.node,
                record,
                pane=pane,
                reading=reading,
                now=moment,
                snapshot_lines=lines,
                workspace=self.workspaces.report(record),
            )
            if want is not None:
                self.writes.want(want)
            if reading is not None and reading.ready and pane is not None and not pane.dead:
                to_brief.append((record, pane))
        # How long a Starting status waits depends on how many of the node's agents are Starting now
        # (node.status.starting_hold), and so do the waits of those queued in earlier passes.
        starting = sum(wanted_phase(record) == AgentPhase.STARTING.value for record in records.values())
        self.writes.rehold(lambda want: crowd_hold(want, starting))
        self.screen_readings.keep_only(records)
        busy = {uid for uid, reading in self.state.readings.items() if reading.activity is Activity.BUSY}
        self.workspaces.sync(
            records, busy
        )  # after the kills above: a removed agent's worktree is retired now
        # Typing waits for screens (seconds at worst); it runs beside the passes, one delivery task at a time,
        # so observation and crash reports never wait for a slow agent to take a message.
        if self._delivery_task is None or self._delivery_task.done():
            self._delivery_task = asyncio.create_task(
                self.deliveries.deliver(client, to_brief, moment), name="deliver"
            )
        self.agent_count.report(len(records))
