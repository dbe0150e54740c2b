"""Benchmark: an agent's activity changes → Agent status through the API server, told by the agent's hook
versus read from its screen, in the same run (issue 12).

A real control plane (`tmux-orchestrator dev`), the CRDs, one real node agent (`tmux-orchestrator sidecar`,
its default observation interval, its local API) and two agents on its tmux server:

- hook: a shell loop in the pane that runs `tmux-orchestrator hook EVENT` for each line typed into it, as a
  CLI runs its hook command (the same command, the same local API, the caller found by peer credentials);
- screen: the fake agent (claude-code screens), which goes Busy for a while when a message is typed.

Rounds alternate between the two. The clock starts when Enter is pressed (tmux send-keys) and stops when a
watch on the API server delivers the Agent with the new activity from the expected source (Busy by Hook
after UserPromptSubmit, Idle by Hook after Stop; Busy by Screen after the fake agent's message).

    .venv/bin/python benchmarks/hook_latency.py [--rounds 40]

Prints the latencies and writes JSON to benchmarks/results/hook_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import apply_all, cluster_with_crds, percentile, write_result

from support.manifests import FAKE, agent_manifest
from support.processes import project_command, tmux
from tmux_orchestrator.kube import Resource, connect

NODE = "bench-hooks"
SOCKET = "tmo-bench-hooks"
# The hook agent: each typed line is a hook event name, reported as the CLIs report theirs.
HOOK_LOOP = "while read event; do echo '{}' | tmux-orchestrator hook \"$event\"; done"
BUSY_SECONDS = 1.5  # how long the fake agent works on a message


def agents() -> list[dict[str, Any]]:
    hook = agent_manifest("bench-hook", NODE, ["sh", "-c", HOOK_LOOP], team="bench", namespace="default")
    hook["spec"]["template"]["profile"] = "shell"
    screen = agent_manifest(
        "bench-screen",
        NODE,
        [*FAKE, "--busy-on-message", str(BUSY_SECONDS)],
        team="bench",
        ordinal=1,
        namespace="default",
    )
    return [hook, screen]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "count": len(values),
        "p50": round(statistics.median(values) * 1000, 1),
        "p99": round(percentile(values, 0.99) * 1000, 1),
        "max": round(max(values) * 1000, 1),
        "mean": round(statistics.fmean(values) * 1000, 1),
    }


async def measure(kubeconfig: Path, rounds: int) -> dict[str, Any]:
    kube = await connect(str(kubeconfig))
    async with kube:
        statuses: dict[str, dict[str, Any]] = {}
        changed = asyncio.Event()

        async def watch() -> None:
            async for event in kube.watch(Resource.AGENTS, "default"):
                for obj in event.affected:
                    statuses[obj["metadata"]["name"]] = obj.get("status") or {}
                changed.set()

        watcher = asyncio.create_task(watch())

        def shows(name: str, activity: str, source: str) -> bool:
            status = statuses.get(name) or {}
            return status.get("activity") == activity and status.get("activitySource") == source

        async def until(predicate: Any, timeout: float = 60.0) -> float:
            """Wait for `predicate`; the moment the watch delivered it."""
            deadline = time.monotonic() + timeout
            while not predicate():
                changed.clear()
                await asyncio.wait_for(changed.wait(), max(0.01, deadline - time.monotonic()))
            return time.monotonic()

        async def press(window: str, text: str) -> float:
            """Type `text`, then Enter; the moment Enter was sent."""
            await asyncio.to_thread(tmux, SOCKET, "send-keys", "-t", f"=bench:{window}", "-l", text)
            pressed = time.monotonic()
            await asyncio.to_thread(tmux, SOCKET, "send-keys", "-t", f"=bench:{window}", "Enter")
            return pressed

        await until(lambda: all((statuses.get(n) or {}).get("pid") for n in ("bench-hook", "bench-screen")))
        await until(lambda: shows("bench-screen", "Idle", "Screen"))
        await press("bench-hook", "Stop")
        await until(lambda: shows("bench-hook", "Idle", "Hook"))
        hook_busy: list[float] = []
        hook_idle: list[float] = []
        screen_busy: list[float] = []
        for _ in range(rounds):
            pressed = await press("bench-hook", "UserPromptSubmit")
            hook_busy.append(await until(lambda: shows("bench-hook", "Busy", "Hook")) - pressed)
            pressed = await press("bench-hook", "Stop")
            hook_idle.append(await until(lambda: shows("bench-hook", "Idle", "Hook")) - pressed)
            pressed = await press("bench-screen", "go")
            screen_busy.append(await until(lambda: shows("bench-screen", "Busy", "Screen")) - pressed)
            await until(lambda: shows("bench-screen", "Idle", "Screen"))
        watcher.cancel()
    return {
        "rounds": rounds,
        "hook_busy_ms": summary(hook_busy),
        "hook_idle_ms": summary(hook_idle),
        "screen_busy_ms": summary(screen_busy),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tmo-bench-") as tmp, cluster_with_crds(Path(tmp)) as cluster:
        apply_all(cluster, agents())
        # The node agent as deployed: default observation interval (1 s), local API on.
        sidecar = project_command(
            ["sidecar", "--node", NODE, "--tmux-socket", SOCKET],
            cluster.kubeconfig,
            Path(tmp) / "sidecar.log",
        ).start()
        try:
            result = asyncio.run(measure(cluster.kubeconfig, args.rounds))
        finally:
            sidecar.stop()
            tmux(SOCKET, "kill-server")
    write_result("hook_latency", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
