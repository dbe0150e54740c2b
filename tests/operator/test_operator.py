"""The operator against a real control plane: AgentTeams in, Agents, status, events and routing out.

Node agents are played by stand_in_node.py (see its docstring): operator-only tests, no tmux.
"""

from __future__ import annotations

import json
import select
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.kube import Kubectl, kubectl_binary, table_header, wait_for
from tmux_orchestrator.kube.client import NODE_LEASE_NAMESPACE, node_lease_name

from .conftest import Nodes, Operator
from .helpers import (
    AGENT,
    MEMBER,
    NODE,
    POOL,
    REVISION,
    ROLE,
    TEAM,
    agents,
    canary,
    condition,
    created_by_event,
    events,
    member,
    revisions_of,
    team,
    wait_events,
    wait_ready,
)

pytestmark = pytest.mark.cluster
REPO = Path(__file__).resolve().parents[2]


def test_demo_team_becomes_ready_with_owned_labelled_agents(
    cluster_operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    node = f"{namespace}-a"
    nodes.start(node)
    kube.run("apply", "-f", str(REPO / "examples" / "demo-team.yaml"))
    kube.run("wait", "--for=condition=Ready", "agentteam/demo", "--timeout=45s", timeout=60)

    body = wait_ready(kube, "demo", 4)
    uid = body["metadata"]["uid"]
    made = agents(kube, "demo")
    assert sorted(made) == ["demo-dev-0", "demo-dev-1", "demo-pm-0", "demo-qa-0"]
    for name, agent in made.items():
        labels = agent["metadata"]["labels"]
        spec = agent["spec"]
        assert labels[TEAM] == "demo" and labels[MEMBER] == spec["member"] and labels[NODE] == node
        assert (
            labels[ROLE] == spec["role"]
            and labels[REVISION] == spec["revision"] == body["status"]["currentRevision"]
        )
        assert spec["nodeName"] == node and name == f"demo-{spec['member']}-{spec['ordinal']}"
        assert agent["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "orchestrator.tmux.dev/v1alpha1",
                "kind": "AgentTeam",
                "name": "demo",
                "uid": uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    revisions = kube.get_all("controllerrevisions", "-l", f"{TEAM}=demo")
    assert [r["metadata"]["ownerReferences"][0]["uid"] for r in revisions] == [uid]

    table = kube.run("get", "agentteams").stdout
    row = dict(zip(table_header(table), table.splitlines()[1].split(), strict=True))
    assert (row["READY"], row["PHASE"], row["NODE"]) == ("4/4", "Running", node)

    # kopf writes nothing to what it watches: no state in annotations or status, no finalizer.
    annotations = body["metadata"].get("annotations") or {}
    assert list(annotations) == ["kubectl.kubernetes.io/last-applied-configuration"]  # kubectl's own
    assert "kopf" not in body["status"] and not body["metadata"].get("finalizers")
    watched = [*made.values(), *revisions, kube.get("tmuxnode", node)]
    watched.append(kube.in_namespace(NODE_LEASE_NAMESPACE).get("lease", node_lease_name(node)))
    for obj in watched:
        assert not obj["metadata"].get("finalizers"), obj["metadata"]
        assert not [key for key in obj["metadata"].get("annotations") or {} if "kopf" in key], obj["metadata"]
    health = cluster_operator.health()["operator"]
    assert health["role"] == "leader" and health["teams"] >= 1  # type: ignore[index,operator]


def test_scaling_adds_and_removes_the_highest_ordinals(
    operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    nodes.start(f"{namespace}-a", f"{POOL}={namespace}")
    kube.apply(team("web", namespace, member("pm"), member("dev", 2)))
    wait_ready(kube, "web", 3)
    uids = {name: a["metadata"]["uid"] for name, a in agents(kube, "web").items()}
    # One AgentCreated event per scale (as a Deployment's ScalingReplicaSet), naming every agent it made.
    wait_events(kube, "AgentCreated")
    assert [sorted(names) for names in created_by_event(kube)] == [["web-dev-0", "web-dev-1", "web-pm-0"]]

    kube.run("patch", "agentteam", "web", "--type=json", "-p", _replicas(1, 4))
    wait_ready(kube, "web", 5)
    now = agents(kube, "web")
    assert sorted(now) == ["web-dev-0", "web-dev-1", "web-dev-2", "web-dev-3", "web-pm-0"]
    wait_events(kube, "AgentCreated", 2)
    assert sorted(sorted(names) for names in created_by_event(kube)) == [
        ["web-dev-0", "web-dev-1", "web-pm-0"],
        ["web-dev-2", "web-dev-3"],
    ]
    assert all(now[name]["metadata"]["uid"] == uid for name, uid in uids.items())

    kube.run("patch", "agentteam", "web", "--type=json", "-p", _replicas(1, 1))
    wait_ready(kube, "web", 2)
    wait_for(lambda: sorted(agents(kube, "web")) == ["web-dev-0", "web-pm-0"], message="dev-1..3 deleted")
    kept = agents(kube, "web")
    assert {name: a["metadata"]["uid"] for name, a in kept.items()} == {
        n: uids[n] for n in ("web-dev-0", "web-pm-0")
    }
    wait_for(
        lambda: (
            {e["note"].split()[-1] for e in events(kube, "AgentDeleted")}
            == {"web-dev-1", "web-dev-2", "web-dev-3"}
        ),
        message="an AgentDeleted event per removed agent",
    )


def _replicas(index: int, replicas: int) -> str:
    return json.dumps([{"op": "replace", "path": f"/spec/members/{index}/replicas", "value": replicas}])


def test_deleting_a_team_garbage_collects_everything_it_owns(
    operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    nodes.start(f"{namespace}-a", f"{POOL}={namespace}")
    kube.apply(team("web", namespace))
    body = wait_ready(kube, "web", 3)
    assert not body["metadata"].get("finalizers")
    assert not any(a["metadata"].get("finalizers") for a in agents(kube, "web").values())

    kube.run("delete", "agentteam", "web", "--timeout=30s", timeout=40)
    for kind in ("agents", "controllerrevisions", "agentmessages"):
        wait_for(
            lambda kind=kind: not kube.get_all(kind, "-l", f"{TEAM}=web"),
            timeout=30,
            message=f"{kind} of the deleted team garbage-collected",
        )


def test_a_team_without_a_fitting_node_is_pending_until_one_appears(
    operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    nodes.start(f"{namespace}-other", f"{POOL}=elsewhere")
    kube.apply(team("web", namespace))

    def pending() -> dict[str, Any] | None:
        body = kube.get("agentteam", "web")
        return body if (body.get("status") or {}).get("phase") == "Pending" else None

    body = wait_for(pending, timeout=20, message="phase Pending")
    reconciling, ready = condition(body, "Reconciling"), condition(body, "Ready")
    assert reconciling["status"] == "True" and reconciling["reason"] == "Unschedulable"
    assert ready["status"] == "False" and "placement.nodeSelector" in ready["message"]
    assert wait_events(kube, "FailedScheduling")

    node = f"{namespace}-a"
    nodes.start(node, f"{POOL}={namespace}")
    body = wait_ready(kube, "web", 3)
    assert body["status"]["node"] == node


def test_teams_applied_at_once_never_overfill_a_node(
    operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    """Passes over different teams run concurrently; a team placed by one pass but not yet created must
    count against the node for the others (like the kube-scheduler's assumed pods), or two teams take the
    same room and one is left with agents that never fit."""
    capacity, per_team, teams = 6, 3, 4
    for suffix in ("a", "b"):
        nodes.start(f"{namespace}-{suffix}", f"{POOL}={namespace}", capacity=capacity)
    names = [f"t{i}" for i in range(teams)]
    manifests = [team(name, namespace, member("dev", per_team)) for name in names]
    kube.apply("\n---\n".join(yaml.safe_dump(m) for m in manifests))
    for name in names:
        wait_ready(kube, name, per_team, timeout=60)
    placed = Counter(a["metadata"]["labels"][NODE] for n in names for a in agents(kube, n).values())
    assert placed == {f"{namespace}-a": capacity, f"{namespace}-b": capacity}


def test_a_lost_node_moves_the_team_to_another_node(
    operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    lost, spare = f"{namespace}-a", f"{namespace}-b"
    doomed = nodes.start(lost, f"{POOL}={namespace}")
    kube.apply(team("web", namespace))
    assert wait_ready(kube, "web", 3)["status"]["node"] == lost
    nodes.start(spare, f"{POOL}={namespace}")
    doomed.kill()  # its Lease is left to expire (40 s)

    def moved() -> dict[str, Any] | None:
        body = kube.get("agentteam", "web")
        return body if (body.get("status") or {}).get("node") == spare else None

    wait_for(moved, timeout=55, interval=0.5, message=f"team moved to {spare}")
    wait_ready(kube, "web", 3, timeout=15)
    assert {a["spec"]["nodeName"] for a in agents(kube, "web").values()} == {spare}
    notes = [e["note"] for e in wait_events(kube, "NodeLost")]
    assert f"node {lost} lost" in notes[0] and "3 agent(s) Lost" in notes[0]
    assert wait_events(kube, "Rescheduled") and len(wait_events(kube, "AgentRescheduled", 3)) == 3


def _template_change(kube: Kubectl, value: str) -> None:
    patch = [{"op": "add", "path": "/spec/env", "value": [{"name": "VERSION", "value": value}]}]
    kube.run("patch", "agentteam", "web", "--type=json", "-p", json.dumps(patch))


def test_a_template_change_rolls_out_canary_first_pm_last(
    operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    nodes.start(f"{namespace}-a", f"{POOL}={namespace}")
    strategy = canary((25, 6), (100, None), min_ready=1)
    kube.apply(team("web", namespace, member("pm"), member("dev", 3), strategy=strategy))
    old = wait_ready(kube, "web", 4)["status"]["currentRevision"]

    _template_change(kube, "2")
    started = time.monotonic()
    samples: list[tuple[float, int, bool]] = []  # (seconds, agents on the new revision, PM among them)
    while time.monotonic() - started < 40:
        made = agents(kube, "web")
        new = [name for name, a in made.items() if a["spec"]["revision"] != old]
        samples.append((time.monotonic() - started, len(new), "web-pm-0" in new))
        if len(new) == 4:
            break
        time.sleep(0.2)

    counts = [count for _, count, _ in samples]
    assert counts == sorted(counts), "agents only move forward"
    assert counts[-1] == 4, f"rollout did not finish: {samples}"
    canary_phase = [(t, pm) for t, count, pm in samples if count == 1]
    assert canary_phase, f"no canary step with exactly one updated agent: {samples}"
    assert not any(pm for _, pm in canary_phase), "the PM moved in the canary step"
    assert canary_phase[-1][0] - canary_phase[0][0] >= 4, f"canary step did not hold its pause: {samples}"
    body = wait_ready(kube, "web", 4)
    new_revision = body["status"]["currentRevision"]
    assert body["status"]["stableRevision"] == new_revision != old
    assert condition(body, "Progressing")["reason"] == "RolloutComplete"
    assert wait_events(kube, "RolloutStarted") and wait_events(kube, "RolloutCompleted")


def test_operator_killed_mid_reconcile_converges_without_duplicates(
    operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    nodes.start(f"{namespace}-a", f"{POOL}={namespace}")
    watch = subprocess.Popen(
        [kubectl_binary(), "get", "agents", "--watch", "--output=name", f"--namespace={namespace}"],
        stdout=subprocess.PIPE,
        env=kube.env,
    )
    try:
        kube.apply(team("big", namespace, member("pm"), member("dev", 39)))
        assert watch.stdout is not None and select.select([watch.stdout], [], [], 20)[0], "no agent created"
        operator.kill(signal.SIGKILL)  # as the first Agent shows up: in the middle of the first pass
    finally:
        watch.kill()
        watch.communicate()
    before = {name: a["metadata"]["uid"] for name, a in agents(kube, "big").items()}
    print(f"{len(before)} of 40 agents existed when the operator was killed")

    operator.start()
    wait_ready(kube, "big", 40, timeout=40)
    after = agents(kube, "big")
    assert sorted(after) == sorted([f"big-dev-{i}" for i in range(39)] + ["big-pm-0"])
    assert all(after[name]["metadata"]["uid"] == uid for name, uid in before.items()), (
        "an agent was recreated"
    )
    assert len(kube.get_all("controllerrevisions", "-l", f"{TEAM}=big")) == 1
    # Events are best effort (the killed process may take some with it), never doubled.
    created = [name for names in created_by_event(kube) for name in names]
    assert len(created) == len(set(created))


def test_operator_killed_between_canary_steps_resumes_the_rollout(
    operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    nodes.start(f"{namespace}-a", f"{POOL}={namespace}")
    strategy = canary((25, 8), (100, None), min_ready=1)
    kube.apply(team("web", namespace, member("pm"), member("dev", 3), strategy=strategy))
    old = wait_ready(kube, "web", 4)["status"]["currentRevision"]

    _template_change(kube, "2")
    wait_for(lambda: len(revisions_of(kube, "web")) == 2, timeout=15, message="canary step started")
    canary_agent = next(a for a in agents(kube, "web").values() if a["spec"]["revision"] != old)
    operator.kill(signal.SIGKILL)  # returns once the process is gone: it can write nothing more
    assert not operator.running
    assert revisions_of(kube, "web")[old] == 3
    operator.start()

    body = wait_ready(kube, "web", 4, timeout=40)
    assert set(revisions_of(kube, "web")) == {body["status"]["currentRevision"]} != {old}
    after = agents(kube, "web")[canary_agent["metadata"]["name"]]
    # Moved once: the same object, its update stamp untouched by the restarted operator.
    assert after["metadata"]["uid"] == canary_agent["metadata"]["uid"]
    stamp = "orchestrator.tmux.dev/revision-updated-at"
    assert after["metadata"]["annotations"][stamp] == canary_agent["metadata"]["annotations"][stamp]
    assert len(wait_events(kube, "RolloutCompleted")) == 1 and len(events(kube, "RolloutStarted")) == 1


def test_messages_are_routed_to_their_agents_node_and_follow_it(
    operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    node_a, node_b = f"{namespace}-a", f"{namespace}-b"
    nodes.start(node_a, f"{POOL}={namespace}")
    nodes.start(node_b, f"{POOL}={namespace}-b")
    kube.apply(team("web", namespace))
    wait_ready(kube, "web", 3)
    for name, spec in (
        ("to-pm", {"team": "web", "member": "pm"}),
        ("to-dev", {"agent": "web-dev-1"}),
        ("to-nobody", {"agent": "web-ghost-0"}),
    ):
        kube.apply(
            {
                "apiVersion": "orchestrator.tmux.dev/v1alpha1",
                "kind": "AgentMessage",
                "metadata": {"name": name},
                "spec": {**spec, "text": f"hello {name}"},
            }
        )

    def labels(name: str) -> dict[str, str]:
        return dict(kube.get("agentmessage", name)["metadata"].get("labels") or {})

    wait_for(lambda: labels("to-pm") == {AGENT: "web-pm-0", NODE: node_a}, message="to-pm routed")
    wait_for(lambda: labels("to-dev") == {AGENT: "web-dev-1", NODE: node_a}, message="to-dev routed")
    wait_events(kube, "TargetMissing")
    assert labels("to-nobody") == {}

    # A delivered message stays where it was; a pending one follows its agent to the other node.
    kube.run(
        "patch", "agentmessage", "to-dev", "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": {"phase": "Delivered"}}),
    )  # fmt: skip
    patch = [{"op": "replace", "path": "/spec/placement/nodeSelector", "value": {POOL: f"{namespace}-b"}}]
    kube.run("patch", "agentteam", "web", "--type=json", "-p", json.dumps(patch))
    wait_for(
        lambda: labels("to-pm") == {AGENT: "web-pm-0", NODE: node_b}, timeout=20, message="to-pm rerouted"
    )
    assert labels("to-dev") == {AGENT: "web-dev-1", NODE: node_a}
    warnings = events(kube, "TargetMissing")
    assert len(warnings) == 1 and warnings[0]["type"] == "Warning"


def test_a_failed_agent_is_reported_to_the_pm_on_its_node_and_as_a_warning(
    operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    node = f"{namespace}-a"
    nodes.start(node, f"{POOL}={namespace}", failed=("web-dev-1",))
    kube.apply(team("web", namespace))

    def degraded() -> dict[str, Any] | None:
        body = kube.get("agentteam", "web")
        return body if (body.get("status") or {}).get("phase") == "Degraded" else None

    body = wait_for(degraded, timeout=20, message="phase Degraded")
    assert condition(body, "Stalled")["status"] == "True"
    warning = wait_events(kube, "AgentFailed")[0]
    assert warning["type"] == "Warning" and warning["regarding"]["name"] == "web-dev-1"
    notifications = wait_for(
        lambda: kube.get_all("agentmessages", "-l", "orchestrator.tmux.dev/notification=agent-failed"),
        message="a notification to the PM",
    )
    assert len(notifications) == 1
    labels = notifications[0]["metadata"]["labels"]
    # Routed from creation on: the node agent of the PM's node picks it up without waiting for a relabel.
    assert labels[AGENT] == "web-pm-0" and labels[NODE] == node
    assert labels["orchestrator.tmux.dev/about"] == "web-dev-1"
    assert notifications[0]["spec"]["agent"] == "web-pm-0"
    assert operator.metrics()['tmux_orchestrator_notifications{phase="Pending"}'] == 1


UNCHANGED = 'tmux_orchestrator_reconciles_total{result="unchanged"}'


def test_steady_state_writes_nothing(operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str) -> None:
    node = f"{namespace}-a"
    nodes.start(node, f"{POOL}={namespace}")
    kube.apply(team("web", namespace, member("pm"), member("dev", 4)))
    wait_ready(kube, "web", 5)
    # Settled once a pass has found nothing to write (the last status write's echo comes back as one).
    wait_for(lambda: operator.metrics().get(UNCHANGED, 0) >= 1, message="a pass with nothing to write")

    def versions() -> dict[str, str]:
        objects = [kube.get("agentteam", "web"), *agents(kube, "web").values()]
        return {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in objects}

    writes, before = operator.api_writes(), versions()
    # Steady state is the node renewing its Lease (every RENEW_SECONDS) while nothing else changes: the
    # operator sees each renewal; seven of them span what used to be a fixed 15 s wait.
    leases = kube.in_namespace(NODE_LEASE_NAMESPACE)
    renewals: set[str] = set()

    def renewed() -> bool:
        renewals.add(leases.get("lease", node_lease_name(node))["spec"]["renewTime"])
        return len(renewals) > 7

    wait_for(renewed, timeout=30, interval=0.5, message="seven Lease renewals")
    assert operator.api_writes() == writes
    assert versions() == before
    samples = operator.metrics()
    assert samples['tmux_orchestrator_agents{phase="Running"}'] == 5
    assert samples[UNCHANGED] >= 1
