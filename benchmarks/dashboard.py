"""Benchmark: an Agent's status change → every open dashboard page showing it (Server-Sent Events).

A real control plane with the CRDs, one AgentTeam with N Agents (status written here, as a node agent
would), `tmux-orchestrator dashboard` as its own process, and C open team pages (SSE clients). Each round
patches one Agent's status phase (Running ↔ Crashed) and times, for every page, how long until the pushed
live region shows the new phase. However many pages are open, the dashboard holds one watch per kind.

    .venv/bin/python benchmarks/dashboard.py [--agents 20] [--pages 50] [--rounds 40]

Prints the latencies and writes JSON to benchmarks/results/dashboard.json.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from harness import apply_all, cluster_with_crds, percentile, write_result

from support.kube import wait_for
from support.manifests import agent_manifest
from support.processes import ProjectProcess
from tmux_orchestrator.kube import Resource, connect

TEAM = {
    "apiVersion": "orchestrator.tmux.dev/v1alpha1",
    "kind": "AgentTeam",
    "metadata": {"name": "bench", "namespace": "default"},
    "spec": {"members": [{"name": "dev", "command": ["tmux-orchestrator", "fake-agent"]}]},
}


def phase_in(html: str, agent: str) -> str | None:
    row = re.search(rf'data-agent="{agent}".*?<td class="phase"><span[^>]*>(\w+)<', html, re.DOTALL)
    return row.group(1) if row else None


async def page(session: aiohttp.ClientSession, url: str, latest: dict[int, str], index: int) -> None:
    async with session.get(url) as reply:
        data: list[str] = []
        async for raw in reply.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("data: "):
                data.append(line[6:])
            elif not line and data:
                latest[index] = "\n".join(data)
                data = []


async def measure(kubeconfig: Path, url: str, agents: int, pages: int, rounds: int) -> dict[str, Any]:
    latencies: list[float] = []
    latest: dict[int, str] = {}
    async with await connect(str(kubeconfig)) as kube, aiohttp.ClientSession() as session:
        for index in range(agents):
            await kube.patch_status(Resource.AGENTS, f"bench-dev-{index}", {"phase": "Running"}, "default")
        tasks = [
            asyncio.create_task(page(session, f"{url}/live/teams/default/bench", latest, i))
            for i in range(pages)
        ]
        while len(latest) < pages or any(
            phase_in(html, f"bench-dev-{agents - 1}") != "Running" for html in latest.values()
        ):
            await asyncio.sleep(0.05)
        for number in range(rounds):
            agent = f"bench-dev-{number % agents}"
            phase = "Crashed" if (number // agents) % 2 == 0 else "Running"
            started = time.perf_counter()
            await kube.patch_status(Resource.AGENTS, agent, {"phase": phase}, "default")
            seen: dict[int, float] = {}
            while len(seen) < pages:
                for index, html in latest.items():
                    if index not in seen and phase_in(html, agent) == phase:
                        seen[index] = time.perf_counter() - started
                await asyncio.sleep(0.002)
            latencies.extend(seen.values())
        for task in tasks:
            task.cancel()
    return {
        "agents": agents,
        "pages": pages,
        "rounds": rounds,
        "status_to_page_ms": {
            "p50": round(percentile(latencies, 0.5) * 1000, 1),
            "p95": round(percentile(latencies, 0.95) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
    }


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, cluster_with_crds(Path(work)) as cluster:
        apply_all(
            cluster,
            [TEAM]
            + [
                agent_manifest(f"bench-dev-{i}", "bench-node", team="bench", ordinal=i, namespace="default")
                for i in range(args.agents)
            ],
        )
        dashboard = ProjectProcess(
            ["dashboard", "--port", "0", "--namespace", "default"],
            cluster.kubeconfig,
            Path(work) / "dashboard.log",
        ).start()
        try:
            found = wait_for(
                lambda: re.search(r"dashboard: (http://\S+?)/?$", dashboard.log(), re.M), timeout=30
            )
            assert dashboard.process is not None
            before = cpu_seconds(dashboard.process.pid)
            result = asyncio.run(
                measure(cluster.kubeconfig, found.group(1), args.agents, args.pages, args.rounds)
            )
            result["dashboard_cpu_seconds"] = round(cpu_seconds(dashboard.process.pid) - before, 2)
        finally:
            dashboard.stop()
    write_result("dashboard", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
