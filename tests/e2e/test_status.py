"""Issue 17: what kubectl, kstatus (Flux, kpt, Argo CD) and people read from every kind, in each situation.

The real operator and node agent against the real control plane; kstatus' verdict comes from the shared
table of its generic rules (support.kstatus), applied to the objects exactly as the API server returns them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from support.e2e import System, agents, conditions, demo_team, member, team, wait_status, wait_team_ready
from support.kstatus import KStatus, kstatus
from support.kube import Kubectl, wait_for
from tmux_orchestrator.core.clock import parse_time

# A CLI that dies at once after drawing a wide box and a long error line: its tail must stay out of the
# printer columns, its last meaningful line must reach lastCrashMessage.
CRASHING = [
    "python3",
    "-c",
    "print('\u256d' + '\u2500' * 150 + '\u256e'); "
    "print('Error: the model is overloaded, please try again later. ' * 4); "
    "print('\u2570' + '\u2500' * 150 + '\u256f'); raise SystemExit(3)",
]


def events_about(kube: Kubectl, kind: str, name: str) -> list[dict[str, Any]]:
    items = kube.get_all(
        "events", "--field-selector", f"involvedObject.kind={kind},involvedObject.name={name}"
    )
    return items


def test_an_agent_no_node_fits_is_pending_unscheduled_with_its_event(system: System) -> None:
    kube = system.kube
    manifest = team("far", "no-such-pool", [member("dev")])
    kube.apply(manifest)

    def unscheduled() -> dict[str, Any] | None:
        found = agents(kube, "far").get("far-dev-0")
        return found if found and conditions(found).get("Scheduled", {}).get("status") == "False" else None

    agent = wait_for(unscheduled, message="far-dev-0 Scheduled=False")
    scheduled = conditions(agent)["Scheduled"]
    assert scheduled["reason"] == "Unschedulable"
    assert "not matching placement.nodeSelector" in scheduled["message"]
    assert agent["status"]["phase"] == "Pending"
    assert kstatus(agent) is KStatus.IN_PROGRESS
    assert kstatus(kube.get("agentteam", "far")) is KStatus.IN_PROGRESS
    story = wait_for(
        lambda: "FailedScheduling" in (out := kube.run("events", "--for", "agent/far-dev-0").stdout) and out,
        message="FailedScheduling event on the agent",
    )
    assert "not matching placement.nodeSelector" in story


def test_describe_lists_events_in_time_order(system: System) -> None:
    kube = system.kube
    manifest = demo_team(system.pool)
    kube.apply(manifest)
    wait_team_ready(kube, "demo")
    manifest["spec"]["members"][1]["replicas"] = 3
    kube.apply(manifest)
    wait_status(kube, "demo", lambda s: s.get("ready") == "5/5", message="5/5")
    kube.run("annotate", "agentteam", "demo", "orchestrator.tmux.dev/restartedAt=now-1")
    wait_for(lambda: len(events_about(kube, "AgentTeam", "demo")) >= 7, message="events of the team")
    recorded = events_about(kube, "AgentTeam", "demo")
    for event in recorded:
        assert event["lastTimestamp"] and event["firstTimestamp"] and event["count"] >= 1, event
        assert event["reportingInstance"] and event["source"]["component"], event
    when = {(e["reason"], " ".join(e["message"].split())): parse_time(e["lastTimestamp"]) for e in recorded}
    section = kube.run("describe", "agentteam", "demo").stdout.split("Events:", 1)[1]
    shown: list[datetime] = []
    for line in section.splitlines()[3:]:
        parts = line.split(None, 4)  # type, reason, age (one word: each event happened once), from, message
        if len(parts) == 5 and parts[0] in ("Normal", "Warning"):
            moment = when.get((parts[1], " ".join(parts[4].split())))
            assert moment is not None, (line, list(when))
            shown.append(moment)
    assert len(shown) >= 7
    assert shown == sorted(shown), section
