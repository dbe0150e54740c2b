"""The node agent as a user sees it: Agents become tmux windows, and their status tells the truth.

Real control plane, real `tmux-orchestrator sidecar` process, real tmux on a private socket, and the project's
fake agent CLI in the panes.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import yaml

from support.kube import Kubectl, wait_for
from support.manifests import FAKE, agent_manifest
from support.processes import BIN, ProjectProcess, tmux

RECOVERY = {"backoffSeconds": 1, "maxBackoffSeconds": 4, "maxRestarts": 5, "windowSeconds": 120}


def agent(name: str, node: str, command: list[str] | None = None, **spec: Any) -> dict[str, Any]:
    return agent_manifest(name, node, command, **{"recovery": RECOVERY, **spec})


def status(kube: Kubectl, name: str) -> dict[str, Any]:
    return dict(kube.get("agent", name).get("status") or {})


def running(kube: Kubectl, name: str, timeout: float = 30) -> dict[str, Any]:
    return dict(
        wait_for(
            lambda: (s := status(kube, name)).get("phase") == "Running" and s.get("ready") and s,
            timeout=timeout,
            message=f"{name} Running",
        )
    )


def running_again(kube: Kubectl, name: str, old_pid: int, message: str) -> dict[str, Any]:
    """The agent Running again in a new process (not the one with `old_pid`)."""
    return dict(
        wait_for(
            lambda: (s := status(kube, name)).get("phase") == "Running" and s.get("pid") != old_pid and s,
            timeout=30,
            message=message,
        )
    )


def windows(socket: str) -> list[str]:
    out = tmux(socket, "list-windows", "-a", "-F", "#{session_name}:#{window_name} #{pane_pid}").stdout
    return sorted(line for line in out.splitlines() if not line.startswith("tmux-orchestrator:"))


def test_agent_runs_in_a_window_with_pane_and_pid(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str
) -> None:
    kube.apply(agent("a1", node_name))
    current = running(kube, "a1")
    assert current["paneId"].startswith("%")
    assert current["pid"] > 0 and os.path.exists(f"/proc/{current['pid']}")
    assert current["node"] == node_name and current["revision"] == "r1"
    assert current["activity"] == "Idle"
    assert windows(tmux_socket) == [f"team:a1 {current['pid']}"]

    # Registration runs beside supervision (tmux never waits for the API server): the TmuxNode follows.
    def node_ready() -> bool:
        found = kube.run("get", "tmuxnode", node_name, "-o", "json", check=False)
        if found.returncode != 0:
            return False
        status = json.loads(found.stdout).get("status") or {}
        ready = {c["type"]: c["status"] for c in status.get("conditions") or []}
        return ready.get("Ready") == "True" and status.get("agents") == 1

    wait_for(node_ready, message=f"TmuxNode {node_name} Ready with 1 agent")
    leases = kube.in_namespace("kube-node-lease")
    wait_for(
        lambda: leases.run("get", "lease", f"tmuxnode-{node_name}", check=False).returncode == 0,
        message="the node's Lease",
    )
    assert leases.get("lease", f"tmuxnode-{node_name}")["spec"]["holderIdentity"] == node_name


def test_an_agent_slow_to_start_is_shown_starting_with_its_pane_and_pid(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str
) -> None:
    # The node agent holds a Starting status a moment for the Running that usually follows within a second
    # (one write instead of two); a CLI that is not ready by then must still be shown Starting, and stays so.
    kube.apply(agent("slow", node_name, ["sleep", "600"]))
    starting = wait_for(
        lambda: (s := status(kube, "slow")).get("phase") == "Starting" and s.get("pid") and s,
        timeout=30,
        message="slow Starting with its pid",
    )
    assert starting["ready"] is False and starting["paneId"].startswith("%")
    assert windows(tmux_socket) == [f"team:slow {starting['pid']}"]


def test_a_crowd_of_starting_agents_is_written_once_running_and_shown_starting_when_it_thins(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str
) -> None:
    # Twelve agents whose CLI never comes up, on one node: more than ten Starting at once is a crowd, whose
    # Starting statuses wait (up to 30 s) for the Running that a fleet start brings soon after, so the API
    # server gets one write per agent. Once the crowd thins to ten, the rest are shown Starting at once.
    names = [f"crowd{i:02d}" for i in range(12)]
    kube.apply("---\n".join(yaml.safe_dump(agent(name, node_name, ["sleep", "600"])) for name in names))
    wait_for(lambda: len(windows(tmux_socket)) == len(names), message="twelve windows")

    def phases() -> dict[str, str | None]:
        found = json.loads(kube.run("get", "agents", "-o", "json").stdout)["items"]
        return {a["metadata"]["name"]: (a.get("status") or {}).get("phase") for a in found}

    def node_counts(count: int) -> bool:
        found = kube.run("get", "tmuxnode", node_name, "-o", "json", check=False)  # registered yet?
        return found.returncode == 0 and json.loads(found.stdout).get("status", {}).get("agents") == count

    # The node's agent count is written a second after the pass that queued the Starting statuses: without
    # the crowd's hold they would be written by then too.
    wait_for(lambda: node_counts(len(names)), message="the TmuxNode counting twelve agents")
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        assert "Starting" not in phases().values(), phases()
        time.sleep(0.2)

    kube.run("delete", "agent", names[0], names[1], "--wait=true")
    rest = names[2:]
    wait_for(
        lambda: all(phases().get(name) == "Starting" for name in rest),
        timeout=15,  # well inside the crowd's 30 s: the thinning, not the limit, lets them through
        message="the ten left shown Starting",
    )


def test_many_agents_at_once_come_up_each_in_one_window(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str
) -> None:
    # Three teams (tmux sessions) of eight agents, in one apply: the node agent creates their windows
    # together (one pipelined batch) and every agent must come up exactly once, in its own team's session.
    names = {f"t{team}-a{i}": f"team{team}" for team in range(3) for i in range(8)}
    manifests = [agent(name, node_name, team=team, session=team) for name, team in names.items()]
    kube.apply("---\n".join(yaml.safe_dump(m) for m in manifests))
    pids = {name: running(kube, name, timeout=90)["pid"] for name in names}
    assert len(set(pids.values())) == len(names)
    assert windows(tmux_socket) == sorted(f"{names[n]}:{n} {pid}" for n, pid in pids.items())
    tags = tmux(tmux_socket, "list-windows", "-a", "-F", "#{window_name} #{@orchestrator-agent-uid}").stdout
    uids = {name: kube.get("agent", name)["metadata"]["uid"] for name in names}
    assert sorted(line for line in tags.splitlines() if line.startswith("t")) == sorted(
        f"{name} {uid}" for name, uid in uids.items()
    )


def test_killed_process_is_crashed_then_restarted(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str
) -> None:
    kube.apply(agent("a1", node_name))
    first = running(kube, "a1")
    os.kill(first["pid"], signal.SIGKILL)
    crashed = wait_for(lambda: (s := status(kube, "a1")).get("phase") == "Crashed" and s, message="Crashed")
    assert crashed["lastExitCode"] == 137
    assert crashed["lastCrashReason"] == "Signaled"
    assert crashed["lastCrashMessage"].startswith("killed by signal 9 (SIGKILL)")
    assert crashed["ready"] is False and "pid" not in crashed
    again = running_again(kube, "a1", first["pid"], "restarted")
    assert again["restartCount"] == first.get("restartCount", 0) + 1
    assert again["paneId"] == first["paneId"]  # the same window, a new process


def test_a_command_that_exits_at_once_backs_off_and_fails(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str
) -> None:
    # (A program that dies within microseconds can lose its last output inside tmux itself; this one
    # lives long enough for tmux to read it.)
    manifest = agent(
        "bad", node_name, ["sh", "-c", "echo cannot start: missing config >&2; sleep 0.3; exit 3"]
    )
    manifest["spec"]["recovery"] = {
        "backoffSeconds": 1,
        "maxBackoffSeconds": 2,
        "maxRestarts": 2,
        "windowSeconds": 60,
    }
    kube.apply(manifest)
    failed = wait_for(
        lambda: (s := status(kube, "bad")).get("phase") == "Failed" and s, timeout=30, message="Failed"
    )
    assert failed["lastExitCode"] == 3
    assert failed["lastCrashReason"] == "Exited"
    assert failed["lastCrashMessage"] == "exited with status 3: cannot start: missing config"
    assert failed["restartCount"] == 2  # maxRestarts, then the circuit breaker: no hot loop
    conditions = {c["type"]: c for c in failed["conditions"]}
    assert conditions["Ready"]["status"] == "False" and conditions["Ready"]["reason"] == "Failed"
    assert (conditions["Stalled"]["status"], conditions["Stalled"]["reason"]) == ("True", "TooManyRestarts")


def test_a_command_that_does_not_exist_says_so(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str
) -> None:
    kube.apply(agent("missing", node_name, ["no-such-agent-cli", "--flag"], restartPolicy="Never"))
    crashed = wait_for(
        lambda: (s := status(kube, "missing")).get("phase") == "Crashed" and s, message="Crashed"
    )
    assert crashed["lastExitCode"] == 1
    assert crashed["lastCrashReason"] == "CommandNotFound"
    assert crashed["lastCrashMessage"] == "command not found: no-such-agent-cli (exited with status 1)"
    assert crashed.get("restartCount", 0) == 0  # restartPolicy Never


def test_restarted_sidecar_adopts_windows_without_duplicates(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str
) -> None:
    for name in ("a1", "a2"):
        kube.apply(agent(name, node_name))
    before = {name: running(kube, name)["pid"] for name in ("a1", "a2")}
    listing = windows(tmux_socket)
    sidecar.kill(signal.SIGKILL)
    sidecar.start()
    kube.apply(agent("a3", node_name))  # work arriving while it was down is picked up too
    running(kube, "a3")
    assert {name: status(kube, name)["pid"] for name in ("a1", "a2")} == before  # no healthy agent killed
    after = windows(tmux_socket)
    assert [w for w in after if not w.startswith("team:a3 ")] == listing
    assert len(after) == 3


def test_killed_tmux_server_is_recreated(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str
) -> None:
    kube.apply(agent("a1", node_name))
    first = running(kube, "a1")
    tmux(tmux_socket, "kill-server")
    again = running_again(kube, "a1", first["pid"], "recreated after the tmux server died")
    assert windows(tmux_socket) == [f"team:a1 {again['pid']}"]


def test_deleted_and_stopped_agents_lose_their_windows(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str
) -> None:
    kube.apply(agent("a1", node_name))
    kube.apply(agent("a2", node_name))
    running(kube, "a1")
    running(kube, "a2")
    kube.run("delete", "agent", "a1")
    kube.apply(agent("a2", node_name, desiredState="Stopped"))
    wait_for(lambda: windows(tmux_socket) == [], message="windows closed")
    wait_for(lambda: status(kube, "a2").get("phase") == "Stopped", message="a2 Stopped")


def test_template_change_respawns_with_the_new_command(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str
) -> None:
    kube.apply(agent("a1", node_name))
    first = running(kube, "a1")
    kube.apply(agent("a1", node_name, [*FAKE, "--title", "Second Revision"], revision="r2"))
    wait_for(
        lambda: (s := status(kube, "a1")).get("revision") == "r2" and s.get("phase") == "Running",
        message="revision r2 running",
    )
    screen = tmux(tmux_socket, "capture-pane", "-p", "-t", first["paneId"]).stdout
    assert "Second Revision" in screen
    assert status(kube, "a1")["restartCount"] == first.get("restartCount", 0)  # not a crash


def test_briefing_is_typed_once_when_first_ready(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmp_path: Path
) -> None:
    log = tmp_path / "received.jsonl"
    kube.apply(agent("a1", node_name, [*FAKE, "--log", str(log)], template={"briefing": "You are dev 0."}))
    running(kube, "a1")
    wait_for(lambda: log.exists() and log.read_text().strip(), message="briefing received")
    wait_for(lambda: status(kube, "a1").get("briefedRevision") == "r1", message="briefedRevision")
    received = [json.loads(line)["text"] for line in log.read_text().splitlines()]
    assert received == ["You are dev 0."]


HOSTILE = [
    "plain words",
    "semi; colons; ls -la; echo $HOME `whoami` $(id)",
    "#{pane_id} #{session_name} #(date) ##",
    "quotes 'single' \"double\" \\backslash\\",
    "keys: Enter C-c Escape Tab",
    "unicode ✓ — ünïcödé 🙂",
]


def test_messages_arrive_as_exactly_the_text_sent(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmp_path: Path
) -> None:
    log = tmp_path / "received.jsonl"
    kube.apply(agent("a1", node_name, [*FAKE, "--log", str(log)]))
    running(kube, "a1")
    for index, text in enumerate(HOSTILE):
        kube.apply(
            {
                "apiVersion": "orchestrator.tmux.dev/v1alpha1",
                "kind": "AgentMessage",
                "metadata": {"name": f"m{index}", "labels": {"orchestrator.tmux.dev/node": node_name}},
                "spec": {"agent": "a1", "text": text, "deliver": "WhenIdle"},
            }
        )
        delivered = wait_for(
            lambda i=index: (
                (s := kube.get("agentmessage", f"m{i}").get("status") or {}).get("phase")
                in ("Delivered", "Failed")
                and s
            ),
            message=f"message {index} delivered",
        )
        assert delivered["phase"] == "Delivered", delivered
        assert delivered["agent"] == "a1" and delivered["attempts"] == 1 and delivered["deliveredAt"]
    received = [json.loads(line)["text"] for line in log.read_text().splitlines()]
    assert received == HOSTILE


def test_an_untagged_window_of_the_agent_is_adopted_not_duplicated(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str
) -> None:
    """What a node agent killed between creating a window and tagging it leaves behind is taken over."""
    kube.apply(agent("a0", node_name))  # the node agent is up and owns the tmux server
    running(kube, "a0")
    # As the node agent would have started it (a tmux client's own PATH may not reach the pane).
    program = str(BIN / "tmux-orchestrator")
    tmux(tmux_socket, "new-window", "-d", "-t", "=team", "-n", "a1", program, "fake-agent", check=True)
    orphan_pid = int(tmux(tmux_socket, "display", "-p", "-t", "=team:a1", "#{pane_pid}").stdout)
    kube.apply(agent("a1", node_name))
    adopted = running(kube, "a1")
    assert adopted["pid"] == orphan_pid
    assert sorted(w.split()[0] for w in windows(tmux_socket)) == ["team:a0", "team:a1"]


def test_node_agent_killed_then_tmux_killed_comes_back(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str
) -> None:
    """No process of a dead node agent may keep its tmux socket from serving the next one."""
    kube.apply(agent("a1", node_name))
    first = running(kube, "a1")
    sidecar.kill(signal.SIGKILL)
    tmux(tmux_socket, "kill-server")
    sidecar.start()
    running_again(kube, "a1", first["pid"], "a new agent process on a fresh tmux server")
    assert windows(tmux_socket) == [f"team:a1 {status(kube, 'a1')['pid']}"]


def test_sigterm_stops_the_node_agent_and_leaves_the_agents_running(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str
) -> None:
    kube.apply(agent("a1", node_name))
    first = running(kube, "a1")
    sidecar.kill(signal.SIGTERM)
    assert sidecar.process is not None and sidecar.process.returncode == 0
    assert os.path.exists(f"/proc/{first['pid']}")  # the agent outlives its node agent
    sidecar.start()
    # New work proves the restarted node agent has run full passes (a respawn of a1 would be in the first).
    kube.apply(agent("a2", node_name))
    running(kube, "a2")
    assert status(kube, "a1")["pid"] == first["pid"]  # adopted, not restarted
