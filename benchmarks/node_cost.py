"""Benchmark: what a node agent costs per 100 agents, idle and busy.

A real control plane, one real node agent (`tmux-orchestrator sidecar`, default observe interval of 1 s) on
its own tmux socket. In one run:

  1. no agents: the node agent's own CPU (% of one core) and RSS, the baseline;
  2. N idle fake agents (their screen does not change): CPU and RSS;
  3. the same N agents busy (`fake-agent --step busy`: a spinner redrawn every second, so every pass
     captures and reads every screen): CPU and RSS.

CPU is the node agent process's utime+stime over `--seconds` once every agent is Running (its tmux server
is not included: the agents' own drawing costs tmux the same with or without us). Per 100 agents = (value
with N - baseline) * 100 / N.

    .venv/bin/python benchmarks/node_cost.py [--agents 100] [--seconds 30]

Prints and writes JSON to benchmarks/results/node_cost.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import apply_all, cluster_with_crds, write_result

from support.manifests import FAKE, agent_manifest
from support.processes import start_sidecar, tmux
from tmux_orchestrator.kube import Resource, connect

NODE = f"bench-cost-{os.getpid()}"  # two runs at once must not share a node's sockets
SOCKET = f"tmo-bench-cost-{os.getpid()}"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def agents(count: int, busy: bool) -> list[dict[str, Any]]:
    command = [*FAKE, "--step", "busy"] if busy else list(FAKE)
    return [
        agent_manifest(
            f"cost-{i}", NODE, command, team=f"cost-{i // 100}", ordinal=i % 100, namespace="default"
        )
        for i in range(count)
    ]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def until_all(kubeconfig: Path, count: int, activity: str, timeout: float = 600) -> None:
    """Until `count` Agents are Running with this activity (as the node agent reports them)."""
    kube = await connect(str(kubeconfig))
    async with kube:
        seen: dict[str, tuple[str, str]] = {}

        async def watch() -> None:
            async for event in kube.watch(Resource.AGENTS, "default"):
                for obj in event.affected:
                    status = obj.get("status") or {}
                    seen[obj["metadata"]["name"]] = (status.get("phase", ""), status.get("activity", ""))
                if sum(1 for s in seen.values() if s == ("Running", activity)) >= count:
                    return

        await asyncio.wait_for(watch(), timeout)


def measure(pid: int, seconds: float) -> dict[str, float]:
    time.sleep(5)  # the last status writes of the change settle
    before, started = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    cpu = cpu_seconds(pid) - before
    return {
        "cpu_percent_of_a_core": round(100 * cpu / (time.monotonic() - started), 2),
        "rss_mb": round(rss_mb(pid), 1),
    }


def per_100(value: dict[str, float], baseline: dict[str, float], count: int) -> dict[str, float]:
    return {key: round((value[key] - baseline[key]) * 100 / count, 2) for key in value}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tmo-bench-") as tmp, cluster_with_crds(Path(tmp)) as cluster:
        sidecar = start_sidecar(cluster.kubeconfig, NODE, SOCKET, Path(tmp), "--observe-interval", "1")
        try:
            assert sidecar.process is not None
            pid = sidecar.process.pid
            time.sleep(5)  # registered, watching
            load = [round(x, 2) for x in os.getloadavg()]
            baseline = measure(pid, args.seconds)
            apply_all(cluster, agents(args.agents, busy=False))
            asyncio.run(until_all(cluster.kubeconfig, args.agents, "Idle"))
            idle = measure(pid, args.seconds)
            apply_all(cluster, agents(args.agents, busy=True))  # a new template: every agent respawned
            asyncio.run(until_all(cluster.kubeconfig, args.agents, "Busy"))
            busy = measure(pid, args.seconds)
        finally:
            sidecar.stop()
            tmux(SOCKET, "kill-server")
    result = {
        "agents": args.agents,
        "window_seconds": args.seconds,
        "load_average_at_start": load,
        "no_agents": baseline,
        "idle": idle,
        "busy": busy,
        "per_100_idle": per_100(idle, baseline, args.agents),
        "per_100_busy": per_100(busy, baseline, args.agents),
    }
    write_result("node_cost", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
