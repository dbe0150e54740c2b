"""Benchmark (`make soak`, not a CI test): a fleet under churn for a while, then an account of what was lost.

Teams of 10 fake agents (1 PM + 9 developers) over a few node agents and one operator, against a control
plane of its own. During the churn, every tick does one of: SIGKILL a random agent process, send an
AgentMessage with a unique text to a random agent, scale a team's developers between 7 and 9, or change a
team's template (a rollout); the API server is restarted once, half way. Then the churn stops and the fleet
settles. Reported:

  * Agents lost (declared by a team but not Running and ready after the settle) and duplicated (more than one
    tmux window for one Agent, or a window with no Agent),
  * messages lost (never final: still Pending after the settle; or Delivered but never received by the fake
    agent) and double-delivered (received more than once), from the fake agents' own logs; Failed messages
    with their reasons (a text typed into a process that was killed before it confirmed fails, visibly),
  * node agent and operator RSS growth from the end of the warm-up to the end,
  * API writes per agent per minute over the churn (the API server's own counter, summed over its restart).

    .venv/bin/python benchmarks/soak.py [--agents 200] [--nodes 4] [--minutes 30] [--warmup-minutes 2]
        [--tick 2] [--seed 1]

Prints and writes JSON to benchmarks/results/soak.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import apply_all, cluster_with_crds, write_result
from operator_scale import api_writes

from support.processes import ProjectProcess, start_operator, start_sidecar, tmux
from tmux_orchestrator.devcluster.cluster import LocalCluster, restart_component
from tmux_orchestrator.kube import Kube, Resource, connect

POOL = "soak"
NAMESPACE = "default"
TEAM_SIZE = 10
STEADY_DEVS = 7  # developers 0..6 are never scaled away: messages go to them and the PM
RECOVERY = {"backoffSeconds": 1, "maxBackoffSeconds": 4, "maxRestarts": 1000, "windowSeconds": 60}


def team(index: int, logs: Path) -> dict[str, Any]:
    log = str(logs / f"team-{index:03d}.jsonl")  # one per team: each line names the message it received
    fake = ["tmux-orchestrator", "fake-agent", "--log", log]
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentTeam",
        "metadata": {"name": f"soak-{index:03d}", "namespace": NAMESPACE},
        "spec": {
            "placement": {"nodeSelector": {"orchestrator.tmux.dev/pool": POOL}},
            "recovery": RECOVERY,
            "members": [
                {"name": "pm", "role": "pm", "replicas": 1, "command": fake},
                {
                    "name": "dev",
                    "replicas": TEAM_SIZE - 1,
                    "command": fake,
                    "env": [{"name": "GEN", "value": "0"}],
                },
            ],
        },
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Churn:
    kube: Kube
    teams: int
    rng: random.Random
    sent: dict[str, str] = field(default_factory=dict)  # message name → text
    actions: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)  # actions the API server refused or missed
    replicas: dict[int, int] = field(default_factory=dict)
    generation: int = 0

    async def tick(self) -> None:
        action = self.rng.choices(["kill", "message", "scale", "template"], weights=[4, 4, 1, 1])[0]
        self.actions[action] += 1
        try:
            await getattr(self, action)()
        except Exception:
            self.failed[action] += 1

    def _target(self) -> str:
        index = self.rng.randrange(self.teams)
        return self.rng.choice(
            [f"soak-{index:03d}-pm-0"] + [f"soak-{index:03d}-dev-{i}" for i in range(STEADY_DEVS)]
        )

    async def kill(self) -> None:
        agent = await self.kube.get(Resource.AGENTS, self._target(), NAMESPACE)
        pid = (agent.get("status") or {}).get("pid")
        if pid:
            os.kill(int(pid), signal.SIGKILL)

    async def message(self) -> None:
        name = f"soak-m{len(self.sent):05d}"
        text = f"{name}: please look at ticket {self.rng.randrange(10_000)} and report back"
        body = {
            "apiVersion": "orchestrator.tmux.dev/v1alpha1",
            "kind": "AgentMessage",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"agent": self._target(), "text": text},
        }
        self.sent[name] = text  # before the call: a create that reached the server but not us still counts
        try:
            await self.kube.create(Resource.AGENT_MESSAGES, body, NAMESPACE)
        except Exception:
            try:
                await self.kube.get(Resource.AGENT_MESSAGES, name, NAMESPACE)
            except Exception:
                del self.sent[name]  # never created: not a message
                raise

    async def scale(self) -> None:
        index = self.rng.randrange(self.teams)
        now = self.replicas.get(index, TEAM_SIZE - 1)
        wanted = self.rng.choice([r for r in range(STEADY_DEVS, TEAM_SIZE) if r != now])
        await self._patch_dev(index, {"replicas": wanted})
        self.replicas[index] = wanted

    async def template(self) -> None:
        self.generation += 1
        await self._patch_dev(
            self.rng.randrange(self.teams), {"env": [{"name": "GEN", "value": str(self.generation)}]}
        )

    async def _patch_dev(self, index: int, change: dict[str, Any]) -> None:
        name = f"soak-{index:03d}"
        current = await self.kube.get(Resource.AGENT_TEAMS, name, NAMESPACE)
        members = current["spec"]["members"]
        for member in members:
            if member["name"] == "dev":
                member.update(change)
        await self.kube.patch(Resource.AGENT_TEAMS, name, {"spec": {"members": members}}, NAMESPACE)


async def expected_agents(kube: Kube, teams: int) -> set[str]:
    names = set()
    for index in range(teams):
        spec = (await kube.get(Resource.AGENT_TEAMS, f"soak-{index:03d}", NAMESPACE))["spec"]
        for member in spec["members"]:
            names |= {f"soak-{index:03d}-{member['name']}-{i}" for i in range(member["replicas"])}
    return names


async def settle(kube: Kube, teams: int, sent: dict[str, str], timeout: float) -> tuple[list[Any], list[Any]]:
    """Agents and messages once every declared agent is Running and ready and every message is final (or
    `timeout` passed)."""
    deadline = time.monotonic() + timeout
    while True:
        agents, _ = await kube.list(Resource.AGENTS, NAMESPACE)
        messages, _ = await kube.list(Resource.AGENT_MESSAGES, NAMESPACE)
        wanted = await expected_agents(kube, teams)
        running = {
            a["metadata"]["name"]
            for a in agents
            if (a.get("status") or {}).get("phase") == "Running" and (a.get("status") or {}).get("ready")
        }
        final = {
            m["metadata"]["name"]
            for m in messages
            if (m.get("status") or {}).get("phase") in ("Delivered", "Failed", "Expired")
        }
        if (wanted <= running and set(sent) <= final) or time.monotonic() > deadline:
            return agents, messages
        await asyncio.sleep(5)


def windows_by_uid(sockets: list[str]) -> Counter[str]:
    uids: Counter[str] = Counter()
    for socket in sockets:
        out = tmux(socket, "list-panes", "-a", "-F", "#{@orchestrator-agent-uid}").stdout
        uids.update(line for line in out.splitlines() if line)
    return uids


def received_counts(logs: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in logs.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            text = json.loads(line).get("text", "")
            if text.startswith("soak-m"):
                counts[text.split(":", 1)[0]] += 1
    return counts


async def soak(
    cluster: LocalCluster,
    processes: dict[str, ProjectProcess],
    sockets: list[str],
    logs: Path,
    args: argparse.Namespace,
) -> dict[str, Any]:
    teams = args.agents // TEAM_SIZE
    kube = await connect(str(cluster.kubeconfig))
    async with kube:
        apply_all(cluster, [team(i, logs) for i in range(teams)])
        await settle(kube, teams, {}, timeout=900)
        started = time.monotonic()
        await asyncio.sleep(args.warmup_minutes * 60)  # the warm-up: caches filled, first statuses written
        rss_start = {name: rss_mb(p.process.pid) for name, p in processes.items() if p.process}
        churn = Churn(kube, teams, random.Random(args.seed))
        churn_seconds = args.minutes * 60
        churn_start = time.monotonic()
        writes_before, writes_segments, restarted = api_writes(cluster), 0.0, False
        while (elapsed := time.monotonic() - churn_start) < churn_seconds:
            if not restarted and elapsed >= churn_seconds / 2:
                writes_segments += api_writes(cluster) - writes_before
                await asyncio.to_thread(restart_component, cluster, "kube-apiserver")
                writes_before, restarted = 0.0, True  # its counters start again from 0
            await churn.tick()
            await asyncio.sleep(args.tick)
        writes = writes_segments + api_writes(cluster) - writes_before
        rss_end = {name: rss_mb(p.process.pid) for name, p in processes.items() if p.process}
        agents, messages = await settle(kube, teams, churn.sent, timeout=args.settle_minutes * 60)
        wanted = await expected_agents(kube, teams)
    by_name = {a["metadata"]["name"]: a for a in agents}
    not_running = sorted(
        name
        for name in wanted
        if (by_name.get(name, {}).get("status") or {}).get("phase") != "Running"
        or not (by_name.get(name, {}).get("status") or {}).get("ready")
    )
    windows = windows_by_uid(sockets)
    uids = {a["metadata"]["uid"] for a in agents}
    phases = Counter(
        (m.get("status") or {}).get("phase") or "Pending"
        for m in messages
        if m["metadata"]["name"] in churn.sent
    )
    phase_of = {m["metadata"]["name"]: (m.get("status") or {}).get("phase") or "Pending" for m in messages}
    delivered = {
        m["metadata"]["name"] for m in messages if (m.get("status") or {}).get("phase") == "Delivered"
    }
    received = received_counts(logs)
    reasons = Counter(
        (m.get("status") or {}).get("reason")
        for m in messages
        if m["metadata"]["name"] in churn.sent and (m.get("status") or {}).get("phase") == "Failed"
    )
    return {
        "agents": len(wanted),
        "teams": teams,
        "nodes": args.nodes,
        "churn_minutes": args.minutes,
        "warmup_minutes": args.warmup_minutes,
        "wall_minutes": round((time.monotonic() - started) / 60, 1),
        "actions": dict(churn.actions),
        "actions_failed": dict(churn.failed),
        "agents_lost": len(not_running),
        "agents_lost_names": not_running[:20],
        "agents_extra": sorted(set(by_name) - wanted)[:20],
        "windows_duplicated": sum(1 for uid, n in windows.items() if n > 1),
        "windows_without_agent": sum(n for uid, n in windows.items() if uid not in uids),
        "messages_sent": len(churn.sent),
        "message_phases": dict(phases),
        "failed_reasons": {str(k): v for k, v in reasons.items()},
        "messages_not_final": sorted(n for n in churn.sent if phase_of.get(n, "Pending") == "Pending")[:20],
        "messages_delivered_not_received": sorted(n for n in delivered if received[n] == 0),
        "messages_received_twice": sorted(n for n, count in received.items() if count > 1),
        "rss_mb_after_warmup": {k: round(v, 1) for k, v in rss_start.items()},
        "rss_mb_end_of_churn": {k: round(v, 1) for k, v in rss_end.items()},
        "rss_growth_percent": {k: round(100 * (rss_end[k] - v) / v, 1) for k, v in rss_start.items() if v},
        "api_writes": writes,
        "api_writes_per_agent_per_minute": round(writes / len(wanted) / args.minutes, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=200, help="fake agents (teams of 10)")
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=30.0, help="churn duration")
    parser.add_argument("--warmup-minutes", type=float, default=2.0)
    parser.add_argument("--settle-minutes", type=float, default=5.0)
    parser.add_argument("--tick", type=float, default=2.0, help="seconds between churn actions")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    capacity = args.agents // args.nodes + 2 * TEAM_SIZE  # room for whole teams and surges
    with tempfile.TemporaryDirectory(prefix="tmo-soak-") as tmp, cluster_with_crds(Path(tmp)) as cluster:
        work = Path(tmp)
        logs = work / "received"
        logs.mkdir()
        sockets = [f"tmo-soak-{index}" for index in range(args.nodes)]
        processes = {
            f"node-agent-{index}": start_sidecar(
                cluster.kubeconfig,
                f"soak-{index}",
                socket,
                work,
                "--node-label",
                f"orchestrator.tmux.dev/pool={POOL}",
                "--capacity",
                str(capacity),
                "--observe-interval",
                "1",
            )
            for index, socket in enumerate(sockets)
        }
        processes["operator"] = start_operator(cluster.kubeconfig, work)
        try:
            result = asyncio.run(soak(cluster, processes, sockets, logs, args))
        finally:
            for process in processes.values():
                process.stop()
            for socket in sockets:
                tmux(socket, "kill-server")
    write_result("soak", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
