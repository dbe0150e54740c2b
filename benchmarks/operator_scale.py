"""Benchmark: many teams on many node agents against the local control plane.

Default: 100 teams x 10 agents (1 PM + 9 developers) = 1,000 fake agents over 10 node agents (10 tmux
servers on this machine), one operator. Measures

  * apply → Ready per team (p50, p95, max) and until every team is Ready,
  * operator CPU seconds and peak RSS over the whole run,
  * API writes per agent per minute in steady state, counted by the API server itself
    (`apiserver_request_total` for POST/PUT/PATCH/DELETE/APPLY from every client: operator, node agents,
    controller manager) over a quiet window after everything was Ready.

    .venv/bin/python benchmarks/operator_scale.py [--teams 100] [--agents-per-team 10] [--nodes 10]
        [--steady-seconds 60]

Prints and writes JSON to benchmarks/results/operator_scale.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from harness import apply_all, cluster_with_crds, percentile, write_result

from support.processes import ProjectProcess, start_operator, start_sidecar, tmux
from tmux_orchestrator.devcluster.cluster import LocalCluster
from tmux_orchestrator.devcluster.pki import Pki
from tmux_orchestrator.kube import Resource, connect

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


def api_writes(cluster: LocalCluster) -> float:
    """Total mutating requests the API server has served (all clients, all resources)."""
    pki = Pki(cluster.state_dir / "pki")
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.load_cert_chain(str(pki.cert("admin")), str(pki.key("admin")))
    with urllib.request.urlopen(f"{cluster.server}/metrics", context=context, timeout=10) as answer:
        text = answer.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith("apiserver_request_total{"):
            labels, value = line.rsplit(" ", 1)
            verb = labels.split('verb="', 1)[1].split('"', 1)[0] if 'verb="' in labels else ""
            if verb in WRITE_VERBS:
                total += float(value)
    return total


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def time_to_ready(
    kubeconfig: Path, names: list[str], applied_at: float, timeout: float
) -> dict[str, float]:
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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--agents-per-team", type=int, default=10)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--steady-seconds", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    total_agents = args.teams * args.agents_per_team
    capacity = -(-total_agents // args.nodes) + args.agents_per_team  # room for whole teams
    with (
        tempfile.TemporaryDirectory(prefix="tmo-bench-scale-") as tmp,
        cluster_with_crds(Path(tmp)) as cluster,
    ):
        work = Path(tmp)
        sidecars = [
            start_sidecar(
                cluster.kubeconfig,
                f"bench-{index}",
                f"tmo-bench-scale-{index}",
                work,
                "--node-label",
                "orchestrator.tmux.dev/pool=bench",
                "--capacity",
                str(capacity),
                "--observe-interval",
                "1",
            )
            for index in range(args.nodes)
        ]
        operator = start_operator(cluster.kubeconfig, work)
        try:
            result = run(cluster, operator, args, total_agents)
        finally:
            operator.stop()
            for index, sidecar in enumerate(sidecars):
                sidecar.stop()
                tmux(f"tmo-bench-scale-{index}", "kill-server")
    write_result("operator_scale", result)
    return 0


def run(
    cluster: LocalCluster, operator: ProjectProcess, args: argparse.Namespace, total_agents: int
) -> dict[str, Any]:
    time.sleep(5)  # nodes registered, operator watching
    assert operator.process is not None
    pid = operator.process.pid
    cpu_before = cpu_seconds(pid)
    names = [f"team-{i:03d}" for i in range(args.teams)]
    applied_at = time.monotonic()
    apply_all(cluster, [team(i, args.agents_per_team) for i in range(args.teams)])
    ready = asyncio.run(time_to_ready(cluster.kubeconfig, names, applied_at, args.timeout))
    cpu_to_ready = cpu_seconds(pid) - cpu_before
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
        "ready_seconds": {
            "p50": round(percentile(list(ready.values()), 0.5), 1),
            "p95": round(percentile(list(ready.values()), 0.95), 1),
            "all": round(max(ready.values()), 1),
        },
        "operator": {
            "cpu_seconds_apply_to_ready": round(cpu_to_ready, 1),
            "cpu_percent_steady": round(100 * cpu_steady / args.steady_seconds, 2),
            "peak_rss_mb": round(peak_rss_mb(pid), 1),
        },
        "steady_state": {
            "window_seconds": args.steady_seconds,
            "api_writes": writes,
            "writes_per_agent_per_minute": round(writes / total_agents / (args.steady_seconds / 60), 4),
        },
    }


if __name__ == "__main__":
    sys.exit(main())
