"""Benchmark: many teams on many node agents against the local control plane.

Default: 100 teams x 10 agents (1 PM + 9 developers) = 1,000 fake agents over 10 node agents (10 tmux
servers on this machine), one operator. Measures

  * apply → Ready per team (p50, p95, max) and until every team is Ready,
  * operator CPU seconds and peak RSS over the whole run,
  * API writes per agent per minute in steady state, counted by the API server itself
    (`apiserver_request_total` for POST/PUT/PATCH/DELETE/APPLY from every client: operator, node agents,
    controller manager) over a quiet window after everything was Ready,
  * the floor, in the same run and before the orchestrated start: the same agents started straight into as
    many tmux servers with no operator and no node agent (benchmarks/tmux_floor.py), and
    orchestrated/floor, the cost of the orchestration,
  * CPU seconds of every part from apply to all Ready (operator, node agents, API server, tmux servers and
    the agents), which says where the time beyond the floor goes, and the seconds each part waited for a
    core (run-queue wait): how starved it was.

    .venv/bin/python benchmarks/operator_scale.py [--teams 100] [--agents-per-team 10] [--nodes 10]
        [--steady-seconds 60] [--no-floor] [--orchestration-cpu-shares 262144] [--orchestration-nice N]
        [--agent-nice N] [--agent-cpu-weight W] [--control-plane-cpu-weight W] [--operator-workers N]
        [--logs DIR] [--audit FILE] [--profile DIR [--api-server-profile SECONDS]]

With autogroup scheduling (Linux's default on many distributions) every tmux pane is a session of its own
and weighs as much as the whole API server: --orchestration-cpu-shares gives the control plane and node
agents the weight they would have on machines of their own. --agent-nice N is passed to every node agent
(default: the node agent's own, 10), which puts each agent's process and session at nice N;
--agent-cpu-weight W likewise (default 100, the node agent's own: all agents in one cpu cgroup weighing as
one session; 0: none). The floor's agents get the same. --control-plane-cpu-weight W is the local control
plane's (`dev up --cpu-weight`, default 1000; 0: none). The result names the teams whose Agents were created
last (a late retry looks different from every create arriving slowly) and the control plane's peak RSS.

Prints and writes JSON to benchmarks/results/operator_scale.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from harness import apply_all, cluster_with_crds, percentile, write_result
from tmux_floor import measure_floor

from support.processes import ProjectProcess, start_operator, start_sidecar, tmux
from tmux_orchestrator.api.constants import LABEL_TEAM
from tmux_orchestrator.cgroupfs import apply_cpu_group, enter_cpu_group, remove_cpu_group
from tmux_orchestrator.core.cpu_group import CONTROL_PLANE_WEIGHT, CpuGroup
from tmux_orchestrator.devcluster import cluster as devcluster
from tmux_orchestrator.devcluster.cluster import LocalCluster
from tmux_orchestrator.devcluster.pki import Pki
from tmux_orchestrator.kube import Resource, connect
from tmux_sidecar.tmux.control import CONTROL_SESSION

RUN = os.getpid()  # in node and tmux socket names: two runs at once on one machine must not share them
WRITE_VERBS = {"POST", "PUT", "PATCH", "DELETE", "APPLY", "CREATE", "UPDATE"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def team(index: int, agents: int) -> dict[str, Any]:
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentTeam",
        "metadata": {"name": f"team-{index:03d}", "namespace": "default"},
        "spec": {
            "placement": {"nodeSelector": {"orchestrator.tmux.dev/pool": "bench"}},
            "members": [
                {"name": "pm", "role": "pm", "replicas": 1, "command": ["tmux-orchestrator", "fake-agent"]},
                {"name": "dev", "replicas": agents - 1, "command": ["tmux-orchestrator", "fake-agent"]},
            ],
        },
    }


def api_requests(cluster: LocalCluster) -> dict[str, float]:
    """Requests the API server has served so far (all clients), by "VERB resource[/subresource]"."""
    with urllib.request.urlopen(
        f"{cluster.server}/metrics", context=_admin_tls(cluster), timeout=10
    ) as answer:
        text = answer.read().decode()
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("apiserver_request_total{"):
            labels, value = line.rsplit(" ", 1)
            pairs = labels[len("apiserver_request_total{") : -1].split(",")
            fields = {key: text.strip('"') for key, text in (pair.split("=", 1) for pair in pairs)}
            resource = fields.get("resource", "") + (
                f"/{fields['subresource']}" if fields.get("subresource") else ""
            )
            key = f"{fields.get('verb', '')} {resource}"
            counts[key] = counts.get(key, 0.0) + float(value)
    return counts


def _admin_tls(cluster: LocalCluster) -> ssl.SSLContext:
    pki = Pki(cluster.state_dir / "pki")
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.load_cert_chain(str(pki.cert("admin")), str(pki.key("admin")))
    return context


def api_writes(cluster: LocalCluster) -> float:
    """Total mutating requests the API server has served (all clients, all resources)."""
    return sum(n for key, n in api_requests(cluster).items() if key.split(" ", 1)[0] in WRITE_VERBS)


def requests_between(before: dict[str, float], after: dict[str, float]) -> dict[str, int]:
    """The requests of a period, busiest first (leases, watches and lists of no interest left out)."""
    delta = {key: int(after[key] - before.get(key, 0.0)) for key in after}
    return dict(sorted(((k, n) for k, n in delta.items() if n >= 10), key=lambda kv: -kv[1]))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its live descendants (a tmux server and its agents)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or _descends_from(int(entry.name), pid):
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            return False
        if pid == ancestor:
            return True
    return False


def tmux_server_pids(sockets: list[str]) -> list[int]:
    pids = []
    for socket in sockets:
        answer = tmux(socket, "display-message", "-p", "-t", CONTROL_SESSION, "#{pid}")
        if answer.returncode == 0 and answer.stdout.strip().isdigit():
            pids.append(int(answer.stdout.strip()))
    return pids


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def time_to_ready(
    kubeconfig: Path, names: list[str], applied_at: float, timeout: float
) -> dict[str, float]:
    """Seconds from the apply to each team's Ready."""
    ready_at: dict[str, float] = {}
    kube = await connect(str(kubeconfig))
    async with kube:

        async def watch() -> None:
            async for event in kube.watch(Resource.AGENT_TEAMS, "default"):
                for obj in event.affected:
                    conditions = {
                        c["type"]: c["status"] for c in (obj.get("status") or {}).get("conditions") or []
                    }
                    name = obj["metadata"]["name"]
                    if conditions.get("Ready") == "True" and name not in ready_at:
                        ready_at[name] = time.monotonic() - applied_at
                if len(ready_at) == len(names):
                    return

        await asyncio.wait_for(watch(), timeout)
    return ready_at


async def agent_timeline(
    kubeconfig: Path, applied_wall: float
) -> tuple[dict[str, list[float]], list[tuple[str, float, float]]]:
    """Where the time goes, per Agent, from the API's timestamps (whole seconds), read once all are Ready
    (no extra watch during the start): apply → created (the operator), created → process started (the
    node agent and tmux), started → Ready (the agent's CLI coming up, seen and reported)."""
    kube = await connect(str(kubeconfig))
    async with kube:
        agents, _ = await kube.list(Resource.AGENTS, "default")
    timeline: dict[str, list[float]] = {
        "apply_to_created": [],
        "created_to_process_started": [],
        "process_started_to_ready": [],
        "apply_to_ready": [],
    }
    by_team: dict[str, list[float]] = {}
    for agent in agents:
        status = agent.get("status") or {}
        ready = next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), {})
        created = _seconds(agent["metadata"].get("creationTimestamp"))
        started = _seconds(status.get("startedAt"))
        running = _seconds(ready.get("lastTransitionTime"))
        if created is None or started is None or running is None:
            continue
        timeline["apply_to_created"].append(created - applied_wall)
        team = agent["metadata"].get("labels", {}).get(LABEL_TEAM, "?")
        by_team.setdefault(team, []).append(created - applied_wall)
        timeline["created_to_process_started"].append(started - created)
        timeline["process_started_to_ready"].append(running - started)
        timeline["apply_to_ready"].append(running - applied_wall)
    # The teams whose Agents were created last, first and last creation of each: one team's pass that came
    # late (a retry) looks different from every team's creates arriving slowly.
    last = sorted(by_team.items(), key=lambda item: max(item[1]))[-10:]
    return timeline, [(team, round(min(times), 1), round(max(times), 1)) for team, times in last]


def _seconds(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def spread(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    return {
        "p10": round(percentile(seconds, 0.1), 1),
        "p50": round(percentile(seconds, 0.5), 1),
        "p90": round(percentile(seconds, 0.9), 1),
        "p95": round(percentile(seconds, 0.95), 1),
        "all": round(max(seconds), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--agents-per-team", type=int, default=10)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--steady-seconds", type=float, default=60.0)
    parser.add_argument(
        "--control-plane-cpu-weight",
        type=int,
        default=CONTROL_PLANE_WEIGHT,
        help="the local control plane's cpu cgroup weight (dev up --cpu-weight; 0: none)",
    )
    parser.add_argument(
        "--operator-workers", type=int, default=8, help="the operator's --workers (teams reconciled at once)"
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--no-floor", action="store_true", help="skip the floor (tmux only) measurement")
    parser.add_argument(
        "--orchestration-nice",
        type=int,
        default=0,
        help="nice value for the API server, etcd, operator and node agents (e.g. -10; needs root)",
    )
    parser.add_argument(
        "--orchestration-cpu-shares",
        type=int,
        default=0,
        help="move the API server, etcd, controller manager, operator and node agents into a cpu cgroup of "
        "their own with these cpu.shares (1024 = one session's weight; needs a writable cgroup v1 cpu "
        "hierarchy): the orchestration weighed as if it ran on machines of its own",
    )
    parser.add_argument(
        "--agent-nice",
        type=int,
        default=10,
        help="the node agents' --agent-nice, and the nice of the floor's agents (0: agents not reniced)",
    )
    parser.add_argument(
        "--agent-cpu-weight",
        type=int,
        default=100,
        help="the node agents' --agent-cpu-weight, and the cgroup weight of the floor's agents (0: none)",
    )
    parser.add_argument(
        "--logs", type=Path, help="copy the operator's, node agents' and API server's logs here after the run"
    )
    parser.add_argument(
        "--audit",
        type=Path,
        help="have the API server write an audit log (Metadata level: who, what, when, how long) here",
    )
    parser.add_argument(
        "--api-server-profile",
        type=float,
        metavar="SECONDS",
        help="with --profile: also a Go CPU profile of the API server over this many seconds from the apply",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="record the operator and the first node agent with py-spy from apply to all Ready, into this "
        "directory (collapsed stacks; needs py-spy in the venv)",
    )
    args = parser.parse_args()
    total_agents = args.teams * args.agents_per_team
    capacity = -(-total_agents // args.nodes) + args.agents_per_team  # room for whole teams
    floor = (
        None
        if args.no_floor
        else asyncio.run(
            measure_floor(
                args.teams,
                args.agents_per_team,
                args.nodes,
                args.timeout,
                agent_nice=args.agent_nice,
                agent_cpu_weight=args.agent_cpu_weight,
            )
        )
    )
    if floor is not None:
        print(f"floor: {floor}", file=sys.stderr, flush=True)
    if args.audit is not None:
        audit_api_server(args.audit)
    if args.api_server_profile:
        profile_api_server()
    with (
        tempfile.TemporaryDirectory(prefix="tmo-bench-scale-") as tmp,
        cluster_with_crds(Path(tmp), args.control_plane_cpu_weight) as cluster,
    ):
        work = Path(tmp)
        sidecars = [
            start_sidecar(
                cluster.kubeconfig,
                f"bench-{RUN}-{index}",
                f"tmo-bench-scale-{RUN}-{index}",
                work,
                "--node-label",
                "orchestrator.tmux.dev/pool=bench",
                "--capacity",
                str(capacity),
                "--observe-interval",
                "1",
                "--agent-nice",
                str(args.agent_nice),
                "--agent-cpu-weight",
                str(args.agent_cpu_weight),
            )
            for index in range(args.nodes)
        ]
        operator = start_operator(cluster.kubeconfig, work, "--workers", str(args.operator_workers))
        try:
            result = run(cluster, operator, sidecars, args, total_agents)
        finally:
            operator.stop()
            for index, sidecar in enumerate(sidecars):
                sidecar.stop()
                tmux(f"tmo-bench-scale-{RUN}-{index}", "kill-server")
            remove_orchestration_cgroup()
            if args.logs is not None:
                args.logs.mkdir(parents=True, exist_ok=True)
                for log in [*work.glob("*.log"), *(work / "cluster").rglob("*.log")]:
                    shutil.copy(log, args.logs / log.name)
    if floor is not None:
        result["floor"] = floor
        result["orchestrated_over_floor"] = round(
            result["ready_seconds"]["all"] / floor["all_ready_seconds"], 2
        )
    write_result("operator_scale", result)
    return 0


AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules: [{level: Metadata}]
"""


def audit_api_server(log: Path) -> None:
    """Every request of the run in `log`, one JSON line each (user, verb, object, received and answered
    times): requests per second and latency per client, which the metrics only give as totals."""
    log.parent.mkdir(parents=True, exist_ok=True)
    policy = log.with_suffix(".policy.yaml")
    policy.write_text(AUDIT_POLICY)
    plain = devcluster._apiserver_args

    def with_audit(*args: Any, **kwargs: Any) -> list[str]:
        return [*plain(*args, **kwargs), f"--audit-policy-file={policy}", f"--audit-log-path={log}"]

    devcluster._apiserver_args = with_audit


def profile_api_server() -> None:
    """The API server with its /debug/pprof endpoints on (the development cluster turns them off)."""
    plain = devcluster._apiserver_args

    def with_profiling(*args: Any, **kwargs: Any) -> list[str]:
        return [arg for arg in plain(*args, **kwargs) if arg != "--profiling=false"] + ["--profiling=true"]

    devcluster._apiserver_args = with_profiling


def api_server_cpu_profile(cluster: LocalCluster, seconds: float, out: Path) -> threading.Thread:
    """Fetch the API server's CPU profile of the next `seconds` into `out`, in the background."""

    def fetch() -> None:
        url = f"{cluster.server}/debug/pprof/profile?seconds={int(seconds)}"
        with urllib.request.urlopen(url, context=_admin_tls(cluster), timeout=seconds + 60) as answer:
            out.write_bytes(answer.read())

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    return thread


CPU_CGROUP = Path("/sys/fs/cgroup/cpu")


def orchestration_cgroup(shares: int, pids: list[int]) -> None:
    """`pids` (whole processes, threads included) into a cpu cgroup of this run with `shares` (cgroup v1).
    Removed again at exit by remove_orchestration_cgroup."""
    group = CpuGroup(str(CPU_CGROUP / f"tmo-bench-{RUN}"), "cpu.shares", shares)
    apply_cpu_group(group)
    failure = enter_cpu_group(group, pids)
    if failure is not None:
        raise failure


def remove_orchestration_cgroup() -> None:
    group = CPU_CGROUP / f"tmo-bench-{RUN}"
    if not group.exists():
        return
    for line in (group / "cgroup.procs").read_text().split():  # what is left: back to the root
        with contextlib.suppress(OSError):
            (CPU_CGROUP / "cgroup.procs").write_text(line)
    remove_cpu_group(str(group))


def start_profilers(directory: Path | None, pids: dict[str, int]) -> list[subprocess.Popen[bytes]]:
    """py-spy sampling each of `pids` (native threads included) until stop_profilers."""
    if directory is None:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    spy = str(Path(sys.executable).parent / "py-spy")
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--rate",
                "50",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(directory / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    ]


def stop_profilers(profilers: list[subprocess.Popen[bytes]]) -> None:
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
    for profiler in profilers:
        profiler.wait(timeout=60)


def component_cpu(
    cluster: LocalCluster, operator_pid: int, sidecar_pids: list[int], tmux_pids: list[int]
) -> dict[str, float]:
    """CPU seconds used so far by each part of the system."""
    return {
        "operator": cpu_seconds(operator_pid),
        "node_agents": sum(cpu_seconds(pid) for pid in sidecar_pids),
        "api_server": cpu_seconds(cluster.pids["kube-apiserver"]),
        "etcd": cpu_seconds(cluster.pids["etcd"]),
        "controller_manager": cpu_seconds(cluster.pids["kube-controller-manager"]),
        "tmux_and_agents": sum(tree_cpu_seconds(pid) for pid in tmux_pids),
    }


def component_waits(cluster: LocalCluster, operator_pid: int, sidecar_pids: list[int]) -> dict[str, float]:
    """Seconds the threads of each part have so far spent runnable but waiting for a core (the kernel's
    schedstat run_delay): how starved of CPU a part was, as opposed to how much it used."""
    return {
        "operator": run_queue_seconds(operator_pid),
        "node_agents": sum(run_queue_seconds(pid) for pid in sidecar_pids),
        "api_server": run_queue_seconds(cluster.pids["kube-apiserver"]),
        "etcd": run_queue_seconds(cluster.pids["etcd"]),
    }


def run_queue_seconds(pid: int) -> float:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def run(
    cluster: LocalCluster,
    operator: ProjectProcess,
    sidecars: list[ProjectProcess],
    args: argparse.Namespace,
    total_agents: int,
) -> dict[str, Any]:
    time.sleep(5)  # nodes registered, operator watching
    assert operator.process is not None
    pid = operator.process.pid
    sidecar_pids = [s.process.pid for s in sidecars if s.process is not None]
    sockets = [f"tmo-bench-scale-{RUN}-{index}" for index in range(args.nodes)]
    deadline = time.monotonic() + 60
    while len(tmux_pids := tmux_server_pids(sockets)) < args.nodes and time.monotonic() < deadline:
        time.sleep(0.5)  # node agents still starting (a loaded machine): their tmux servers count too
    if args.orchestration_nice:
        # Everything but tmux and the agents ahead of the agents. Each of these processes leads its own
        # session, and with the kernel's autogroup scheduling (sched_autogroup_enabled) CPU is shared
        # between sessions first: the session's nice (/proc/PID/autogroup) is what counts, a thread's
        # nice only orders the threads within it.
        for process_id in [pid, *sidecar_pids, *cluster.pids.values()]:
            with contextlib.suppress(OSError):  # no autogroups in this kernel
                Path(f"/proc/{process_id}/autogroup").write_text(str(args.orchestration_nice))
            for thread in Path(f"/proc/{process_id}/task").iterdir():  # nice is per thread on Linux
                os.setpriority(os.PRIO_PROCESS, int(thread.name), args.orchestration_nice)
    if args.orchestration_cpu_shares:
        orchestration_cgroup(args.orchestration_cpu_shares, [pid, *sidecar_pids, *cluster.pids.values()])
    cpu_before = cpu_seconds(pid)
    parts_before = component_cpu(cluster, pid, sidecar_pids, tmux_pids)
    waits_before = component_waits(cluster, pid, sidecar_pids)
    names = [f"team-{i:03d}" for i in range(args.teams)]
    load = os.getloadavg()
    requests_before = api_requests(cluster)
    profilers = start_profilers(args.profile, {"operator": pid, "node-agent-0": sidecar_pids[0]})
    if args.profile is not None and args.api_server_profile:
        api_server_cpu_profile(cluster, args.api_server_profile, args.profile / "api-server.pprof")
    applied_at, applied_wall = time.monotonic(), time.time()
    apply_all(cluster, [team(i, args.agents_per_team) for i in range(args.teams)])
    try:
        ready = asyncio.run(time_to_ready(cluster.kubeconfig, names, applied_at, args.timeout))
    finally:
        stop_profilers(profilers)
    cpu_to_ready = cpu_seconds(pid) - cpu_before
    parts_after = component_cpu(cluster, pid, sidecar_pids, tmux_pids)
    waits_after = component_waits(cluster, pid, sidecar_pids)
    requests = requests_between(requests_before, api_requests(cluster))
    timeline, last_teams = asyncio.run(agent_timeline(cluster.kubeconfig, applied_wall))
    time.sleep(20)  # let the last status writes and messages settle
    writes_before = api_writes(cluster)
    cpu_steady_before = cpu_seconds(pid)
    time.sleep(args.steady_seconds)
    writes = api_writes(cluster) - writes_before
    cpu_steady = cpu_seconds(pid) - cpu_steady_before
    return {
        "teams": args.teams,
        "agents": total_agents,
        "nodes": args.nodes,
        "agent_nice": args.agent_nice,
        "agent_cpu_weight": args.agent_cpu_weight,
        "control_plane_cpu_weight": args.control_plane_cpu_weight,
        "load_average_at_apply": [round(x, 2) for x in load],
        "cpu_seconds_apply_to_ready": {
            name: round(parts_after[name] - parts_before[name], 1) for name in parts_after
        },
        "cpu_wait_seconds_apply_to_ready": {
            name: round(waits_after[name] - waits_before[name], 1) for name in waits_after
        },
        "api_requests_apply_to_ready": requests,
        "ready_seconds": spread(list(ready.values())),
        "agents_seconds_after_apply": {what: spread(times) for what, times in timeline.items()},
        "last_teams_created": last_teams,
        "operator": {
            "cpu_seconds_apply_to_ready": round(cpu_to_ready, 1),
            "cpu_percent_steady": round(100 * cpu_steady / args.steady_seconds, 2),
            "peak_rss_mb": round(peak_rss_mb(pid), 1),
        },
        "control_plane_peak_rss_mb": {
            name: round(peak_rss_mb(component), 1) for name, component in cluster.pids.items()
        },
        "steady_state": {
            "window_seconds": args.steady_seconds,
            "api_writes": writes,
            "writes_per_agent_per_minute": round(writes / total_agents / (args.steady_seconds / 60), 4),
        },
    }


if __name__ == "__main__":
    sys.exit(main())
