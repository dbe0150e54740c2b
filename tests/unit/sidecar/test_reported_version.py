"""A watch that lags behind the node agent's own status writes (a starved API server replays what it
queued) must not make the next pass write the same status again: what the server answered to our write is
newer than the events still on their way, and only a newer object replaces it."""

from __future__ import annotations

import copy
import datetime
from typing import Any

from support.manifests import agent_manifest
from tmux_orchestrator.api import AgentSpec
from tmux_orchestrator.kube.client import WatchEvent, WatchEventType
from tmux_sidecar.classification import PaneSnapshot, ProcessFacts
from tmux_sidecar.node.records import NodeState, seed_record, template_hash
from tmux_sidecar.node.status import StatusWant, changed_status_want
from tmux_sidecar.node.watches import apply_agent_event
from tmux_sidecar.pane import PaneInfo
from tmux_sidecar.profiles import CLAUDE_CODE

NOW = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
IDLE = ("────────", "> ", "────────", "  ? for shortcuts")
ALIVE = ProcessFacts(dead=False, current_command="claude", pid=100)


def agent_at(version: int, status: dict[str, Any] | None = None) -> dict[str, Any]:
    obj = agent_manifest("a1", "node-1", namespace="default")
    obj["metadata"] |= {"uid": "uid-1", "generation": 1, "resourceVersion": str(version)}
    if status is not None:
        obj["status"] = status
    return obj


def want_now(
    state: NodeState, lines: tuple[str, ...] = IDLE, now: datetime.datetime = NOW
) -> StatusWant | None:
    record = state.agents["uid-1"]
    revision = template_hash(record.spec.template)
    pane = PaneInfo("%1", "@1", "team", "a1", process=ALIVE, agent_uid="uid-1", revision=revision)
    reading = CLAUDE_CODE.classify(PaneSnapshot(lines, ALIVE))
    return changed_status_want("node-1", record, pane=pane, reading=reading, now=now, snapshot_lines=lines)


def patch_now(state: NodeState) -> dict[str, Any] | None:
    """What a pass would write now (None: nothing)."""
    want = want_now(state)
    return None if want is None else want.patch()


def test_a_late_watch_event_does_not_bring_back_a_replaced_status() -> None:
    created = agent_at(10)
    state = NodeState(
        agents={"uid-1": seed_record(created, AgentSpec.model_validate(created["spec"]), CLAUDE_CODE)}
    )
    want = want_now(state)
    assert want is not None and want.patch() is not None and want.wanted["phase"] == "Running"
    want.written(agent_at(12, dict(want.wanted)))  # the server's answer to our write
    patch_now(state)  # the screen's last lines, remembered by the first pass, settle
    assert patch_now(state) is None

    # The watch now delivers, late, the object as it was before our write (the operator's patch, v11).
    apply_agent_event(state, WatchEvent(WatchEventType.MODIFIED, object=agent_at(11, {})))
    assert patch_now(state) is None, "the same status would be written twice"

    # Our write itself arrives through the watch, then a newer change by someone else is taken.
    apply_agent_event(state, WatchEvent(WatchEventType.MODIFIED, object=agent_at(12, dict(want.wanted))))
    assert state.agents["uid-1"].reported == want.wanted
    lost = copy.deepcopy(dict(want.wanted)) | {"phase": "Lost"}
    apply_agent_event(state, WatchEvent(WatchEventType.MODIFIED, object=agent_at(13, lost)))
    assert state.agents["uid-1"].reported == lost


def test_a_pass_while_a_write_is_on_its_way_does_not_stamp_the_same_change_again() -> None:
    """The agent started (Starting) and its screen moved on before that write was answered: the second
    pass wants the same status with the same stamps, so once the first write lands nothing is left to
    write, and lastActivityTime says when the agent started, not when the second pass ran."""
    created = agent_at(10)
    state = NodeState(
        agents={"uid-1": seed_record(created, AgentSpec.model_validate(created["spec"]), CLAUDE_CODE)}
    )
    first = want_now(state, ("Loading…",), NOW)
    assert first is not None and first.wanted["phase"] == "Starting"
    later = NOW + datetime.timedelta(seconds=5)
    second = want_now(state, ("Loading… still",), later)  # the first write is still on its way
    assert second is not None and second.wanted == first.wanted
    first.written(agent_at(11, dict(first.wanted)))
    assert second.patch() is None, "a write that changes only timestamps"
    assert state.agents["uid-1"].reported == first.wanted
    assert first.wanted["lastActivityTime"] == "2026-11-30T00:00:00Z"
