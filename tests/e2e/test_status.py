"""Issue 17: what kubectl, kstatus (Flux, kpt, Argo CD) and people read from every kind, in each situation.

The real operator and node agent against the real control plane; kstatus' verdict comes from the shared
table of its generic rules (support.kstatus), applied to the objects exactly as the API server returns them.
"""

from __future__ import annotations

import os
import signal
import time
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
    "print('Error: the model is overloaded, please try again later.'); "
    "print('\u2570' + '\u2500' * 150 + '\u256f'); raise SystemExit(3)",
]


def events_about(kube: Kubectl, kind: str, name: str) -> list[dict[str, Any]]:
    items = kube.get_all(
        "events", "--field-selector", f"involvedObject.kind={kind},involvedObject.name={name}"
    )
    return items


def test_a_ready_team_its_agents_and_its_node_are_current(system: System) -> None:
    kube = system.kube
    kube.apply(demo_team(system.pool))
    ready = wait_team_ready(kube, "demo")
    assert kstatus(ready) is KStatus.CURRENT
    for name, agent in agents(kube, "demo").items():
        assert kstatus(agent) is KStatus.CURRENT, (name, agent["status"])
        assert agent["status"]["observedGeneration"] == agent["metadata"]["generation"]
        assert conditions(agent)["Scheduled"]["status"] == "True"
    assert kstatus(kube.get("tmuxnode", system.nodes[0].name)) is KStatus.CURRENT
    status = ready["status"]
    progressing = conditions(ready)["Progressing"]
    assert (status["readyReplicas"], progressing["status"], progressing["reason"]) == (
        4,
        "False",
        "RolloutComplete",
    )
    assert "lastHandled" not in status
    described = kube.run("describe", "agentteam", "demo").stdout
    assert "Last Handled" not in described


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


def test_a_crash_looping_agent_and_its_team_are_failed_and_tell_the_story(system: System) -> None:
    kube = system.kube
    recovery = {"backoffSeconds": 1, "maxBackoffSeconds": 1, "maxRestarts": 2, "windowSeconds": 120}
    kube.apply(team("loop", system.pool, [member("dev", command=CRASHING)], recovery=recovery))

    def failed() -> dict[str, Any] | None:
        found = agents(kube, "loop").get("loop-dev-0")
        return found if found and (found.get("status") or {}).get("phase") == "Failed" else None

    agent = wait_for(failed, timeout=60, message="loop-dev-0 Failed")
    status = agent["status"]
    assert kstatus(agent) is KStatus.FAILED, status
    assert status["lastCrashReason"] == "Exited"
    message = "exited with status 3: Error: the model is overloaded, please try again later."
    assert status["lastCrashMessage"] == message  # not the box drawn around it
    team_status = wait_status(kube, "loop", lambda s: s.get("phase") == "Failed", message="team Failed")
    assert kstatus(
        {"metadata": {"generation": team_status["observedGeneration"]}, "status": team_status}
    ) is (KStatus.FAILED)
    wide = kube.run("get", "agents", "-o", "wide").stdout.splitlines()
    assert all(len(line) < 200 for line in wide), wide
    assert "Exited" in wide[1]
    # kubectl events --for agent/X tells the story: each crash, the back-off between, each restart.
    story = wait_for(
        lambda: (
            (out := kube.run("events", "--for", "agent/loop-dev-0").stdout)
            and all(reason in out for reason in ("Crashed", "BackOff", "Started"))
            and out
        ),
        message="crash, back-off and restart events",
    )
    by_reason = {e["reason"]: e for e in events_about(kube, "Agent", "loop-dev-0")}
    assert by_reason["Crashed"]["count"] == 3 and by_reason["BackOff"]["count"] == 2, story
    assert by_reason["Crashed"]["reportingInstance"] and by_reason["Crashed"]["source"]["host"]


def test_describe_lists_events_in_time_order(system: System) -> None:
    kube = system.kube
    manifest = demo_team(system.pool)
    kube.apply(manifest)
    wait_team_ready(kube, "demo")
    manifest["spec"]["members"][1]["replicas"] = 3
    kube.apply(manifest)
    wait_status(kube, "demo", lambda s: s.get("ready") == "5/5", message="5/5")
    kube.run("annotate", "agentteam", "demo", "orchestrator.tmux.dev/restartedAt=now-1")

    def story_told() -> list[dict[str, Any]] | bool:
        # One AgentCreated per pass that created agents (the start, the scale-up), then the restart.
        found = events_about(kube, "AgentTeam", "demo")
        reasons = [e["reason"] for e in found]
        return reasons.count("AgentCreated") >= 2 and "RestartStarted" in reasons and found

    recorded = wait_for(story_told, message="the team's events of its start, scale-up and restart")
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
    assert len(shown) >= 4
    assert shown == sorted(shown), section


def test_a_node_whose_lease_expired_is_not_current_until_its_agent_returns(system: System) -> None:
    kube = system.kube
    kube.apply(demo_team(system.pool))
    wait_team_ready(kube, "demo")
    node = system.nodes[0]
    assert node.process.process is not None
    pid = node.process.process.pid
    os.kill(pid, signal.SIGSTOP)  # alive but silent: its Lease runs out
    try:
        lease = kube.in_namespace("kube-node-lease").get("lease", f"tmuxnode-{node.name}")
        renewed = parse_time(lease["spec"]["renewTime"])
        assert renewed is not None
        expires = renewed.timestamp() + lease["spec"]["leaseDurationSeconds"]
        lost = wait_for(
            lambda: kstatus(found := kube.get("tmuxnode", node.name)) is not KStatus.CURRENT and found,
            timeout=max(expires - time.time(), 0) + 60,
            message="TmuxNode no longer Current",
        )
        assert time.time() - expires < 60
        ready = conditions(lost)["Ready"]
        assert (ready["status"], ready["reason"]) == ("Unknown", "NodeLost")
        assert kube.run("get", "tmuxnodes", node.name, "--no-headers").stdout.split()[1] == "Unknown"
    finally:
        os.kill(pid, signal.SIGCONT)
    back = wait_for(
        lambda: kstatus(found := kube.get("tmuxnode", node.name)) is KStatus.CURRENT and found,
        timeout=30,
        message="TmuxNode Current again",
    )
    assert conditions(back)["Ready"]["status"] == "True"
    wait_team_ready(kube, "demo")
    assert all(kstatus(a) is KStatus.CURRENT for a in agents(kube, "demo").values())
    # A cluster-scoped object's events live in the default namespace.
    events = wait_for(
        lambda: [
            e
            for e in events_about(kube.in_namespace("default"), "TmuxNode", node.name)
            if e["reason"] == "NodeLost"
        ],
        message="NodeLost event on the TmuxNode",
    )
    assert events[0]["type"] == "Warning" and "stopped renewing its Lease" in events[0]["message"]
