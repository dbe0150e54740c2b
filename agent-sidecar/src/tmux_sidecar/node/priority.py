"""Putting each agent's processes below the node agent on the CPU: the /proc reads and writes of
`tmux_sidecar.priority` (which decides what to write, and says why)."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from tmux_sidecar.priority import (
    SESSION_RETRY_DELAYS,
    PriorityStep,
    ProcEntry,
    failure_hint,
    parse_children,
    parse_session,
    plan_agent_priority,
)
from tmux_sidecar.tmux.commands import PaneRef

from .cpu_group import AgentCpuGroup

log = logging.getLogger(__name__)

_PROC = Path("/proc")
_AUTOGROUP_SWITCH = _PROC / "sys" / "kernel" / "sched_autogroup_enabled"
_GONE = (FileNotFoundError, ProcessLookupError)  # the process ended meanwhile: nothing to do


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def autogroups_enabled() -> bool:
    return (_read(_AUTOGROUP_SWITCH) or "0").strip() == "1"


def read_process_tree(pid: int) -> list[ProcEntry]:
    """`pid` and its descendants (a program may have forked before we got to it), as /proc shows them."""
    facts: list[ProcEntry] = []
    pending = [pid]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        task = _PROC / str(current) / "task"
        try:
            threads = tuple(sorted(int(entry.name) for entry in task.iterdir() if entry.name.isdigit()))
        except OSError:
            continue  # ended meanwhile
        for tid in threads:
            pending += parse_children(_read(task / str(tid) / "children") or "")
        stat = _read(_PROC / str(current) / "stat")
        facts.append(
            ProcEntry(
                current,
                threads,
                _read(_PROC / str(current) / "autogroup"),
                _read(_PROC / str(current) / "cgroup"),
                parse_session(stat) if stat is not None else None,
            )
        )
    return facts


def apply_agent_priority(
    pid: int, nice: int, cpu_group: AgentCpuGroup | None = None
) -> tuple[list[tuple[PriorityStep, OSError]], bool]:
    """Move the process tree of `pid` into the agents' `cpu_group` (where there is one), then put it at
    `nice` (its threads, and its session's autogroup where that still counts). Returns what failed, one
    error per step (a process that ended meanwhile is not a failure), and whether `pid` has yet to start
    its session (then its autogroup is still to be written: call again later)."""
    failures: dict[PriorityStep, OSError] = {}
    tree = read_process_tree(pid)  # read once: the cgroup move and the nice both work from it
    in_agents_group = False  # then autogroups no longer apply to the tree (only the root cpu cgroup has them)
    if cpu_group is not None and cpu_group.group is not None:
        moved = cpu_group.enter(process.pid for process in tree)
        if moved is not None:
            failures[PriorityStep.CPU_GROUP] = moved
        in_agents_group = moved is None
    if nice == 0:
        return list(failures.items()), False
    plan = plan_agent_priority(nice, tree, autogroups_enabled() and not in_agents_group)
    for tid in plan.threads:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, plan.nice)  # a tid: on Linux nice is per thread
        except _GONE:
            continue
        except OSError as error:
            failures.setdefault(PriorityStep.THREAD_NICE, error)
    for member in plan.autogroup_pids:
        try:
            (_PROC / str(member) / "autogroup").write_text(str(plan.nice))
        except _GONE:
            continue
        except OSError as error:  # EAGAIN: the kernel rate-limits writers without CAP_SYS_ADMIN
            failures.setdefault(PriorityStep.AUTOGROUP_NICE, error)
    return list(failures.items()), plan.session_pending


class AgentPriority:
    """The node agent's `--agent-cpu-weight` and `--agent-nice`, applied to every program its tmux client
    starts (a tmux start listener: new windows, respawns after a crash or a template change)."""

    def __init__(self, nice: int, cpu_group: AgentCpuGroup | None = None) -> None:
        self.nice = nice
        self.cpu_group = cpu_group or AgentCpuGroup(None)
        self._logged: set[tuple[PriorityStep, int | None]] = set()

    def apply(self, ref: PaneRef, attempt: int = 0) -> None:
        """Never raises: an agent whose priority could not be lowered still runs (the cause logged once).
        A pane process that has not started its session yet is looked at again from the event loop."""
        if (self.nice == 0 and self.cpu_group.group is None) or ref.pid is None:
            return
        try:
            failures, pending = apply_agent_priority(ref.pid, self.nice, self.cpu_group)
        except (OSError, ValueError) as unexpected:  # /proc not as expected: say so, never stop a start
            failures, pending = [(PriorityStep.THREAD_NICE, OSError(str(unexpected)))], False
        if pending and attempt < len(SESSION_RETRY_DELAYS):
            try:
                asyncio.get_running_loop().call_later(
                    SESSION_RETRY_DELAYS[attempt], self.apply, ref, attempt + 1
                )
            except RuntimeError:  # no event loop (a one-off call): the threads are done, the session not
                failures.append((PriorityStep.SESSION_LATE, OSError("no event loop to look again")))
        elif pending:
            failures.append((PriorityStep.SESSION_LATE, OSError("still in the tmux server's session")))
        self._log_once(ref, failures)

    def _log_once(self, ref: PaneRef, failures: list[tuple[PriorityStep, OSError]]) -> None:
        for step, error in failures:
            if (step, error.errno) in self._logged:
                continue
            self._logged.add((step, error.errno))
            log.warning(
                "cannot set the %s (nice %d; pane %s, pid %d): %s (%s); such agents may delay the node"
                " agent's own work (logged once per cause)",
                step.value,
                self.nice,
                ref.pane_id,
                ref.pid,
                error,
                failure_hint(step, error.errno),
            )
