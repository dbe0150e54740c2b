"""What CPU priority an agent's processes get: below their supervision (pure; node.priority applies it).

An agent runs builds and test suites; the node agent beside it detects exits, restarts, reports crashes and
types messages, and the tmux server carries all of it. Like a kubelet's reserved share for the node's own
daemons, the agents yield the CPU to them: every thread of an agent's process tree gets `nice` (children
forked later inherit it). Where the kernel schedules by autogroups (`sched_autogroup_enabled`, the default
on many distributions) CPU is shared between *sessions* first and tmux makes every pane a session of its
own, so a thread's nice only orders threads within the agent's session; the session's own nice
(`/proc/PID/autogroup`) is what puts it behind the node agent. Autogroups apply only to processes in the
root cpu cgroup: inside a Kubernetes pod they do not, and the threads' nice is what counts there.

A pane's process starts its session (setsid, in tmux's forked child) a moment after tmux reports its pid;
under load the node agent can look first. Until then the process is in the *tmux server's* session, whose
autogroup must never be touched: a session is written only through a process of the agent's tree that
leads it, and a pane process not yet leading its own is looked at again shortly (`SESSION_RETRY_DELAYS`).
"""

from __future__ import annotations

import enum
import errno
from collections.abc import Sequence
from dataclasses import dataclass

from tmux_orchestrator.core.cpu_group import cpu_cgroup_path

MAX_NICE = 19
# Seconds between looks at a pane process that has not started its session yet: tmux's child runs setsid
# first thing, so this is a wait for a core (seconds only on a machine starting a thousand agents at once).
SESSION_RETRY_DELAYS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0)


class PriorityStep(enum.Enum):
    """The two things applied to an agent, each of which can fail on its own (and is logged once)."""

    THREAD_NICE = "nice of the agent's threads"
    AUTOGROUP_NICE = "nice of the agent's session (autogroup)"
    SESSION_LATE = "nice of the agent's session, which it had not started yet"
    CPU_GROUP = "cpu cgroup of the agents"


@dataclass(frozen=True)
class ProcEntry:
    """One process of an agent's tree as /proc shows it."""

    pid: int
    threads: tuple[int, ...]
    autogroup: str | None  # /proc/PID/autogroup, e.g. "/autogroup-42 nice 0"; None without one
    cgroups: str | None  # /proc/PID/cgroup; None if unreadable
    session: int | None  # the session id (/proc/PID/stat); None if unreadable


@dataclass(frozen=True)
class PriorityPlan:
    """What to write: `nice` for each of `threads`, and the autogroup nice through each of `autogroup_pids`
    (one process per session of the tree that is not at it yet). `session_pending`: the pane's process has
    not started its own session yet; look again shortly (its autogroup is still the tmux server's)."""

    nice: int
    threads: tuple[int, ...] = ()
    autogroup_pids: tuple[int, ...] = ()
    session_pending: bool = False


def check_agent_nice(nice: int) -> int:
    """The node agent's option: 0 (off) up to 19. A negative value would put agents ahead of their own
    supervision (and needs privileges the node agent should not have): a clear error instead."""
    if not 0 <= nice <= MAX_NICE:
        raise ValueError(f"agent nice must be between 0 (off) and {MAX_NICE}, got {nice}")
    return nice


def plan_agent_priority(nice: int, processes: Sequence[ProcEntry], autogroups_enabled: bool) -> PriorityPlan:
    """The writes that put `processes` (an agent's tree, the pane's process first) at `nice`; nothing when
    `nice` is 0 (off). Only sessions led by a process of the tree are the agent's own."""
    if nice == 0:
        return PriorityPlan(nice)
    threads = tuple(tid for process in processes for tid in process.threads)
    leaders = {process.pid for process in processes if process.session == process.pid}
    sessions: dict[str, int] = {}  # autogroup name → one pid in it
    pending = False
    for index, process in enumerate(processes):
        if process.autogroup is None or not autogroups_enabled or not in_root_cpu_cgroup(process.cgroups):
            continue
        if process.session not in leaders:  # a session the agent does not lead: tmux's, or not yet its own
            pending = pending or index == 0
            continue
        group, current = parse_autogroup(process.autogroup)
        if current != nice:
            sessions.setdefault(group, process.pid)
    return PriorityPlan(nice, threads, tuple(sessions.values()), pending)


def failure_hint(step: PriorityStep, code: int | None) -> str:
    """Why writing `step` failed with errno `code`, in words for the log."""
    if step is PriorityStep.AUTOGROUP_NICE and code == errno.EAGAIN:
        return "the kernel lets a writer without CAP_SYS_ADMIN change one autogroup per 100 ms"
    if step is PriorityStep.CPU_GROUP:
        return "the agent stays in the node agent's cpu cgroup, at its nice"
    if step is PriorityStep.SESSION_LATE:
        return f"no session of its own {sum(SESSION_RETRY_DELAYS):g} s after its start; its threads are niced"
    if code in (errno.EPERM, errno.EACCES):
        return (
            "a nice below the one a process runs at needs CAP_SYS_NICE; another user's process is off limits"
        )
    return "unexpected"


def parse_autogroup(text: str) -> tuple[str, int | None]:
    """("/autogroup-42", 0) from "/autogroup-42 nice 0"."""
    fields = text.split()
    group = fields[0] if fields else ""
    if len(fields) >= 3 and fields[1] == "nice" and fields[2].lstrip("-").isdigit():
        return group, int(fields[2])
    return group, None


def in_root_cpu_cgroup(cgroups: str | None) -> bool:
    """Whether a process with this /proc/PID/cgroup is scheduled by autogroups: only in the root cpu
    cgroup (v1: the hierarchy with the `cpu` controller; v2: the unified one). Unknown counts as yes: the
    write is harmless where it does not apply."""
    return cgroups is None or cpu_cgroup_path(cgroups) in (None, "/")


def parse_session(stat: str) -> int | None:
    """The session id from /proc/PID/stat (field 6; the command name in field 2 may hold spaces)."""
    fields = stat.rsplit(")", 1)[-1].split()
    return int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else None


def parse_children(text: str) -> list[int]:
    """Child pids from /proc/PID/task/TID/children ("123 456 ")."""
    return [int(word) for word in text.split() if word.isdigit()]
