"""Benchmark: AgentMessage delivery into fake agents that behave like the real CLIs' input lines.

A real control plane, the CRDs, one real node agent (`tmux-orchestrator sidecar`) on its own tmux socket, and
one fake agent per input mode (plain; Codex paste detection; Aider per-line submit; Claude Code collapsed
pastes; busy after each message), each logging every prompt it receives, plus one that ignores Enter. Each
mode gets N messages in turn (the one-liner with quotes, `$(…)`, backticks, `#{…}` and non-ASCII, the 5-line
text and the 1,500-character text, each numbered so that every prompt is told apart), created one at a
time. Measured: Delivered, received, false Delivered (Delivered but not received exactly once and intact),
split or duplicated prompts, and the time from creating the message to seeing it Delivered through a watch.

    .venv/bin/python benchmarks/delivery.py [--messages 50] [--ignored 10]

Writes JSON to benchmarks/results/delivery.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from harness import apply_all, cluster_with_crds, percentile, write_result

from support.manifests import FAKE, agent_manifest
from support.messages import INPUT_MODES, MESSAGES, message_manifest
from support.processes import start_sidecar, tmux
from tmux_orchestrator.kube import Kube, Resource, connect

NODE = "bench-node"
SOCKET = "tmo-bench-delivery"
IGNORES_ENTER = "ignores-enter"
MODES = {**INPUT_MODES, IGNORES_ENTER: ["--ignore-enter"]}
FINAL = ("Delivered", "Failed", "Expired")


def agent(mode: str, log: Path) -> dict[str, Any]:
    return agent_manifest(
        f"bench-{mode}", NODE, [*FAKE, "--log", str(log), *MODES[mode]], team="bench", namespace="default"
    )


def text(index: int) -> str:
    return f"message {index}: {MESSAGES[index % len(MESSAGES)]}"


async def measure(kube: Kube, logs: dict[str, Path], counts: dict[str, int]) -> dict[str, Any]:
    statuses: dict[str, dict[str, Any]] = {}
    seen_at: dict[str, float] = {}
    activity: dict[str, str] = {}
    changed = asyncio.Event()

    async def watch_messages() -> None:
        async for event in kube.watch(Resource.AGENT_MESSAGES, "default"):
            for obj in event.affected:
                name, status = obj["metadata"]["name"], obj.get("status") or {}
                statuses[name] = status
                if status.get("phase") in FINAL and name not in seen_at:
                    seen_at[name] = time.monotonic()
            changed.set()

    async def watch_agents() -> None:
        async for event in kube.watch(Resource.AGENTS, "default"):
            for obj in event.affected:
                activity[obj["metadata"]["name"]] = (obj.get("status") or {}).get("activity", "")
            changed.set()

    async def until(predicate: Any, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            changed.clear()
            await asyncio.wait_for(changed.wait(), max(0.01, deadline - time.monotonic()))

    watchers = [asyncio.create_task(watch_messages()), asyncio.create_task(watch_agents())]
    await until(lambda: all(activity.get(f"bench-{mode}") == "Idle" for mode in MODES))
    results: dict[str, Any] = {}
    for mode, count in counts.items():
        sent: list[str] = []
        latencies: list[float] = []
        delivered: list[str] = []
        failed: Counter[str] = Counter()
        for index in range(count):
            name = f"{mode}-{index}"
            body = message_manifest(name, NODE, f"bench-{mode}", text(index))
            created = time.monotonic()
            await kube.create(Resource.AGENT_MESSAGES, body, "default")
            sent.append(text(index))
            await until(lambda n=name: n in seen_at)
            status = statuses[name]
            if status["phase"] == "Delivered":
                delivered.append(text(index))
                latencies.append(seen_at[name] - created)
            else:
                failed[status.get("reason") or status["phase"]] += 1
        results[mode] = summary(sent, delivered, failed, received(logs[mode]), latencies)
    for task in watchers:
        task.cancel()
    return results


def received(log: Path) -> list[str]:
    return [json.loads(line)["text"] for line in log.read_text().splitlines()] if log.exists() else []


def summary(
    sent: list[str], delivered: list[str], failed: Counter[str], got: list[str], latencies: list[float]
) -> dict[str, Any]:
    times = Counter(got)
    return {
        "messages": len(sent),
        "delivered": len(delivered),
        "received_intact_once": sum(1 for t in sent if times[t] == 1),
        "false_delivered": sum(1 for t in delivered if times[t] != 1),
        "split_or_duplicated": sum(1 for t in got if t not in sent)
        + sum(n - 1 for n in times.values() if n > 1),
        "failed": dict(failed),
        "create_to_delivered_ms": {
            "p50": round(statistics.median(latencies) * 1000) if latencies else None,
            "p90": round(percentile(latencies, 0.9) * 1000) if latencies else None,
            "max": round(max(latencies) * 1000) if latencies else None,
        },
    }


async def run(kubeconfig: Path, logs: dict[str, Path], counts: dict[str, int]) -> dict[str, Any]:
    kube = await connect(str(kubeconfig))
    async with kube:
        return await measure(kube, logs, counts)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=50, help="per input mode")
    parser.add_argument("--ignored", type=int, default=10, help="to the agent that ignores Enter")
    args = parser.parse_args()
    counts = {mode: args.messages for mode in INPUT_MODES} | {IGNORES_ENTER: args.ignored}
    with tempfile.TemporaryDirectory(prefix="tmo-bench-") as tmp, cluster_with_crds(Path(tmp)) as cluster:
        logs = {mode: Path(tmp) / f"{mode}.jsonl" for mode in MODES}
        apply_all(cluster, [agent(mode, logs[mode]) for mode in MODES])
        sidecar = start_sidecar(cluster.kubeconfig, NODE, SOCKET, Path(tmp))
        try:
            result = asyncio.run(run(cluster.kubeconfig, logs, counts))
        finally:
            sidecar.stop()
            tmux(SOCKET, "kill-server")
    write_result("delivery", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
