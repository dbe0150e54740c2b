"""Benchmark: AgentMessage delivery, into fake agents that behave like the real CLIs' input lines, and into
the real CLIs themselves.

A real control plane, the CRDs and one real node agent (`tmux-orchestrator sidecar`) on its own tmux socket.
Fake agents: one per input mode (plain; Codex paste detection; Aider per-line submit; Claude Code collapsed
pastes; busy after each message), each logging every prompt it receives, plus one that ignores Enter. With
`--real`: Claude Code, Codex and Aider (the pinned versions, `tmux-orchestrator dev agents`) against the fake
model server, which records every prompt. Each agent gets N messages in turn (the one-liner with quotes,
`$(…)`, backticks, `#{…}` and non-ASCII, the 5-line text and the 1,500-character text, each numbered so
that every prompt is told apart), created one at a time. Measured: Delivered, received, false Delivered
(Delivered but not received exactly once and intact), split or duplicated prompts, and the time from
creating the message to seeing it Delivered through a watch.

    .venv/bin/python benchmarks/delivery.py [--messages 50] [--ignored 10] [--real]

Writes JSON to benchmarks/results/delivery.json (delivery-real.json with --real).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import apply_all, cluster_with_crds, percentile, write_result

from support.manifests import FAKE, agent_manifest
from support.messages import INPUT_MODES, MESSAGES, message_manifest, prompt_as_sent
from support.processes import end_codex_daemons, start_sidecar, tmux
from tmux_orchestrator.kube import Kube, Resource, connect

NODE = "bench-node"
SOCKET = "tmo-bench-delivery"
FINAL = ("Delivered", "Failed", "Expired")
# The API each real CLI speaks to the fake model.
REAL_APIS = {"claude-code": "anthropic-messages", "codex": "openai-responses", "aider": "openai-chat"}


@dataclass(frozen=True)
class Target:
    """One agent that gets `count` messages, and how to read what it really received."""

    label: str
    manifest: dict[str, Any]
    count: int
    received: Callable[[], list[str]]

    @property
    def agent(self) -> str:
        return str(self.manifest["metadata"]["name"])


def text(index: int) -> str:
    return f"message {index}: {MESSAGES[index % len(MESSAGES)]}"


def fake_targets(work: Path, messages: int, ignored: int) -> list[Target]:
    modes = {**INPUT_MODES, "ignores-enter": ["--ignore-enter"]}
    targets = []
    for mode, flags in modes.items():
        log = work / f"{mode}.jsonl"
        command = [*FAKE, "--log", str(log), *flags]
        manifest = agent_manifest(f"bench-{mode}", NODE, command, team="bench", namespace="default")
        count = ignored if mode == "ignores-enter" else messages
        targets.append(Target(mode, manifest, count, lambda log=log: logged(log)))
    return targets


def logged(log: Path) -> list[str]:
    return [json.loads(line)["text"] for line in log.read_text().splitlines()] if log.exists() else []


@contextmanager
def real_targets(work: Path, messages: int) -> Iterator[list[Target]]:
    """The three real CLIs against a fake model server (needs `tmux-orchestrator dev agents`)."""
    from support.fakemodel import start_fake_model
    from tmux_orchestrator.realagents.homes import prepare
    from tmux_orchestrator.realagents.install import ensure_agents

    binaries = ensure_agents()
    model = start_fake_model(work / "fake-model", 'default: {text: "OK"}\n')
    try:
        targets = []
        for cli, api in REAL_APIS.items():
            workdir = work / cli / "project"
            workdir.mkdir(parents=True)
            subprocess.run(["git", "init", "-q", str(workdir)], check=True)
            launch = prepare(
                cli, binaries=binaries, home=work / cli / "home", workdir=workdir, base_url=model.url
            )
            template = {
                "profile": cli,
                "workingDir": str(workdir),
                "env": [{"name": key, "value": value} for key, value in sorted(launch.env.items())],
            }
            manifest = agent_manifest(
                f"bench-{cli}", NODE, list(launch.argv), team="bench", namespace="default", template=template
            )

            def received(api: str = api) -> list[str]:
                return [prompt_as_sent(item["text"]) for item in model.received() if item["api"] == api]

            targets.append(Target(cli, manifest, messages, received))
        yield targets
    finally:
        model.stop()


async def measure(kube: Kube, targets: list[Target]) -> dict[str, Any]:
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

    async def until(predicate: Any, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                raise TimeoutError(f"waited {timeout:.0f} s; agents' activity: {activity}") from None

    watchers = [asyncio.create_task(watch_messages()), asyncio.create_task(watch_agents())]
    await until(lambda: all(activity.get(target.agent) == "Idle" for target in targets))
    results: dict[str, Any] = {}
    for target in targets:
        sent: list[str] = []
        latencies: list[float] = []
        delivered: list[str] = []
        failed: Counter[str] = Counter()
        for index in range(target.count):
            name = f"{target.agent}-{index}"
            created = time.monotonic()
            body = message_manifest(name, NODE, target.agent, text(index))
            await kube.create(Resource.AGENT_MESSAGES, body, "default")
            sent.append(text(index))
            await until(lambda n=name: n in seen_at)
            status = statuses[name]
            if status["phase"] == "Delivered":
                delivered.append(text(index))
                latencies.append(seen_at[name] - created)
            else:
                failed[status.get("reason") or status["phase"]] += 1
        await until(lambda t=target: activity.get(t.agent) == "Idle")
        got = await _received_settled(target)
        results[target.label] = summary(sent, delivered, failed, got, latencies)
    for task in watchers:
        task.cancel()
    return results


async def _received_settled(target: Target, quiet: float = 3.0) -> list[str]:
    """What the agent received, once nothing new arrived for `quiet` seconds (a request may still be on its
    way when the screen already shows the agent idle)."""
    got = target.received()
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < quiet:
        await asyncio.sleep(0.2)
        now = target.received()
        if now != got:
            got, stable_since = now, time.monotonic()
    return got


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
        "not_received_once": [t[:60] for t in delivered if times[t] != 1],
        "unexpected_prompts": [t[:60] for t in got if t not in sent],
        "create_to_delivered_ms": {
            "p50": round(statistics.median(latencies) * 1000) if latencies else None,
            "p90": round(percentile(latencies, 0.9) * 1000) if latencies else None,
            "max": round(max(latencies) * 1000) if latencies else None,
        },
    }


async def run(kubeconfig: Path, targets: list[Target]) -> dict[str, Any]:
    kube = await connect(str(kubeconfig))
    async with kube:
        return await measure(kube, targets)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=50, help="per agent")
    parser.add_argument("--ignored", type=int, default=10, help="to the fake agent that ignores Enter")
    parser.add_argument("--real", action="store_true", help="the real CLIs instead of fake agents")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tmo-bench-") as tmp, cluster_with_crds(Path(tmp)) as cluster:
        work = Path(tmp)
        with real_targets(work, args.messages) if args.real else _fakes(work, args) as targets:
            apply_all(cluster, [target.manifest for target in targets])
            sidecar = start_sidecar(cluster.kubeconfig, NODE, SOCKET, work)
            try:
                result = asyncio.run(run(cluster.kubeconfig, targets))
            finally:
                sidecar.stop()
                tmux(SOCKET, "kill-server")
                end_codex_daemons(work)
    write_result("delivery-real" if args.real else "delivery", result)
    return 0


@contextmanager
def _fakes(work: Path, args: argparse.Namespace) -> Iterator[list[Target]]:
    yield fake_targets(work, args.messages, args.ignored)


if __name__ == "__main__":
    sys.exit(main())
