"""Issue 13, part 1: a hung or restarted API server (or etcd) never stops local supervision, and everything
works again once it is back. Real control plane (this module's own: its tests freeze and restart it), the
real operator and node agent processes, real tmux, the fake agent CLI."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.e2e import FAKE, System, agents, member, team, wait_team_ready
from support.faults import API_SERVER, ETCD, frozen, restart
from support.kube import Kubectl, install_crds, running_cluster, wait_for
from support.messages import LONG
from support.processes import tmux
from tmux_orchestrator.devcluster.cluster import LocalCluster

pytestmark = pytest.mark.timeout(300)

FREEZE_SECONDS = 30
BACKOFF = {"backoffSeconds": 2, "maxBackoffSeconds": 4, "maxRestarts": 5, "windowSeconds": 300}


@pytest.fixture(scope="module")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A control plane of this module's own: its tests freeze and restart it."""
    with running_cluster(tmp_path_factory.mktemp("faulty-control-plane")) as cluster:
        yield cluster


@pytest.fixture
def operator_args() -> tuple[str, ...]:
    """Resync every second, so a resync always falls while the API server is down or frozen (it must fail
    and be retried, never end the operator; at the default 300 s the tests would end before the first)."""
    return ("--resync-seconds", "1")


@pytest.fixture(scope="module")
def kubectl(control_plane: LocalCluster) -> Kubectl:
    return Kubectl(control_plane.kubeconfig)


@pytest.fixture(scope="module")
def crds(kubectl: Kubectl) -> list[str]:
    return install_crds(kubectl)


@dataclass(frozen=True)
class Pane:
    pid: int
    dead: bool


def pane_of(socket: str, agent_uid: str) -> Pane | None:
    """The agent's pane as tmux reports it (not the API server)."""
    out = tmux(socket, "list-panes", "-a", "-F", "#{@orchestrator-agent-uid} #{pane_pid} #{pane_dead}").stdout
    for line in out.splitlines():
        uid, pid, dead = line.rsplit(" ", 2)
        if uid == agent_uid:
            return Pane(int(pid), dead == "1")
    return None


def agent_status(kube: Kubectl, name: str) -> dict[str, Any]:
    """The Agent's status; empty while the Agent does not exist (yet)."""
    found = kube.run("get", "agent", name, "-o", "json", "--ignore-not-found", check=False).stdout
    return dict(json.loads(found).get("status") or {}) if found.strip() else {}


def message_status(kube: Kubectl, name: str) -> dict[str, Any]:
    return dict(kube.get("agentmessage", name).get("status") or {})


def send(kube: Kubectl, name: str, agent: str, text: str) -> None:
    message = {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentMessage",
        "metadata": {"name": name},
        "spec": {"agent": agent, "text": text},
    }
    kube.run("create", "-f", "-", stdin=json.dumps(message))


def test_an_agent_killed_while_the_api_server_is_frozen_is_restarted_and_reported_after_the_thaw(
    system: System, control_plane: LocalCluster
) -> None:
    kube = system.kube
    kube.apply(team("t", system.pool, [member("dev")], recovery=BACKOFF))
    wait_team_ready(kube, "t")
    before = agents(kube, "t")["t-dev-0"]
    uid, first_pid = before["metadata"]["uid"], before["status"]["pid"]
    socket = system.nodes[0].socket
    with frozen(control_plane, API_SERVER):
        frozen_at = time.monotonic()
        os.kill(first_pid, signal.SIGKILL)
        # Restarted by the node agent on its own: the first restart comes after backoffSeconds (2 s); the
        # bound leaves room for a loaded machine and is still far inside the 30 s freeze.
        restarted = wait_for(
            lambda: (p := pane_of(socket, uid)) is not None and p.pid != first_pid and not p.dead and p,
            timeout=12,
            message="the killed agent restarted in tmux while the API server is frozen",
        )
        # The scenario is a 30 s outage: the freeze is held that long (nothing to await here).
        time.sleep(max(0.0, FREEZE_SECONDS - (time.monotonic() - frozen_at)))
        assert pane_of(socket, uid) == restarted  # restarted once, still running
    status = wait_for(
        lambda: (s := agent_status(kube, "t-dev-0")).get("pid") == restarted.pid and s.get("ready") and s,
        timeout=10,
        message="the Agent's status tells the truth within 10 s of the thaw",
    )
    assert (status["phase"], status["restartCount"], status["lastExitCode"]) == ("Running", 1, 137)


@pytest.mark.parametrize("component", [API_SERVER, ETCD])
def test_after_a_restart_of_the_control_plane_a_scale_up_and_a_message_still_work(
    system: System, control_plane: LocalCluster, component: str
) -> None:
    kube = system.kube
    manifest = team("t", system.pool, [member("dev")])
    kube.apply(manifest)
    wait_team_ready(kube, "t")
    restart(control_plane, component)
    manifest["spec"]["members"][0]["replicas"] = 2
    kube.apply(manifest)
    added = wait_for(
        lambda: (s := agent_status(kube, "t-dev-1")).get("phase") == "Running" and s.get("ready") and s,
        timeout=90,
        message="the member scaled up after the restart Running (the operator's and node agent's watches "
        "recovered)",
    )
    assert pane_of(system.nodes[0].socket, kube.get("agent", "t-dev-1")["metadata"]["uid"]) == Pane(
        added["pid"], False
    )
    send(kube, "hello", "t-dev-1", "hello after the restart")
    delivered = wait_for(
        lambda: (s := message_status(kube, "hello")).get("phase") in ("Delivered", "Failed") and s,
        timeout=60,
        message="the message sent after the restart settled",
    )
    assert (delivered["phase"], delivered["attempts"]) == ("Delivered", 1), delivered


def typing_marks(socket: str, pane_id: str) -> str:
    result = tmux(socket, "show-options", "-p", "-v", "-t", pane_id, "@orchestrator-typing")
    return result.stdout.strip()


def pane_text(socket: str, pane_id: str) -> str:
    """The pane's screen and history, wrapped lines joined."""
    return tmux(socket, "capture-pane", "-p", "-J", "-S", "-", "-t", pane_id).stdout


def test_a_node_agent_killed_while_typing_never_types_the_message_twice(
    system: System, tmp_path: Path
) -> None:
    kube = system.kube
    log = tmp_path / "received.jsonl"
    kube.apply(team("t", system.pool, [member("dev", command=[*FAKE, "--log", str(log)])]))
    wait_team_ready(kube, "t")
    pane_id = agent_status(kube, "t-dev-0")["paneId"]
    node = system.nodes[0]
    send(kube, "long", "t-dev-0", LONG)
    deadline = time.monotonic() + 60
    while not typing_marks(node.socket, pane_id):  # polled as fast as tmux answers: typing takes ~1 s
        if time.monotonic() > deadline:
            pytest.fail("the node agent never started typing the message")
    node.process.kill(signal.SIGKILL)  # mid-typing: pasted (or about to be), not yet confirmed
    node.process.start()
    settled = wait_for(
        lambda: (s := message_status(kube, "long")).get("phase") in ("Delivered", "Failed") and s,
        timeout=60,
        message="the interrupted message settled",
    )
    assert settled["phase"] == "Failed", settled
    assert "node agent restart" in settled["reason"]
    received = [json.loads(line)["text"] for line in log.read_text().splitlines()] if log.exists() else []
    assert received.count(LONG) <= 1 and len(received) <= 1
    assert pane_text(node.socket, pane_id).count("[000] lorem") <= 1  # in the input or the transcript, once


def test_frozen_etcd_does_not_stop_local_restarts_either(system: System, control_plane: LocalCluster) -> None:
    """etcd hung instead of the API server: the API server answers slowly or with errors, never hangs us."""
    kube = system.kube
    kube.apply(team("t", system.pool, [member("dev")], recovery=BACKOFF))
    wait_team_ready(kube, "t")
    before = agents(kube, "t")["t-dev-0"]
    uid, first_pid = before["metadata"]["uid"], before["status"]["pid"]
    with frozen(control_plane, ETCD):
        os.kill(first_pid, signal.SIGKILL)
        restarted = wait_for(
            lambda: (
                (p := pane_of(system.nodes[0].socket, uid)) is not None
                and p.pid != first_pid
                and not p.dead
                and p
            ),
            timeout=12,
            message="the killed agent restarted in tmux while etcd is frozen",
        )
    status = wait_for(
        lambda: (s := agent_status(kube, "t-dev-0")).get("pid") == restarted.pid and s.get("ready") and s,
        timeout=30,
        message="the Agent's status tells the truth after etcd is back",
    )
    assert status["restartCount"] == 1
