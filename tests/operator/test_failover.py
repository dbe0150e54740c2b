"""Two operator replicas with leader election against the real control plane: one acts, the other only
waits; the active one SIGKILLed mid-rollout → the standby finishes the rollout, no step skipped or repeated.

Node agents are stand-ins (stand_in_node.py): operator-only tests, no tmux.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from support.kube import Kubectl, kubectl_binary, wait_for
from tmux_orchestrator.devcluster.cluster import LocalCluster

from .conftest import Nodes, Operator, _failed, operator_process
from .helpers import (
    POOL,
    TEAM,
    agents,
    canary,
    created_by_event,
    events,
    member,
    team,
    wait_events,
    wait_ready,
)

pytestmark = pytest.mark.cluster
LEASE = "operator-leader"
STAMP = "orchestrator.tmux.dev/revision-updated-at"
WRITES = "tmux_orchestrator_api_writes_total"


@pytest.fixture
def replicas(
    control_plane: LocalCluster, namespace: str, nodes: Nodes, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[dict[str, Operator]]:
    """Two leader-elected operators for this test's namespace, not started yet ("one" and "two")."""
    made = {
        who: operator_process(
            control_plane,
            tmp_path / f"operator-{who}.log",
            namespace,
            extra=[
                "--leader-elect",
                f"--leader-election-namespace={namespace}",
                f"--leader-election-lease={LEASE}",
                f"--leader-election-id={who}",
            ],
        )
        for who in ("one", "two")
    }
    yield made
    for operator in made.values():
        operator.stop()
    if _failed(request):
        for who, operator in made.items():
            print(f"--- operator {who} log ---\n{operator.log()[-8000:]}")
    for operator in made.values():
        assert "Traceback" not in operator.log(), "an operator logged an unexpected error (log above)"


def holder(kube: Kubectl) -> str | None:
    lease = kube.run("get", "lease", LEASE, "-o", "json", check=False)
    return json.loads(lease.stdout)["spec"].get("holderIdentity") if lease.returncode == 0 else None


def role(operator: Operator) -> str | None:
    try:
        return str(operator.health()["operator"]["role"])  # type: ignore[index]
    except OSError:  # not serving yet
        return None


def writes(operator: Operator) -> float:
    return sum(v for k, v in operator.metrics().items() if k.startswith(WRITES))


def test_the_standby_writes_nothing_then_finishes_a_rollout_the_killed_leader_began(
    replicas: dict[str, Operator], nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    one, two = replicas["one"], replicas["two"]
    nodes.start(f"{namespace}-a", f"{POOL}={namespace}")
    one.start()
    wait_for(lambda: holder(kube) == "one", timeout=20, message="one holds the Lease")
    two.start()
    wait_for(lambda: role(two) == "standby", timeout=20, message="two serves /healthz as a standby")
    assert role(one) == "leader"

    strategy = canary((25, 8), (100, None), min_ready=1)
    kube.apply(team("web", namespace, member("pm"), member("dev", 3), strategy=strategy))
    old = wait_ready(kube, "web", 4)["status"]["currentRevision"]
    assert writes(one) > 0
    assert writes(two) == 0, "the standby wrote to the API server"

    # Every version of every Agent from here on: the record of which agent moved when.
    history = subprocess.Popen(
        [kubectl_binary(), "get", "agents", "--watch", "--output=json", f"--namespace={namespace}"],
        stdout=subprocess.PIPE,
        env=kube.env,
    )
    try:
        patch = [{"op": "add", "path": "/spec/env", "value": [{"name": "VERSION", "value": "2"}]}]
        kube.run("patch", "agentteam", "web", "--type=json", "-p", json.dumps(patch))
        wait_for(
            lambda: sum(a["spec"]["revision"] != old for a in agents(kube, "web").values()) == 1,
            timeout=15,
            message="the canary step moved one agent",
        )
        canary_agent = next(a for a in agents(kube, "web").values() if a["spec"]["revision"] != old)
        assert writes(two) == 0, "the standby wrote to the API server"
        one.kill(signal.SIGKILL)  # in the canary step's 8 s pause
        killed = time.monotonic()

        # A change made after the kill: the standby must reconcile it within 30 s.
        kube.apply(team("late", namespace, member("pm")))
        wait_for(lambda: agents(kube, "late"), timeout=30, interval=0.3, message="late team's agent")
        reacted = time.monotonic() - killed
        body = wait_ready(kube, "web", 4, timeout=40)
        wait_ready(kube, "late", 1, timeout=15)
    finally:
        history.kill()
        output, _ = history.communicate()
    print(f"the standby created the late team's agent {reacted:.1f} s after the leader was killed")
    assert reacted < 30

    assert holder(kube) == "two"
    wait_for(lambda: role(two) == "leader", timeout=15, message="two reports itself the leader")
    new = body["status"]["currentRevision"]
    assert new != old and body["status"]["stableRevision"] == new
    assert set(a["spec"]["revision"] for a in agents(kube, "web").values()) == {new}
    assert len(kube.get_all("controllerrevisions", "-l", f"{TEAM}=web")) == 2

    # The canary agent moved once, by the killed leader: same object, its update stamp untouched.
    after = agents(kube, "web")[canary_agent["metadata"]["name"]]
    assert after["metadata"]["uid"] == canary_agent["metadata"]["uid"]
    assert after["metadata"]["annotations"][STAMP] == canary_agent["metadata"]["annotations"][STAMP]

    _assert_each_agent_moved_once_canary_first(output.decode(), canary_agent["metadata"]["name"], new)

    # Events name their occasion: each step's event exactly once, whichever replica posted it.
    assert len(wait_events(kube, "RolloutCompleted")) == 1
    assert len(events(kube, "RolloutStarted")) == 1 and len(events(kube, "RolloutStepAdvanced")) == 1
    created = [name for names in created_by_event(kube) for name in names]
    assert len(created) == len(set(created)), "an agent was created twice"
    assert "leading" in two.log()


def test_a_leader_stopped_gracefully_hands_over_at_once(
    replicas: dict[str, Operator], nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    """SIGTERM (a rolling update, a drained node): the leader stops acting, then releases the Lease, so
    the standby takes over without waiting for the Lease to expire (15 s)."""
    one, two = replicas["one"], replicas["two"]
    one.start()
    wait_for(lambda: holder(kube) == "one", timeout=20, message="one holds the Lease")
    two.start()
    wait_for(lambda: role(two) == "standby", timeout=20, message="two serves /healthz as a standby")
    one.stop()
    stopped = time.monotonic()
    wait_for(lambda: holder(kube) == "two", timeout=15, interval=0.2, message="two holds the Lease")
    took = time.monotonic() - stopped
    print(f"the standby held the Lease {took:.1f} s after the leader was stopped")
    assert took < 10, "the standby waited for the Lease to expire: it was not released"
    assert "released Lease" in one.log()

    nodes.start(f"{namespace}-a", f"{POOL}={namespace}")
    kube.apply(team("web", namespace, member("pm")))
    wait_ready(kube, "web", 1)
    # kopf caches probe results for 10 s: the answer catches up within that.
    wait_for(lambda: role(two) == "leader", timeout=15, message="two reports itself the leader")


def test_a_frozen_leader_that_wakes_after_a_takeover_stops_without_acting(
    replicas: dict[str, Operator], nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    """The leader frozen (SIGSTOP: a long GC pause, a suspended VM) past the Lease's duration: the standby
    takes over; the old leader, thawed, finds it could not renew in time and exits (code 1) instead of
    acting on what it saw before the freeze."""
    one, two = replicas["one"], replicas["two"]
    one.start()
    wait_for(lambda: holder(kube) == "one", timeout=20, message="one holds the Lease")
    two.start()
    wait_for(lambda: role(two) == "standby", timeout=20, message="two serves /healthz as a standby")
    nodes.start(f"{namespace}-a", f"{POOL}={namespace}")
    kube.apply(team("web", namespace, member("pm"), member("dev", 1)))
    wait_ready(kube, "web", 2)

    assert one.process is not None
    one.process.send_signal(signal.SIGSTOP)
    try:
        wait_for(lambda: holder(kube) == "two", timeout=40, interval=0.5, message="two took over")
        patch = [{"op": "replace", "path": "/spec/members/1/replicas", "value": 2}]
        kube.run("patch", "agentteam", "web", "--type=json", "-p", json.dumps(patch))
        wait_ready(kube, "web", 3)
    finally:
        one.process.send_signal(signal.SIGCONT)
    wait_for(lambda: not one.running, timeout=20, message="the old leader exited")
    assert one.process.returncode == 1
    assert "exiting: could not renew Lease" in one.log()
    assert holder(kube) == "two"
    assert sorted(agents(kube, "web")) == ["web-dev-0", "web-dev-1", "web-pm-0"]


def _assert_each_agent_moved_once_canary_first(watched: str, canary_name: str, new: str) -> None:
    """From the watch: each agent went old → new exactly once, the canary's 8 s pause was held across the
    failover (no step skipped), and no agent moved twice (no step repeated)."""
    moves: dict[str, list[tuple[str, str]]] = {}
    for agent in _documents(watched):
        name, revision = agent["metadata"]["name"], agent["spec"]["revision"]
        stamp = (agent["metadata"].get("annotations") or {}).get(STAMP, "")
        seen = moves.setdefault(name, [])
        if not seen or seen[-1] != (revision, stamp):
            seen.append((revision, stamp))
    web = {name: seen for name, seen in moves.items() if name.startswith("web-")}
    assert sorted(web) == ["web-dev-0", "web-dev-1", "web-dev-2", "web-pm-0"]
    for name, seen in web.items():
        revisions = [revision for revision, _ in seen]
        assert revisions[-1] == new and revisions.count(new) == len(revisions) - revisions.index(new), name
        assert len({stamp for revision, stamp in seen if revision == new}) == 1, f"{name} moved twice"
    canary_moved = _moved_at(web[canary_name], new)
    others = [_moved_at(seen, new) for name, seen in web.items() if name != canary_name]
    assert all(moved - canary_moved >= 7 for moved in others), "the canary step's pause was skipped"


def _documents(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects `kubectl get --watch --output=json` printed one after another."""
    decoder, position = json.JSONDecoder(), 0
    while (position := _skip_space(text, position)) < len(text):
        document, position = decoder.raw_decode(text, position)
        yield document


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _moved_at(seen: list[tuple[str, str]], revision: str) -> float:
    """When the agent moved to `revision`, from its update stamp (seconds since the epoch)."""
    stamp = next(stamp for rev, stamp in seen if rev == revision)
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
