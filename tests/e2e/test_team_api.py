"""Issue 11, end to end: agents message, see and schedule each other from inside their panes.

Real control plane, real operator, real node agent, real tmux; in the panes the fake agent, whose `run` step
runs a command in its pane as an agent's tool would. Each agent logs what it received and what its commands
printed to a file named after its TMUX_ORCHESTRATOR_AGENT, so each receiver is checked on its own.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from support.e2e import FAKE, System, agents, demo_team, say, team, wait_team_ready
from support.kube import Kubectl, wait_for
from support.processes import BIN, project_env


def fake(log_dir: Path, *steps: str) -> list[str]:
    """The fake agent with a script; its log file is named by the pane's identity environment."""
    script = ";".join(steps)
    line = f'exec {" ".join(FAKE)} --log "{log_dir}/$TMUX_ORCHESTRATOR_AGENT.log" --step {_quote(script)}'
    return ["sh", "-c", line]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def member(name: str, command: list[str], role: str = "developer", replicas: int = 1) -> dict[str, Any]:
    return {"name": name, "role": role, "replicas": replicas, "command": command, "profile": "claude-code"}


def log(log_dir: Path, agent: str) -> list[dict[str, Any]]:
    path = log_dir / f"{agent}.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def received(log_dir: Path, agent: str) -> list[str]:
    return [entry["text"] for entry in log(log_dir, agent) if "text" in entry]


def runs(log_dir: Path, agent: str) -> list[dict[str, Any]]:
    return [entry for entry in log(log_dir, agent) if "run" in entry]


def messages(kube: Kubectl) -> list[dict[str, Any]]:
    return kube.get_all("agentmessages")


def pane_environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_pm_hands_out_tasks_and_developers_report_back(system: System, tmp_path: Path) -> None:
    kube = system.kube
    logs = tmp_path / "agents"
    logs.mkdir()
    pm = fake(
        logs,
        "idle",  # until a person says go
        'run tmux-orchestrator team send dev-0 "task: build the login page"',
        "run tmux-orchestrator team send @developer standup at ten",
        "run TMUX_ORCHESTRATOR_AGENT=web-dev-1 tmux-orchestrator team send dev-1 spoofed",
        "run tmux-orchestrator team send ops-dev-0 across teams",
        "run tmux-orchestrator team send nobody hello",
        "idle",
    )
    dev = fake(
        logs,
        "idle",  # the first message
        'run tmux-orchestrator team report done "login page built"',
        "run tmux-orchestrator team reply thanks",
        "idle",
    )
    kube.apply(team("web", system.pool, [member("pm", pm, role="pm"), member("dev", dev, replicas=2)]))
    kube.apply(team("ops", system.pool, [member("dev", fake(logs, "idle"))]))
    wait_team_ready(kube, "web")
    wait_team_ready(kube, "ops")

    found = agents(kube, "web")
    environment = pane_environment(found["web-dev-1"]["status"]["pid"])
    assert {
        k: v
        for k, v in environment.items()
        if k.startswith("TMUX_ORCHESTRATOR_") and k != "TMUX_ORCHESTRATOR_SOCKET"
    } == {
        "TMUX_ORCHESTRATOR_AGENT": "web-dev-1",
        "TMUX_ORCHESTRATOR_TEAM": "web",
        "TMUX_ORCHESTRATOR_MEMBER": "dev",
        "TMUX_ORCHESTRATOR_ROLE": "developer",
        "TMUX_ORCHESTRATOR_NAMESPACE": system.namespace,
    }
    assert environment["KUBECONFIG"] == ""  # agents get no Kubernetes credentials from the node agent
    api_socket = environment["TMUX_ORCHESTRATOR_SOCKET"]
    assert Path(api_socket).is_socket()

    say(kube, "web-pm-0", "go")
    wait_for(lambda: len(runs(logs, "web-pm-0")) == 5, timeout=60, message="the PM ran its five commands")
    pm_runs = {entry["run"].split(" team send ")[1].split()[0]: entry for entry in runs(logs, "web-pm-0")}
    # Sending to another team's agent or to nobody fails with the team's roster; nothing is created.
    for target in ("ops-dev-0", "nobody"):
        assert pm_runs[target]["status"] == "exit 1", pm_runs[target]
        error = "\n".join(pm_runs[target]["output"])
        assert f"no agent, member or role {target!r} in this team" in error
        assert "Agents: dev-0, dev-1, pm-0. Members: dev, pm. Roles: @developer, @pm." in error
    assert not [m for m in messages(kube) if m["spec"].get("agent", "").startswith("ops-")]

    task = "[from pm-0] task: build the login page"
    standup = "[from pm-0] standup at ten"
    wait_for(lambda: received(logs, "web-dev-0")[:2] == [task, standup], timeout=60, message="dev-0 got both")
    # The spoofed name changed nothing: the node agent knows the PM by its process, not its environment.
    wait_for(
        lambda: received(logs, "web-dev-1")[:2] == [standup, "[from pm-0] spoofed"],
        timeout=60,
        message="dev-1 got the standup, then the spoofed message as from the PM",
    )
    sent = {(m["spec"]["agent"], m["spec"]["text"]): m for m in messages(kube) if m["spec"].get("from")}
    assert {key: m["spec"]["from"] for key, m in sent.items() if m["spec"]["from"] == "web-pm-0"} == {
        ("web-dev-0", "task: build the login page"): "web-pm-0",
        ("web-dev-0", "standup at ten"): "web-pm-0",
        ("web-dev-1", "standup at ten"): "web-pm-0",
        ("web-dev-1", "spoofed"): "web-pm-0",
    }
    table = kube.run(
        "get", "amsg", "--field-selector", "spec.from=web-pm-0", "--no-headers"
    ).stdout.splitlines()
    assert len(table) == 4 and all(row.split()[2] == "web-pm-0" for row in table), table

    # Each developer reports done on its first message and replies: the PM hears both, from each.
    def pm_heard() -> set[str]:
        return set(received(logs, "web-pm-0"))

    expected = {
        "go",
        "[from dev-0] report done: login page built",
        "[from dev-0] thanks",
        "[from dev-1] report done: login page built",
        "[from dev-1] thanks",
    }
    wait_for(lambda: pm_heard() == expected, timeout=60, message="the PM heard each report and reply")
    assert len(received(logs, "web-pm-0")) == len(expected)  # each exactly once
    report = agents(kube, "web")["web-dev-0"]["status"]["report"]
    assert (report["state"], report["note"]) == ("done", "login page built")
    table = kube.run("get", "agents", "-l", "orchestrator.tmux.dev/team=web").stdout.splitlines()
    column = table[0].index("REPORT")
    reports = {row.split()[0]: row[column:].split(" ", 1)[0] for row in table[1:]}
    assert reports == {"web-dev-0": "done", "web-dev-1": "done", "web-pm-0": ""}

    # A process outside every agent pane is refused, whatever its environment says.
    outside = subprocess.run(
        [str(BIN / "tmux-orchestrator"), "team", "send", "dev-0", "hello"],
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **environment},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert outside.returncode == 1
    assert "refused: process" in outside.stderr and "is not inside an agent pane" in outside.stderr
    assert not [m for m in messages(kube) if m["spec"]["text"] == "hello"]


def test_a_second_node_agent_with_the_same_node_name_does_not_take_the_local_api(
    system: System, tmp_path: Path
) -> None:
    kube = system.kube
    logs = tmp_path / "agents"
    logs.mkdir()
    pm = fake(logs, "idle", "run tmux-orchestrator team send dev-0 still here", "idle")
    kube.apply(team("dup", system.pool, [member("pm", pm, role="pm"), member("dev", fake(logs, "idle"))]))
    wait_team_ready(kube, "dup")
    api_socket = pane_environment(agents(kube, "dup")["dup-pm-0"]["status"]["pid"])[
        "TMUX_ORCHESTRATOR_SOCKET"
    ]
    node = system.nodes[0].name
    second = subprocess.run(
        [str(BIN / "tmux-orchestrator"), "sidecar", "--node", node, "--tmux-socket", f"{node}-second"],
        env=project_env(kube.kubeconfig),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 1
    assert f"sidecar: the local API socket {api_socket} is served by another live process" in second.stderr
    say(kube, "dup-pm-0", "go")  # the first node agent still answers its agents
    wait_for(
        lambda: received(logs, "dup-dev-0") == ["[from pm-0] still here"], timeout=60, message="dev-0 got it"
    )


def test_status_and_inbox_show_the_team_from_inside_a_pane(system: System, tmp_path: Path) -> None:
    kube = system.kube
    logs = tmp_path / "agents"
    logs.mkdir()
    pm = fake(
        logs,
        "idle",
        "run tmux-orchestrator team report blocked waiting for review",
        "run tmux-orchestrator team status",
        "run tmux-orchestrator team inbox",
        "run tmux-orchestrator team reply nobody wrote to me",
        "idle",
    )
    kube.apply(team("solo", system.pool, [member("pm", pm, role="pm"), member("dev", fake(logs, "idle"))]))
    wait_team_ready(kube, "solo")
    say(kube, "solo-pm-0", "go")
    wait_for(lambda: len(runs(logs, "solo-pm-0")) == 4, timeout=60, message="the PM ran its commands")
    report, status, inbox, reply = runs(logs, "solo-pm-0")
    assert report["status"] == "exit 0" and report["output"] == ["reported blocked"]  # the PM tells no one
    header, *rows = status["output"][1:]
    assert header.split()[:6] == ["AGENT", "ROLE", "PHASE", "ACTIVITY", "SINCE", "REPORT"]
    by_agent = {row.split()[0]: row for row in rows}
    assert set(by_agent) == {"dev-0", "pm-0"}
    assert "(you)" in by_agent["pm-0"] and "blocked: waiting for review" in by_agent["pm-0"]
    assert "(a person): go [Delivered]" in by_agent["pm-0"]
    assert (
        inbox["status"] == "exit 0"
        and "go" in inbox["output"][-1].split()
        and "Delivered" in inbox["output"][-1]
    )
    assert reply["status"] == "exit 1" and "no message from a teammate to reply to" in reply["output"][-1]


def test_checkin_arrives_when_due_across_node_agent_and_operator_restarts(
    system: System, tmp_path: Path
) -> None:
    kube = system.kube
    logs = tmp_path / "agents"
    logs.mkdir()
    dev = fake(logs, "idle", "run tmux-orchestrator team checkin --in 5s look at CI", "idle")
    kube.apply(team("ci", system.pool, [member("dev", dev)]))
    wait_team_ready(kube, "ci")
    say(kube, "ci-dev-0", "go")
    (checkin,) = wait_for(
        lambda: [m for m in messages(kube) if m["spec"].get("deliverAfter")] or None,
        timeout=60,
        message="the check-in AgentMessage",
    )
    # Everything restarts in between: the check-in lives in the message's spec, not in a process.
    node = system.nodes[0]
    node.process.kill(signal.SIGKILL)
    system.operator.kill(signal.SIGKILL)
    system.operator.start()
    node.process.start()
    due = datetime.datetime.fromisoformat(checkin["spec"]["deliverAfter"].replace("Z", "+00:00"))
    created = datetime.datetime.fromisoformat(checkin["metadata"]["creationTimestamp"].replace("Z", "+00:00"))
    assert 4 <= (due - created).total_seconds() <= 6
    assert checkin["spec"]["from"] == "ci-dev-0" and checkin["spec"]["agent"] == "ci-dev-0"
    wait_for(
        lambda: "[check-in from dev-0] look at CI" in received(logs, "ci-dev-0"),
        timeout=60,
        message="the check-in arrived",
    )
    (entry,) = [e for e in log(logs, "ci-dev-0") if e.get("text") == "[check-in from dev-0] look at CI"]
    assert entry["time"] >= due.timestamp()
    delivered = kube.get("agentmessage", checkin["metadata"]["name"])["status"]
    assert delivered["phase"] == "Delivered"


def test_a_checkin_is_delivered_after_its_sender_moved_to_another_node(
    system: System, tmp_path: Path
) -> None:
    """The sender is checked when its message is new, on the node that created it; the verdict holds after
    the whole team (sender and receiver) moved to another node before the check-in fell due."""
    kube = system.kube
    logs = tmp_path / "agents"
    logs.mkdir()
    first, second = system.nodes[0], system.start_node()
    pm = fake(logs, "idle", "run tmux-orchestrator team checkin --in 25s --to dev-0 look at CI", "idle")
    on_first = {"orchestrator.tmux.dev/pool": system.pool, "orchestrator.tmux.dev/node": first.name}
    manifest = team("mv", system.pool, [member("pm", pm, role="pm"), member("dev", fake(logs, "idle"))])
    manifest["spec"]["placement"] = {"nodeSelector": on_first}
    kube.apply(manifest)
    wait_team_ready(kube, "mv")
    say(kube, "mv-pm-0", "go")
    (checkin,) = wait_for(
        lambda: [m for m in messages(kube) if (m.get("status") or {}).get("senderVerifiedAt")] or None,
        timeout=60,
        message="the check-in, its sender verified by the node agent that delivers it",
    )
    assert (checkin["spec"]["from"], checkin["metadata"]["labels"]["orchestrator.tmux.dev/from-node"]) == (
        "mv-pm-0",
        first.name,
    )
    due = datetime.datetime.fromisoformat(checkin["spec"]["deliverAfter"].replace("Z", "+00:00"))

    manifest["spec"]["placement"] = {"nodeSelector": {**on_first, "orchestrator.tmux.dev/node": second.name}}
    kube.apply(manifest)
    wait_for(
        lambda: all(
            a["spec"]["nodeName"] == second.name and (a.get("status") or {}).get("phase") == "Running"
            for a in agents(kube, "mv").values()
        ),
        timeout=60,
        message="the team runs on the second node",
    )
    moved = datetime.datetime.now(datetime.UTC)
    assert moved < due, "the team must have moved before the check-in fell due for this test to mean anything"
    # (The PM on the second node gets a recovery briefing and so runs its script, and a check-in, again:
    # this one is about the first check-in only.)
    status = wait_for(
        lambda: (
            (
                (s := kube.get("amsg", checkin["metadata"]["name"]).get("status") or {}).get("phase")
                in ("Delivered", "Failed")
            )
            and s
        ),
        timeout=60,
        message="the first check-in delivered (or failed) on the second node",
    )
    assert status["phase"] == "Delivered", status
    assert "[check-in from pm-0] look at CI" in received(logs, "mv-dev-0")
    delivered = datetime.datetime.fromisoformat(status["deliveredAt"].replace("Z", "+00:00"))
    assert delivered >= due


def test_monitoring_check_ins_arrive_on_schedule(system: System, tmp_path: Path) -> None:
    kube = system.kube
    logs = tmp_path / "agents"
    logs.mkdir()
    check_in = {"everySeconds": 10, "to": "@developer", "text": "status, please"}
    members = [member("pm", fake(logs, "idle"), role="pm"), member("dev", fake(logs, "idle"))]
    kube.apply(team("sched", system.pool, members, monitoring={"checkIn": check_in}))
    wait_team_ready(kube, "sched")
    text = "[tmux-orchestrator check-in] status, please"

    def arrivals() -> list[float]:
        return [e["time"] for e in log(logs, "sched-dev-0") if e.get("text") == text]

    times = wait_for(lambda: (t := arrivals()) and len(t) >= 2 and t, timeout=60, message="two check-ins")
    assert 8 <= times[1] - times[0] <= 12
    assert all(t % 10 < 3 for t in times[:2]), times  # due at multiples of 10 s, delivered within the pass
    sent = [m for m in messages(kube) if m["spec"]["text"] == text]
    assert {m["spec"]["agent"] for m in sent} == {"sched-dev-0"}  # the PM is not a developer
    assert not received(logs, "sched-pm-0")


def test_mcp_tools_are_listed_and_called_from_inside_a_pane(system: System, tmp_path: Path) -> None:
    kube = system.kube
    logs = tmp_path / "agents"
    logs.mkdir()
    calls = [
        ["send_message", {"target": "dev-0", "text": "please review PR 7"}],
        ["send_message", {"target": "ops-dev-0", "text": "not my team"}],
        ["report_status", {"state": "working", "note": "reviewing"}],
        ["schedule_checkin", {"delay": "1h", "text": "later"}],
        ["team_status", {}],
        ["read_inbox", {}],
    ]
    (tmp_path / "calls.json").write_text(json.dumps(calls))
    probe = Path(__file__).resolve().parents[1] / "support" / "mcp_probe.py"
    out = tmp_path / "mcp.json"
    command = f"run {sys.executable} {probe} {tmp_path / 'calls.json'} {out}"
    pm = fake(logs, "idle", command, "idle")
    kube.apply(team("tools", system.pool, [member("pm", pm, role="pm"), member("dev", fake(logs, "idle"))]))
    wait_team_ready(kube, "tools")
    say(kube, "tools-pm-0", "go")
    wait_for(lambda: runs(logs, "tools-pm-0"), timeout=60, message="the MCP probe ran")
    (probe_run,) = runs(logs, "tools-pm-0")
    assert probe_run["status"] == "exit 0", probe_run
    seen = json.loads(out.read_text())
    assert seen["tools"] == sorted(
        ["send_message", "reply", "team_status", "report_status", "schedule_checkin", "read_inbox"]
    )
    send, wrong, report, checkin, status, inbox = seen["calls"]
    assert not send["isError"] and send["text"].startswith("sent to dev-0: agentmessage/tools-dev-0-")
    assert wrong["isError"] and "no agent, member or role 'ops-dev-0' in this team" in wrong["text"]
    assert (report["isError"], report["text"]) == (False, "reported working")
    assert (
        not checkin["isError"] and "sent to pm-0" in checkin["text"] and "delivered after" in checkin["text"]
    )
    assert "pm-0 (you)" in status["text"] and "working: reviewing" in status["text"]
    assert "→ dev-0" in inbox["text"] and "please review PR 7" in inbox["text"]
    wait_for(
        lambda: received(logs, "tools-dev-0") == ["[from pm-0] please review PR 7"],
        timeout=60,
        message="dev-0 got the message sent through MCP",
    )


def logging_to(log_dir: Path, command: list[str]) -> list[str]:
    """`command` (a fake agent) with --log into a file named by the pane's TMUX_ORCHESTRATOR_AGENT."""
    return ["sh", "-c", f'exec "$@" --log "{log_dir}/$TMUX_ORCHESTRATOR_AGENT.log"', "sh", *command]


def test_the_demo_team_talks_pm_hands_out_tasks_and_hears_the_reports(system: System, tmp_path: Path) -> None:
    """examples/demo-team.yaml as `make demo` applies it: nobody says a word after the apply."""
    kube = system.kube
    logs = tmp_path / "agents"
    logs.mkdir()
    manifest = demo_team(system.pool)
    for item in manifest["spec"]["members"]:
        item["command"] = logging_to(logs, item["command"])
    kube.apply(manifest)
    tasks = {
        "demo-dev-0": "task: the todo API (GET and POST /todos) with tests",
        "demo-dev-1": "task: the todo list page, calling the API",
        "demo-qa-0": "task: an end-to-end test that adds a todo",
    }
    for agent, task in tasks.items():
        wait_for(
            lambda agent=agent, task=task: f"[from pm-0] {task}" in received(logs, agent),
            timeout=90,
            message=f"{agent} got its task from the PM",
        )
    reports = {
        f"[from {agent.removeprefix('demo-')}] report done: {task.removeprefix('task: ')}"
        for agent, task in tasks.items()
    }
    wait_for(
        lambda: reports <= set(received(logs, "demo-pm-0")), timeout=90, message="the PM heard each report"
    )
    briefings = {item["name"]: item.get("briefing") for item in manifest["spec"]["members"]}
    # Each message arrived once: the briefing (the agent's own, not answered), then the task; the PM heard
    # its briefing, then the three reports.
    assert received(logs, "demo-dev-0") == [briefings["dev"], f"[from pm-0] {tasks['demo-dev-0']}"]
    assert received(logs, "demo-qa-0") == [f"[from pm-0] {tasks['demo-qa-0']}"]
    pm_heard = received(logs, "demo-pm-0")
    assert pm_heard[0] == briefings["pm"] and sorted(pm_heard[1:]) == sorted(reports)

    # kubectl shows who said what to whom: AGENT, FROM and PHASE columns.
    table = kube.run("get", "amsg", "--no-headers").stdout.splitlines()
    rows = sorted(tuple(row.split()[1:4]) for row in table)
    assert rows == sorted(
        [(agent, "demo-pm-0", "Delivered") for agent in tasks]
        + [("demo-pm-0", agent, "Delivered") for agent in tasks]
    ), table
    wait_for(
        lambda: all(
            (a.get("status") or {}).get("report", {}).get("state") == "done"
            for name, a in agents(kube, "demo").items()
            if name != "demo-pm-0"
        ),
        message="the REPORT of each developer and QA is done",
    )
    status = agentteam(kube, "status", "demo")
    assert status.returncode == 0, status.stderr
    for agent, task in tasks.items():
        (row,) = [line for line in status.stdout.splitlines() if line.split()[:1] == [agent]]
        assert f"done: {task.removeprefix('task: ')}" in row, status.stdout

    # The PM looked at the team after each report (`team status` in its pane): the last look shows all done.
    def last_look() -> list[str] | None:
        looks = [e for e in runs(logs, "demo-pm-0") if e["run"] == "tmux-orchestrator team status"]
        return looks[-1]["output"] if len(looks) == 3 else None

    roster = wait_for(last_look, timeout=60, message="the PM's team status after the third report")
    for agent, task in tasks.items():
        (row,) = [line for line in roster if line.split()[:1] == [agent.removeprefix("demo-")]]
        assert f"done: {task.removeprefix('task: ')}" in row, roster
    sends = [e for e in runs(logs, "demo-pm-0") if " team send " in e["run"]]
    assert [e["status"] for e in sends] == ["exit 0"] * 3, sends


def agentteam(kube: Kubectl, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`kubectl agentteam ...` as a user runs it: kubectl finds the plugin on PATH."""
    return subprocess.run(
        ["kubectl", "agentteam", "-n", str(kube.namespace), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=project_env(kube.kubeconfig),
        timeout=30,
        check=False,
    )


def test_people_use_the_same_verbs_through_kubectl(system: System, tmp_path: Path) -> None:
    kube = system.kube
    logs = tmp_path / "agents"
    logs.mkdir()
    members = [member("pm", fake(logs, "idle"), role="pm"), member("dev", fake(logs, "idle"), replicas=2)]
    kube.apply(team("kc", system.pool, members))
    wait_team_ready(kube, "kc")

    unknown = agentteam(kube, "send", "kc", "qa", "hello")
    assert unknown.returncode == 1
    assert "no agent, member or role 'qa' in this team" in unknown.stderr
    assert "Members: dev, pm." in unknown.stderr
    assert not messages(kube)  # nothing was created

    sent = agentteam(kube, "send", "kc", "dev", "hello devs")
    assert sent.returncode == 0, sent.stderr
    assert len(sent.stdout.splitlines()) == 2
    note = tmp_path / "note.txt"
    note.write_text("line one\nline two")
    assert agentteam(kube, "send", "kc", "dev-1", "-f", str(note)).returncode == 0
    assert agentteam(kube, "send", "kc", "@pm", "-", stdin="from stdin").returncode == 0
    checkin = agentteam(kube, "checkin", "kc", "--in", "3s", "--to", "dev-0", "check the build")
    assert checkin.returncode == 0 and "delivered after" in checkin.stdout, checkin.stderr

    wait_for(
        lambda: received(logs, "kc-dev-0") == ["hello devs", "check the build"],
        timeout=60,
        message="dev-0: the message, then the check-in",
    )
    wait_for(lambda: received(logs, "kc-dev-1") == ["hello devs", "line one\nline two"], timeout=60)
    wait_for(lambda: received(logs, "kc-pm-0") == ["from stdin"], timeout=60)
    (scheduled,) = [m for m in messages(kube) if m["spec"].get("deliverAfter")]
    due = datetime.datetime.fromisoformat(scheduled["spec"]["deliverAfter"].replace("Z", "+00:00"))
    delivered = datetime.datetime.fromisoformat(
        kube.get("amsg", scheduled["metadata"]["name"])["status"]["deliveredAt"].replace("Z", "+00:00")
    )
    assert delivered >= due
    assert all(not m["spec"].get("from") for m in messages(kube))  # people's messages name no agent

    screen = agentteam(kube, "screen", "kc", "dev-0")
    assert screen.returncode == 0, screen.stderr
    assert "> received: hello devs" in screen.stdout
    assert "> received: check the build" in screen.stdout
    missing = agentteam(kube, "screen", "kc", "dev-7")
    assert missing.returncode == 1 and "agent 'kc-dev-7' not found in team 'kc'" in missing.stderr
    status = agentteam(kube, "status", "kc")
    assert status.returncode == 0 and "REPORT" in status.stdout
