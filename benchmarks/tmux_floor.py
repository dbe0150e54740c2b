"""The physical floor of a fleet start: the same fake agents started straight into tmux, no orchestration.

`servers` tmux servers (one per node agent in the orchestrated run), one session per team, one
`new-window` per agent (all of a server's in one pipelined batch, all servers at once), then waiting
until every agent's screen reads ready with the same profile the node agent uses. What is left is tmux
forking the agents and the agents starting on the cores; anything an orchestrated start takes beyond this
is the orchestration's cost.

    .venv/bin/python benchmarks/tmux_floor.py [--teams 100] [--agents-per-team 10] [--servers 10]
        [--agent-nice N] [--agent-cpu-weight W]

`--agent-nice N` and `--agent-cpu-weight W` put each agent at nice N and into its server's agent cpu
cgroup of weight W right after its window is created, as a node agent started with those options does
(tmux_sidecar.node.priority; one group per server as per node agent), so that the floor and the
orchestrated start run their agents at the same priority against the rest of the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from typing import Any

from tmux_sidecar.node.cpu_group import AgentCpuGroup
from tmux_sidecar.node.priority import AgentPriority
from tmux_sidecar.profiles import CLAUDE_CODE
from tmux_sidecar.tmux.commands import PaneRef
from tmux_sidecar.tmux.control import ControlClient
from tmux_sidecar.tmux.snapshot import AGENT_UID_OPTION, PaneInfo, take_snapshot

SOCKET_PREFIX = f"tmo-bench-floor-{os.getpid()}"  # two runs at once must not share servers
_POLL = 0.2


def _is_agent(pane: PaneInfo) -> bool:
    return pane.agent_uid is not None


def fake_agent_argv() -> list[str]:
    """What the orchestrated run starts for a fake agent (`tmux-orchestrator fake-agent` of this venv)."""
    program = shutil.which("tmux-orchestrator", path=os.path.dirname(sys.executable)) or "tmux-orchestrator"
    return [program, "fake-agent"]


async def _start_server(
    index: int, teams: list[int], agents_per_team: int, priority: AgentPriority
) -> tuple[ControlClient, int]:
    """One server's agents, every `new-window` (and every tag) in one pipelined batch: the fastest way tmux
    offers. Plain tmux commands only, so that the floor is the same whatever version of the project runs."""
    client = await ControlClient.connect(f"{SOCKET_PREFIX}-{index}", config_file="/dev/null")
    argv = fake_agent_argv()
    windows: list[tuple[str, ...]] = []
    started = ("new-window", "-d", "-P", "-F", "#{pane_pid}")  # each prints its agent's pid
    bootstraps = []
    for team in teams:
        session = f"team-{team:03d}"
        bootstraps.append(await client.new_session(session, window_name="bootstrap"))
        windows += [
            (*started, "-t", f"={session}:", "-n", f"agent-{member}", "-e", "KUBECONFIG=", *argv)
            for member in range(agents_per_team)
        ]
    created = await client.run_many(windows)
    failed = [result for result in created if result.failed]
    if failed:
        raise RuntimeError(f"floor: {len(failed)} windows not created: {failed[0].lines}")
    for result in created:
        priority.apply(PaneRef("", "", int(result.lines[0])))  # nothing when both are 0
    await client.run_many([("kill-window", "-t", ref.window_id) for ref in bootstraps])
    # Tag every agent pane so that the readiness check tells them from the control session's pane.
    panes = await client.list_panes("#{window_id} #{session_name}")
    tags = [
        ("set-option", "-w", "-t", window_id, AGENT_UID_OPTION, window_id)
        for window_id, session in (line.split(" ") for line in panes)
        if session.startswith("team-")
    ]
    await client.run_many(tags)
    return client, len(created)


async def _ready_pids(client: ControlClient) -> list[int]:
    """The pids of the agents whose screen reads ready."""
    snapshot = await take_snapshot(client, capture=_is_agent)
    ready = []
    for pane in snapshot.panes:
        reading = snapshot.pane_snapshot(pane.pane_id)
        if reading is not None and pane.pid is not None and CLAUDE_CODE.classify(reading).ready:
            ready.append(pane.pid)
    return ready


def _wait_gone(pids: list[int], timeout: float = 60.0) -> None:
    """Until the agents of the floor have exited (they must not compete with the run after this one)."""
    deadline = time.monotonic() + timeout
    while any(os.path.exists(f"/proc/{pid}") for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)


async def measure_floor(
    teams: int,
    agents_per_team: int,
    servers: int,
    timeout: float = 600.0,
    *,
    agent_nice: int = 0,
    agent_cpu_weight: int = 0,
) -> dict[str, Any]:
    """Start every agent straight into tmux; seconds until all of them read ready. Servers killed after."""
    started = time.monotonic()
    load = os.getloadavg()
    clients: list[ControlClient] = []
    pids: list[int] = []
    groups = [AgentCpuGroup.prepare(agent_cpu_weight, f"floor-{index}") for index in range(servers)]
    try:
        assigned = [[t for t in range(teams) if t % servers == s] for s in range(servers)]
        results = await asyncio.gather(
            *(
                _start_server(s, assigned[s], agents_per_team, AgentPriority(agent_nice, groups[s]))
                for s in range(servers)
            )
        )
        clients = [client for client, _ in results]
        windows_created = time.monotonic() - started
        total = sum(count for _, count in results)
        while True:
            pids = [pid for ready in await asyncio.gather(*map(_ready_pids, clients)) for pid in ready]
            ready = len(pids)
            if ready >= total:
                break
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"floor: only {ready} of {total} agents ready")
            await asyncio.sleep(_POLL)
        all_ready = time.monotonic() - started
    finally:
        for client in clients:
            await client.close()
        for index in range(servers):
            subprocess.run(
                ["tmux", "-L", f"{SOCKET_PREFIX}-{index}", "kill-server"], capture_output=True, check=False
            )
        _wait_gone(pids)
        for group in groups:
            group.remove()
    return {
        "agents": total,
        "servers": servers,
        "agent_nice": agent_nice,
        "agent_cpu_weight": agent_cpu_weight if groups[0].group else 0,
        "load_average_at_start": [round(x, 2) for x in load],
        "windows_created_seconds": round(windows_created, 1),
        "all_ready_seconds": round(all_ready, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--agents-per-team", type=int, default=10)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--agent-nice", type=int, default=0, help="each agent's nice (0: as tmux starts it)")
    parser.add_argument(
        "--agent-cpu-weight", type=int, default=0, help="the agents' cpu cgroup weight (0: none)"
    )
    args = parser.parse_args()
    result = asyncio.run(
        measure_floor(
            args.teams,
            args.agents_per_team,
            args.servers,
            agent_nice=args.agent_nice,
            agent_cpu_weight=args.agent_cpu_weight,
        )
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
