"""Briefings and AgentMessages: which to type now (`judge_message`), typing them, and the message status
they want written (through the status writer: typing never waits for the API server)."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import Any

from tmux_orchestrator.api import Activity, DeliveryConfirmation, MessagePhase
from tmux_orchestrator.core.clock import format_time
from tmux_orchestrator.kube import Kube, KubeObject, Resource
from tmux_sidecar.classification import Classification
from tmux_sidecar.delivery import (
    MAX_ATTEMPTS,
    DeliveryVerdict,
    expiry_reason,
    judge_message,
    may_paste,
    typed_text,
)
from tmux_sidecar.hook_state import chosen_activity
from tmux_sidecar.localapi.messages import sender_to_verify
from tmux_sidecar.localapi.senders import SenderCheck
from tmux_sidecar.pane import PaneInfo
from tmux_sidecar.team_tools import wants_hooks
from tmux_sidecar.tmux.control import ControlClient, ControlClosedError

from .records import AgentRecord, NodeState, pending_message
from .status_writes import StatusWant, StatusWriter, WriteKey
from .typing import INTERRUPTED_BY_RESTART, TypingResult, Typist, screen_classifier

log = logging.getLogger(__name__)


class Deliveries:
    """Types briefings and due messages, one delivery at a time, beside the sync passes."""

    def __init__(self, kube: Kube, state: NodeState, writes: StatusWriter) -> None:
        self.kube = kube
        self.state = state
        self.writes = writes
        self.typist = Typist()
        self.senders = SenderCheck(kube)
        self._delivering: set[str] = set()
        self._final_queued: set[str] = set()  # messages whose outcome waits in the status writer

    async def deliver(
        self, client: ControlClient, to_brief: Sequence[tuple[AgentRecord, PaneInfo]], now: datetime.datetime
    ) -> None:
        """Brief the agents that need it, then deliver the messages that are due."""
        try:
            await self.typist.prune(client)
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
        now = datetime.datetime.now(datetime.UTC)
        if not may_paste(delivery_activity(record, self.state.readings.get(record.uid), now)):
            return  # a dialog is open: the briefing would answer it
        if not await no_dialog_on_screen(client, pane.pane_id, record.spec.template.profile):
            return
        result = await self.typist.type_and_submit(
            client,
            pane.pane_id,
            briefing,
            key=f"briefing-{record.uid}-{record.spec.revision}",
            profile=record.spec.template.profile,
        )
        # A briefing that was typed but not taken is not typed again (the typist logged how it ended).
        if result is not None and result.delivered:
            record.briefed_revision = record.spec.revision

    async def _deliver_messages(self, client: ControlClient, now: datetime.datetime) -> None:
        by_name = {(r.namespace, r.name): r for r in self.state.agents.values()}
        for uid, obj in list(self.state.messages.items()):
            message = pending_message(obj)
            if message is None or uid in self._delivering or uid in self._final_queued:
                continue  # being typed, or its outcome is on its way to the server
            target = message.spec.agent or obj["metadata"].get("labels", {}).get(
                "orchestrator.tmux.dev/agent"
            )
            if await self._sender_unverified(obj, message.attempts, target, now):
                continue
            record = by_name.get((message.namespace, target or ""))
            reading = self.state.readings.get(record.uid) if record else None
            ready = bool(record and reading and reading.ready and not record.failed)
            activity = delivery_activity(record, reading, now)
            verdict = judge_message(message, agent_ready=ready, activity=activity, now=now)
            if verdict is DeliveryVerdict.EXPIRE:
                self._message_status(
                    obj,
                    MessagePhase.EXPIRED,
                    attempts=message.attempts,
                    reason=expiry_reason(activity),
                    agent=target,
                )
            elif verdict is DeliveryVerdict.FAIL:
                reason = f"tmux failed before typing, {MAX_ATTEMPTS} attempts"
                self._message_status(
                    obj, MessagePhase.FAILED, attempts=message.attempts, reason=reason, agent=target
                )
            elif verdict is DeliveryVerdict.DELIVER and record is not None:
                pane_id = record.pane_id
                if pane_id is None:
                    continue
                if not await no_dialog_on_screen(client, pane_id, record.spec.template.profile):
                    continue  # a dialog opened since the last pass: wait for it to be answered
                self._delivering.add(uid)
                try:
                    result = await self.typist.type_and_submit(
                        client,
                        pane_id,
                        typed_text(message.spec, record.spec.team_ref.name),
                        key=uid,
                        profile=record.spec.template.profile,
                        submitted=(record.prompt_reported if wants_hooks(record.spec.template) else None),
                    )
                finally:
                    self._delivering.discard(uid)
                self._typing_outcome(obj, result, attempts=message.attempts + 1, agent=target)

    async def _sender_unverified(
        self, obj: KubeObject, attempts: int, target: str | None, now: datetime.datetime
    ) -> bool:
        """Whether a message from an agent must wait (its sender not known yet) or was refused (Failed).

        The check is made when the message is first seen, moments after its creation, and its success kept
        in status.senderVerifiedAt: a scheduled message whose sender moves to another node before it falls
        due is still delivered."""
        if sender_to_verify(obj) is None:
            return False
        meta = obj["metadata"]
        try:
            refusal = await self.senders.refusal(obj)
        except Exception as error:
            log.info("sender of message %s/%s not checked yet: %s", meta["namespace"], meta["name"], error)
            return True
        if refusal is not None:
            self._message_status(obj, MessagePhase.FAILED, attempts=attempts, reason=refusal, agent=target)
            return True
        # Verified in memory (SenderCheck keeps the verdict); recorded by the status writer when it can.
        self._want_status(obj, {"senderVerifiedAt": format_time(now)}, final=False)
        return False

    def _typing_outcome(
        self, obj: KubeObject, result: TypingResult | None, *, attempts: int, agent: str | None
    ) -> None:
        """Delivered with its evidence, Failed with the reason (never typed again), or Pending when nothing
        was typed."""
        if result is None:
            reason = "tmux failed before typing"
            self._message_status(obj, MessagePhase.PENDING, attempts=attempts, reason=reason, agent=agent)
            return
        if result.delivered:
            self._message_status(
                obj,
                MessagePhase.DELIVERED,
                attempts=attempts,
                reason=None,
                agent=agent,
                now=datetime.datetime.now(datetime.UTC),
                confirmation=result.confirmation,
            )
            return
        reason = result.failure.value if result.failure else "not delivered"
        if result.detail == INTERRUPTED_BY_RESTART:
            reason = f"{reason}: {result.detail}"
        self._message_status(obj, MessagePhase.FAILED, attempts=attempts, reason=reason, agent=agent)

    def _message_status(
        self,
        obj: KubeObject,
        phase: MessagePhase,
        *,
        attempts: int,
        reason: str | None,
        agent: str | None,
        now: datetime.datetime | None = None,
        confirmation: DeliveryConfirmation | None = None,
    ) -> None:
        status: dict[str, Any] = {
            "phase": phase.value,
            "attempts": attempts,
            "reason": reason,
            "agent": agent,
        }
        if now is not None:
            status["deliveredAt"] = format_time(now)
        if confirmation is not None:
            status["confirmation"] = confirmation.value
        self._want_status(obj, status, final=phase is not MessagePhase.PENDING)

    def _want_status(self, obj: KubeObject, status: dict[str, Any], *, final: bool) -> None:
        """Queue a message status; a final outcome (and the typist's memory of it) waits for the write."""
        uid = str(obj["metadata"]["uid"])
        if final:
            self._final_queued.add(uid)

        def reported() -> dict[str, Any] | None:
            return (self.state.messages.get(uid) or obj).get("status")

        def written(result: KubeObject) -> None:
            self.state.messages[uid] = result
            if final:
                self._final_queued.discard(uid)
                self.typist.forget(uid)  # its outcome is on the server for good

        self.writes.want(StatusWant(_key(obj), status, reported, written, whole=False))


def _key(message: KubeObject) -> WriteKey:
    meta = message["metadata"]
    return WriteKey(Resource.AGENT_MESSAGES, str(meta["name"]), str(meta["namespace"]))


def delivery_activity(
    record: AgentRecord | None, reading: Classification | None, now: datetime.datetime
) -> Activity | None:
    """The activity deliveries go by: the agent's status activity (fresh hook state wins), but a dialog if
    either the hooks or the screen show one (Claude Code's PermissionRequest hook fires before the dialog is
    drawn; the screen shows it while the hook state still says Busy)."""
    if record is None or reading is None:
        return None
    chosen, _ = chosen_activity(record.hook, reading.activity, now)
    if Activity.WAITING_FOR_INPUT in (chosen, reading.activity):
        return Activity.WAITING_FOR_INPUT
    return chosen


async def no_dialog_on_screen(client: ControlClient, pane_id: str, profile: str) -> bool:
    """Right before a paste, on a fresh capture: no dialog the paste would answer (the last pass's reading
    can be a second old, and a tool call's approval can open in between)."""
    lines = await client.capture_pane(pane_id)
    return may_paste(screen_classifier(profile)(lines).activity)
