"""A pass computes an agent's status only when something it is computed from changed; every change a user
would see (the process died, the screen changed, the API object changed, a hook spoke) is still computed."""

from __future__ import annotations

import datetime

from support.manifests import agent_manifest
from tmux_orchestrator.api import Activity, AgentSpec
from tmux_sidecar.classification import PaneSnapshot, ProcessFacts
from tmux_sidecar.hook_state import HookState
from tmux_sidecar.node.records import AgentRecord, seed_record, template_hash
from tmux_sidecar.node.status import changed_status_want
from tmux_sidecar.pane import PaneInfo
from tmux_sidecar.profiles import CLAUDE_CODE

NOW = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
IDLE = ("────────", "> ", "────────", "  ? for shortcuts")
BUSY = ("✻ Working… (esc to interrupt)", "────────", "> ", "────────", "  ? for shortcuts")


def record() -> AgentRecord:
    obj = agent_manifest("a1", "node-1", namespace="default")
    obj["metadata"] |= {"uid": "uid-1", "generation": 1}
    return seed_record(obj, AgentSpec.model_validate(obj["spec"]), CLAUDE_CODE)


def pane(agent: AgentRecord, process: ProcessFacts) -> PaneInfo:
    revision = template_hash(agent.spec.template)
    return PaneInfo("%1", "@1", "team", "a1", process=process, agent_uid="uid-1", revision=revision)


def phase_and_activity(agent: AgentRecord, facts: ProcessFacts, lines: tuple[str, ...]) -> object:
    reading = CLAUDE_CODE.classify(PaneSnapshot(lines, facts))
    want = changed_status_want(
        "node-1", agent, pane=pane(agent, facts), reading=reading, now=NOW, snapshot_lines=lines
    )
    return None if want is None else (want.wanted.get("phase"), want.wanted.get("activity"))


def test_unchanged_agents_are_not_computed_again_and_changes_are() -> None:
    agent = record()
    alive = ProcessFacts(dead=False, current_command="claude", pid=100)
    assert phase_and_activity(agent, alive, IDLE) == ("Running", "Idle")
    phase_and_activity(agent, alive, IDLE)  # the screen's last lines, remembered by the first, settle
    assert phase_and_activity(agent, alive, IDLE) is None
    assert phase_and_activity(agent, alive, BUSY) == ("Running", "Busy")
    phase_and_activity(agent, alive, BUSY)
    assert phase_and_activity(agent, alive, BUSY) is None
    agent.reported = {"phase": "Running", "activity": "Busy"}  # what the server answered
    assert phase_and_activity(agent, alive, BUSY) == ("Running", "Busy")
    dead = ProcessFacts(dead=True, exit_signal=9, current_command="claude", pid=100)
    assert phase_and_activity(agent, dead, BUSY) == ("Crashed", "Unknown")
    agent.obj = {**agent.obj, "metadata": {**agent.obj["metadata"], "generation": 2}}
    assert phase_and_activity(agent, dead, BUSY) is not None


def test_an_agent_with_hook_state_is_computed_every_pass() -> None:
    agent = record()
    agent.hook = HookState(Activity.BUSY, NOW)
    alive = ProcessFacts(dead=False, current_command="claude", pid=100)
    for _ in range(3):
        assert phase_and_activity(agent, alive, IDLE) is not None
