"""Benchmark: one observation pass over 50, 200 and 500 fake agents on one tmux server.

Compares, in the same run and on the same server:
  * control client — one persistent `tmux -C` connection: one `list-panes -a` plus pipelined `capture-pane`
    for every agent pane (tmux_sidecar.tmux.snapshot.take_snapshot), then classification of every pane;
    "incremental" passes run `--interval` seconds apart and capture only panes that printed something
    since the previous pass (the others keep their screen);
  * forked baseline — what a libtmux-style poller does: one forked `tmux list-panes -a`, then for every
    pane one forked `tmux display-message` (process facts) and one forked `tmux capture-pane`;
  * libtmux — `Server.panes` and `Pane.capture_pane()` (one fork per pane plus the listing).
Wall time and CPU time (this process + the tmux clients it forked + the tmux server) per pass.

Also measures process exit → event latency at the tmux level (tmux_sidecar.tmux.events.ExitWatcher): a
fake agent is SIGKILLed and the time until its PaneExited event arrives is recorded, with the watcher's
SIGCHLD nudges (default) and without them (plain tmux, to show why they exist).

    .venv/bin/python benchmarks/sidecar_observe.py [--panes 50,200,500] [--passes 10] [--kills 100]

Prints a markdown table and writes JSON to benchmarks/results/sidecar_observe.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tmux_sidecar.profiles import CLAUDE_CODE
from tmux_sidecar.readings import ScreenReadings
from tmux_sidecar.tmux.control import ControlClient, PaneRef
from tmux_sidecar.tmux.events import ExitWatcher, PaneExited
from tmux_sidecar.tmux.snapshot import (
    AGENT_UID_OPTION,
    PANE_FORMAT,
    PaneInfo,
    ServerSnapshot,
    parse_panes,
    take_snapshot,
)

SESSION = "bench"
RESULTS = Path(__file__).resolve().parent / "results" / "sidecar_observe.json"
FACTS_FORMAT = "#{pane_id} #{pane_pid} #{pane_dead} #{pane_dead_status} #{pane_current_command}"
# A mix of screens: mostly idle, some busy (their spinner redraws every second), some asking for approval.
STATES = ["idle", "idle", "busy", "approve"]


@dataclass(frozen=True)
class Timing:
    wall_ms: float
    cpu_ms: float  # this process + forked tmux clients + the tmux server


@dataclass(frozen=True)
class Summary:
    passes: int
    wall_ms_median: float
    wall_ms_p90: float
    cpu_ms_median: float


def summarize(timings: Sequence[Timing]) -> Summary:
    walls = sorted(t.wall_ms for t in timings)
    return Summary(
        passes=len(timings),
        wall_ms_median=round(statistics.median(walls), 2),
        wall_ms_p90=round(walls[min(len(walls) - 1, int(len(walls) * 0.9))], 2),
        cpu_ms_median=round(statistics.median(t.cpu_ms for t in timings), 2),
    )


def server_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_now(server_pid: int) -> float:
    own = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + children.ru_utime + children.ru_stime + server_cpu_seconds(server_pid)


async def measure_async(server_pid: int, work: Callable[[], Any]) -> Timing:
    cpu, wall = cpu_now(server_pid), time.perf_counter()
    await work()
    return Timing(round((time.perf_counter() - wall) * 1000, 2), round((cpu_now(server_pid) - cpu) * 1000, 2))


def measure_sync(server_pid: int, work: Callable[[], Any]) -> Timing:
    cpu, wall = cpu_now(server_pid), time.perf_counter()
    work()
    return Timing(round((time.perf_counter() - wall) * 1000, 2), round((cpu_now(server_pid) - cpu) * 1000, 2))


def is_agent(pane: PaneInfo) -> bool:
    return pane.agent_uid is not None


async def control_pass(
    client: ControlClient, previous: ServerSnapshot | None = None, readings: ScreenReadings | None = None
) -> ServerSnapshot:
    """An observation pass as the node agent runs it: snapshot, then every agent pane read (panes whose
    screen and process are unchanged since `previous` keep their reading); without `previous` a full one."""
    readings = readings if readings is not None else ScreenReadings()  # an empty one is falsy
    snapshot = await take_snapshot(client, capture=is_agent, previous=previous)
    for pane in snapshot.panes:
        pane_snapshot = snapshot.pane_snapshot(pane.pane_id)
        if pane_snapshot is not None:
            readings.classify(pane.pane_id, CLAUDE_CODE, pane_snapshot)
    return snapshot


async def incremental_passes(
    client: ControlClient, passes: int, interval: float, *, keep_readings: bool = True
) -> list[Timing]:
    """Passes `interval` seconds apart, each reusing the screens of agents that printed nothing since and
    (with `keep_readings`, as the node agent does since issue 16) their readings; without it every pane is
    read again each pass, as before."""
    timings = []
    readings = ScreenReadings()
    previous = await control_pass(client, readings=readings)
    for _ in range(passes):
        await asyncio.sleep(interval)
        cpu, wall = cpu_now(client.info.pid), time.perf_counter()
        previous = await control_pass(client, previous, readings if keep_readings else None)
        timings.append(
            Timing(
                round((time.perf_counter() - wall) * 1000, 2),
                round((cpu_now(client.info.pid) - cpu) * 1000, 2),
            )
        )
    return timings


async def listing_comparison(client: ControlClient, passes: int, interval: float) -> dict[str, Any]:
    """The `list-panes` part of a pass, two ways taken in turns (so both see the same load): every pane's
    foreground command read by tmux and every record parsed (as before issue 16's third item), and only
    those of panes that printed something since the previous pass (`pane_format`, records kept)."""
    try:
        from tmux_sidecar.pane import pane_format, parse_pane_records
    except ImportError:  # the code before: only the first way exists
        return {}
    previous = await take_snapshot(client, capture=is_agent)
    every: list[float] = []
    changed: list[float] = []
    for _ in range(passes):
        await asyncio.sleep(interval)
        quiet_before = int(previous.taken_at)
        for timings, way in ((every, "every"), (changed, "changed")):
            wall = time.perf_counter()
            if way == "every":
                parse_panes(await client.list_panes(PANE_FORMAT))
            else:
                listing = await client.list_panes(pane_format(quiet_before))
                parse_pane_records(listing, previous.by_id, previous.records)
            timings.append((time.perf_counter() - wall) * 1000)
        previous = await take_snapshot(client, capture=is_agent, previous=previous)
    return {
        "passes": passes,
        "every_pane_ms_p50": round(statistics.median(every), 2),
        "changed_panes_only_ms_p50": round(statistics.median(changed), 2),
    }


def forked_pass(socket_args: Sequence[str]) -> int:
    tmux = ["tmux", *socket_args]
    listing = subprocess.run(
        [*tmux, "list-panes", "-a", "-F", f"#{{pane_id}} #{{{AGENT_UID_OPTION}}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    pane_ids = [line.split(" ")[0] for line in listing if line.split(" ", 1)[1]]
    for pane_id in pane_ids:
        facts = [*tmux, "display-message", "-p", "-t", pane_id, FACTS_FORMAT]
        subprocess.run(facts, capture_output=True, text=True, check=True)
        subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", pane_id], capture_output=True, text=True, check=True
        )
    return len(pane_ids)


def libtmux_pass(socket_name: str) -> int:
    import libtmux

    server = libtmux.Server(socket_name=socket_name)
    count = 0
    for pane in server.panes:
        if pane.session_name == SESSION and (pane.window_name or "").startswith("agent-"):
            pane.capture_pane()
            count += 1
    return count


async def add_agents(client: ControlClient, start: int, stop: int) -> list[PaneRef]:
    refs = []
    for index in range(start, stop):
        state = STATES[index % len(STATES)]
        command = [sys.executable, "-m", "tmux_sidecar.fake_agent", "--step", state]
        refs.append(
            await client.new_window(
                SESSION, f"agent-{index}", command, user_options={AGENT_UID_OPTION: f"uid-{index}"}
            )
        )
    return refs


async def wait_until_drawn(client: ControlClient, count: int, timeout: float = 600) -> None:
    """Until every agent shows its screen (they start in parallel; on 2 cores that takes a while)."""
    deadline = time.monotonic() + timeout
    while True:
        snapshot = await take_snapshot(client, capture=is_agent)
        drawn = sum(1 for lines in snapshot.screens.values() if any("─" in line for line in lines))
        if drawn >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {drawn} of {count} fake agents drew their screen")
        await asyncio.sleep(1)


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def exit_latencies(
    client: ControlClient, pids: dict[str, int], kills: int, nudge: bool
) -> dict[str, Any]:
    """SIGKILL `kills` idle agents (pane id → pid) one after another; the time until each PaneExited event.

    Each killed agent is respawned, and `pids` updated, before the next kill. `nudge` False turns off the
    watcher's SIGCHLD nudges (pidfd and periodic), which shows what plain tmux does.
    """
    latencies: list[float] = []
    missed = 0
    settings: dict[str, Any] = {} if nudge else {"reaper_interval": None, "watch_pids": False}
    async with ExitWatcher(client, **settings) as watcher:
        await asyncio.sleep(0.5)  # let the replay of earlier exits pass
        while True:
            try:
                await watcher.next_event(0.2)
            except TimeoutError:
                break
        for pane_id in list(pids)[:kills]:
            killed_at = time.perf_counter()
            os.kill(pids[pane_id], signal.SIGKILL)
            try:
                while True:
                    event = await watcher.next_event(3.0)
                    if isinstance(event, PaneExited) and event.pane.pane_id == pane_id:
                        latencies.append((time.perf_counter() - killed_at) * 1000)
                        break
            except TimeoutError:
                missed += 1
                client.nudge_reaper()  # collect it now so it does not count for the next kill
            respawned = await client.respawn_pane(pane_id, [sys.executable, "-m", "tmux_sidecar.fake_agent"])
            assert respawned.pid is not None
            pids[pane_id] = respawned.pid
            await asyncio.sleep(0.05)
    result: dict[str, Any] = {"samples": len(latencies), "missed_within_3s": missed}
    if latencies:
        result |= {
            "p50_ms": round(percentile(latencies, 0.5), 2),
            "p90_ms": round(percentile(latencies, 0.9), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "max_ms": round(max(latencies), 2),
            "over_50ms": sum(1 for value in latencies if value > 50),
        }
    return result


async def nudge_cost(client: ControlClient, seconds: float = 5.0) -> dict[str, float]:
    """tmux server CPU per second while idle, without and with an ExitWatcher (its periodic nudge)."""
    pid = client.info.pid
    before = server_cpu_seconds(pid)
    await asyncio.sleep(seconds)
    without = (server_cpu_seconds(pid) - before) / seconds
    async with ExitWatcher(client):
        before = server_cpu_seconds(pid)
        await asyncio.sleep(seconds)
        with_nudge = (server_cpu_seconds(pid) - before) / seconds
    return {
        "server_cpu_ms_per_s_without": round(without * 1000, 2),
        "with_nudge": round(with_nudge * 1000, 2),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    counts = sorted(int(n) for n in args.panes.split(","))
    socket_name = f"tmo-bench-{os.getpid()}"
    results: dict[str, Any] = {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load": os.getloadavg()},
        "observation": [],
    }
    client = await ControlClient.connect(socket_name, config_file="/dev/null")
    try:
        results["machine"]["tmux"] = client.info.version
        await client.new_session(SESSION, width=120, height=40)
        refs: list[PaneRef] = []
        for count in counts:
            refs += await add_agents(client, len(refs), count)
            await wait_until_drawn(client, count)
            await asyncio.sleep(1)
            pid = client.info.pid
            control = [await measure_async(pid, lambda: control_pass(client)) for _ in range(args.passes)]
            incremental = await incremental_passes(client, args.passes, args.interval)
            rereading = await incremental_passes(client, args.passes, args.interval, keep_readings=False)
            listing = await listing_comparison(client, args.passes, args.interval)
            forked = [
                measure_sync(pid, lambda: forked_pass(client.socket_args))
                for _ in range(args.baseline_passes)
            ]
            libtmux = [
                measure_sync(pid, lambda: libtmux_pass(socket_name)) for _ in range(args.baseline_passes)
            ]
            assert (
                len((await control_pass(client)).screens)
                == count
                == forked_pass(client.socket_args)
                == libtmux_pass(socket_name)
            )
            ours, theirs = summarize(control), summarize(forked)
            row = {
                "panes": count,
                "control_client": asdict(ours),
                "control_client_incremental": asdict(summarize(incremental)),
                "incremental_reading_every_pane": asdict(summarize(rereading)),
                "listing": listing,
                "forked_baseline": asdict(theirs),
                "libtmux": asdict(summarize(libtmux)),
                "wall_speedup_vs_forked": round(theirs.wall_ms_median / ours.wall_ms_median, 1),
                "cpu_saving_vs_forked": round(theirs.cpu_ms_median / max(0.01, ours.cpu_ms_median), 1),
            }
            results["observation"].append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        idle = {ref.pane_id: ref.pid for i, ref in enumerate(refs) if STATES[i % len(STATES)] == "idle"}
        pids = {pane_id: pid for pane_id, pid in idle.items() if pid is not None}
        for key, nudge in (("exit_latency", True), ("exit_latency_without_nudges", False)):
            results[key] = await exit_latencies(client, pids, args.kills, nudge)
            print(json.dumps(results[key]), file=sys.stderr, flush=True)
        results["nudge_cost"] = await nudge_cost(client)
    finally:
        await client.close()
        subprocess.run(["tmux", "-L", socket_name, "kill-server"], capture_output=True, check=False)
        tmux_dir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (tmux_dir / socket_name).unlink(missing_ok=True)  # tmux leaves the socket file behind
    return results


def markdown(results: dict[str, Any]) -> str:
    lines = [
        f"`{results['command']}` — tmux {results['machine']['tmux']}, {results['machine']['cpus']} CPUs, "
        f"load {', '.join(f'{x:.1f}' for x in results['machine']['load'])}",
        "",
        "| panes | control client: full pass wall ms (p50 / p90) | CPU ms | incremental pass wall ms "
        "| CPU ms | incremental, every pane read again (before) wall ms | CPU ms "
        "| forked per pane wall ms | CPU ms | libtmux wall ms | CPU ms | wall speed-up | CPU saving |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["observation"]:
        c, f, lib = row["control_client"], row["forked_baseline"], row["libtmux"]
        inc = row["control_client_incremental"]
        old = row["incremental_reading_every_pane"]
        lines.append(
            f"| {row['panes']} | {c['wall_ms_median']} / {c['wall_ms_p90']} | {c['cpu_ms_median']} "
            f"| {inc['wall_ms_median']} / {inc['wall_ms_p90']} | {inc['cpu_ms_median']} "
            f"| {old['wall_ms_median']} / {old['wall_ms_p90']} | {old['cpu_ms_median']} "
            f"| {f['wall_ms_median']} | {f['cpu_ms_median']} "
            f"| {lib['wall_ms_median']} | {lib['cpu_ms_median']} "
            f"| {row['wall_speedup_vs_forked']}x | {row['cpu_saving_vs_forked']}x |"
        )
    lines += [
        "",
        "| exit → event (SIGKILL) | samples | p50 ms | p90 ms | p99 ms | max ms | > 50 ms | missed (3 s) |",
    ]
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for key, label in (
        ("exit_latency", "ExitWatcher"),
        ("exit_latency_without_nudges", "without SIGCHLD nudges"),
    ):
        r = results[key]
        lines.append(
            f"| {label} | {r['samples']} | {r.get('p50_ms', '-')} | {r.get('p90_ms', '-')} "
            f"| {r.get('p99_ms', '-')} | {r.get('max_ms', '-')} | {r.get('over_50ms', '-')} "
            f"| {r['missed_within_3s']} |"
        )
    cost = results["nudge_cost"]
    lines += [
        "",
        f"tmux server CPU while idle: {cost['server_cpu_ms_per_s_without']} ms/s without the nudge, "
        f"{cost['with_nudge']} ms/s with it.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--panes", default="50,200,500", help="comma-separated pane counts (cumulative)")
    parser.add_argument("--passes", type=int, default=10, help="control-client passes per count")
    parser.add_argument("--baseline-passes", type=int, default=3, help="baseline passes per count")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between incremental passes")
    parser.add_argument("--kills", type=int, default=100, help="exit latency samples per setting")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
