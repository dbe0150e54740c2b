"""Benchmark: process exit → Agent status Crashed, read back through the API server.

A real control plane (`tmux-orchestrator dev`), the CRDs, one real node agent process (`tmux-orchestrator
sidecar`) on its own tmux socket, and N fake agents. Each round SIGKILLs one agent's process and times how
long until a watch on the API server delivers that Agent with status.phase Crashed. The node agent then
restarts it (backoff 0 s is not allowed; backoffSeconds is 1), and the next round waits for Running.

    .venv/bin/python benchmarks/crash_to_status.py [--agents 50] [--kills 60] [--agent-nice N]
        [--agent-cpu-weight W]

`--agent-nice N` and `--agent-cpu-weight W` are passed to the node agent (its defaults, 10 and 100, when
not given; 0: off); the result says what nice the agents' threads and sessions were seen at.

Prints the latencies and writes JSON to benchmarks/results/crash_to_status.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import KUBECTL, apply_all, cluster_with_crds, percentile, write_result
from scheduling import SchedulingDelay

from support.manifests import agent_manifest
from support.processes import autogroup_nice, start_sidecar, thread_nices, tmux
from tmux_orchestrator.core.cpu_group import CONTROL_PLANE_WEIGHT
from tmux_orchestrator.devcluster.cluster import LocalCluster
from tmux_orchestrator.kube import Resource, connect

NODE = f"bench-node-{os.getpid()}"  # two runs at once must not share a node's sockets
SOCKET = f"tmo-bench-crash-{os.getpid()}"


def agent(index: int) -> dict[str, Any]:
    recovery = {"backoffSeconds": 1, "maxBackoffSeconds": 1, "maxRestarts": 1000, "windowSeconds": 60}
    name = f"bench-dev-{index}"
    # An ordinal is below 100 (the API's limit on replicas): 100 agents per team.
    team = f"bench-{index // 100}"
    return agent_manifest(name, NODE, team=team, ordinal=index % 100, namespace="default", recovery=recovery)


async def measure(
    kubeconfig: Path,
    agents: int,
    kills: int,
    killed_wall: list[tuple[str, float, float]],
    interval: float = 0.0,
) -> dict[str, Any]:
    """The latencies; every kill also goes into `killed_wall` as (agent, epoch seconds, latency)."""
    kube = await connect(str(kubeconfig))
    async with kube:
        statuses: dict[str, dict[str, Any]] = {}
        changed = asyncio.Event()
        crashed_at: dict[str, float] = {}

        async def watch() -> None:
            async for event in kube.watch(Resource.AGENTS, "default"):
                for obj in event.affected:
                    name = obj["metadata"]["name"]
                    status = obj.get("status") or {}
                    if status.get("phase") == "Crashed" and name not in crashed_at:
                        crashed_at[name] = time.monotonic()
                    statuses[name] = status
                changed.set()

        watcher = asyncio.create_task(watch())

        async def until(predicate: Any, timeout: float = 120.0) -> None:
            deadline = time.monotonic() + timeout
            while not predicate():
                changed.clear()
                await asyncio.wait_for(changed.wait(), max(0.01, deadline - time.monotonic()))

        started = time.monotonic()
        await until(lambda: sum(1 for s in statuses.values() if s.get("phase") == "Running") == agents)
        all_running = time.monotonic() - started
        seen_nice = agents_nice([int(s["pid"]) for s in statuses.values() if s.get("pid")])
        latencies: list[float] = []
        load = [round(x, 2) for x in os.getloadavg()]
        with SchedulingDelay() as probe:
            for round_ in range(kills):
                name = f"bench-dev-{round_ % agents}"
                await until(
                    lambda n=name: statuses.get(n, {}).get("phase") == "Running" and statuses[n].get("pid")
                )
                if interval:
                    await asyncio.sleep(interval)
                crashed_at.pop(name, None)
                pid = int(statuses[name]["pid"])
                killed, wall = time.monotonic(), time.time()
                os.kill(pid, signal.SIGKILL)
                await until(lambda n=name: n in crashed_at, timeout=30)
                latencies.append(crashed_at[name] - killed)
                killed_wall.append((name, wall, crashed_at[name] - killed))
        watcher.cancel()
        load_after = [round(x, 2) for x in os.getloadavg()]
    return {
        "agents": agents,
        "kills": kills,
        "interval_seconds": interval,
        "agents_seen_at": seen_nice,
        "load_average_at_first_kill": load,
        "load_average_after_last_kill": load_after,
        "all_running_seconds": round(all_running, 2),
        "crash_to_status_ms": {
            "p50": round(statistics.median(latencies) * 1000, 1),
            "p99": round(percentile(latencies, 0.99) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
            "mean": round(statistics.fmean(latencies) * 1000, 1),
        },
        "scheduling_delay_of_a_5ms_sleep": probe.result,
    }


def agents_nice(pids: list[int]) -> dict[str, list[int | None]]:
    """The distinct nice values of the agents' threads and sessions (autogroups, where they apply)."""
    threads: set[int | None] = set()
    sessions: set[int | None] = set()
    for pid in pids:
        try:
            threads |= set(thread_nices(pid).values())
            sessions.add(autogroup_nice(pid))
        except OSError:  # restarted meanwhile
            continue
    return {"thread_nice": sorted(threads, key=str), "autogroup_nice": sorted(sessions, key=str)}


_EXIT_LINE = re.compile(r"^(\S+ \S+) INFO tmux_sidecar\.node\.status: default/(\S+) killed by signal")


def split_at_node_agent(log: str, kills: list[tuple[str, float, float]]) -> dict[str, Any]:
    """Each latency split where the node agent logged the exit (its log's millisecond timestamps): kill →
    the node agent knows (tmux and its exit watcher), then → a watch sees Crashed (the status write, the
    API server and the watch)."""
    seen: dict[str, list[float]] = {}
    for line in log.splitlines():
        match = _EXIT_LINE.match(line)
        if match:
            moment = datetime.datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            seen.setdefault(match[2], []).append(moment)
    known, reported = [], []
    for name, wall, latency in kills:
        after = [moment for moment in seen.get(name, []) if moment >= wall - 0.002]
        if after:
            known.append(min(after) - wall)
            reported.append(latency - known[-1])
    return {
        "samples": len(known),
        "kill_to_node_agent_ms": _spread(known),
        "node_agent_to_watch_ms": _spread(reported),
    }


_SERVER_SIDE = {
    "agent_status_patch": (
        "apiserver_request_duration_seconds_bucket{",
        'resource="agents"',
        'subresource="status"',
        'verb="PATCH"',
    ),
    "etcd_agent_update": ("etcd_request_duration_seconds_bucket{", 'operation="update"', 'resource="agents"'),
}


def server_side(cluster: LocalCluster) -> dict[str, Any]:
    """How long the API server itself took for the Agent status patches of the whole run, and etcd for the
    updates behind them (its /metrics histograms: requests within each bound, in seconds)."""
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
    metrics = subprocess.run(
        [KUBECTL, "get", "--raw", "/metrics"], env=env, capture_output=True, text=True, check=True
    ).stdout
    result: dict[str, Any] = {}
    for name, parts in _SERVER_SIDE.items():
        buckets = {}
        for line in metrics.splitlines():
            if all(part in line for part in parts):
                bound = line.split('le="', 1)[1].split('"', 1)[0]
                buckets[bound] = int(float(line.rsplit(" ", 1)[1]))
        total = buckets.get("+Inf", 0)
        result[name] = {
            "count": total,
            **{f"within_{b}s": buckets[b] for b in ("0.025", "0.05", "0.1", "0.2", "0.4") if b in buckets},
        }
    return result


def _spread(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {}
    return {
        "p50": round(statistics.median(seconds) * 1000, 1),
        "p99": round(percentile(seconds, 0.99) * 1000, 1),
        "max": round(max(seconds) * 1000, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--interval", type=float, default=0.0)
    parser.add_argument("--sidecar-log", type=Path, help="keep the node agent's log here")
    parser.add_argument(
        "--agent-nice", type=int, help="the node agent's --agent-nice (default: the node agent's own default)"
    )
    parser.add_argument(
        "--agent-cpu-weight",
        type=int,
        help="the node agent's --agent-cpu-weight (default: the node agent's own default)",
    )
    parser.add_argument(
        "--control-plane-cpu-weight",
        type=int,
        default=CONTROL_PLANE_WEIGHT,
        help="the local control plane's cpu cgroup weight (dev up --cpu-weight; 0: none)",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="tmo-bench-") as tmp,
        cluster_with_crds(Path(tmp), args.control_plane_cpu_weight) as cluster,
    ):
        apply_all(cluster, [agent(i) for i in range(args.agents)])
        options = [
            *([] if args.agent_nice is None else ["--agent-nice", str(args.agent_nice)]),
            *([] if args.agent_cpu_weight is None else ["--agent-cpu-weight", str(args.agent_cpu_weight)]),
        ]
        sidecar = start_sidecar(cluster.kubeconfig, NODE, SOCKET, Path(tmp), *options)
        try:
            kills: list[tuple[str, float, float]] = []
            result = asyncio.run(measure(cluster.kubeconfig, args.agents, args.kills, kills, args.interval))
        finally:
            sidecar.stop()
            tmux(SOCKET, "kill-server")
        result["split"] = split_at_node_agent(sidecar.log(), kills)
        result["api_server"] = server_side(cluster)
        result["agent_nice_option"] = args.agent_nice
        result["agent_cpu_weight_option"] = args.agent_cpu_weight
        result["control_plane_cpu_weight"] = args.control_plane_cpu_weight
        if args.sidecar_log:
            args.sidecar_log.write_text(sidecar.log())
            args.sidecar_log.with_suffix(".kills.json").write_text(json.dumps(kills))
    write_result("crash_to_status", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
