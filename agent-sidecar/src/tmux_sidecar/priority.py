"""What CPU priority an agent's processes get: below their supervision (pure; node.priority applies it).

An agent runs builds and test suites; the node agent beside it detects exits, restarts, reports crashes and
types messages, and the tmux server carries all of it. Like a kubelet's reserved share for the node's own
daemons, the agents yield the CPU to them: every thread of an agent's process tree gets `nice` (children
forked later inherit it). Where the kernel schedules by autogroups (`sched_autogroup_enabled`, the default
on many distributions) CPU is shared between *sessions* first and tmux makes every pane a session of its
own, so a thread's nice only orders threads within the agent's session; the session's own nice
(`/proc/PID/autogroup`) is what puts it behind the node agent. Autogroups apply only to processes in the
root cpu cgroup: inside a Kubernetes pod they do not, and the threads' nice is what counts there.
"""

from __future__ import annotations

import enum
import errno
from collections.abc import Sequence
from dataclasses import dataclass

MAX_NICE = 19


class PriorityStep(enum.Enum):
    """The two things applied to an agent, each of which can fail on its own (and is logged once)."""

    THREAD_NICE = "nice of the agent's threads"
    AUTOGROUP_NICE = "nice of the agent's session (autogroup)"


@dataclass(frozen=True)
class ProcessFacts:
    """One process of an agent's tree as /proc shows it."""

    pid: int
    threads: tuple[int, ...]
    autogroup: str | None  # /proc/PID/autogroup, e.g. "/autogroup-42 nice 0"; None without one
    cgroups: str | None  # /proc/PID/cgroup; None if unreadable


@dataclass(frozen=True)
class PriorityPlan:
    """What to write: `nice` for each of `threads`, and `autogroup_nice` through each of `autogroup_pids`
    (one process per session that is not at it yet)."""

    nice: int
    threads: tuple[int, ...] = ()
    autogroup_pids: tuple[int, ...] = ()


def check_agent_nice(nice: int) -> int:
    """The node agent's option: 0 (off) up to 19. A negative value would put agents ahead of their own
    supervision (and needs privileges the node agent should not have): a clear error instead."""
    if not 0 <= nice <= MAX_NICE:
        raise ValueError(f"agent nice must be between 0 (off) and {MAX_NICE}, got {nice}")
    return nice


def plan_agent_priority(
    nice: int, processes: Sequence[ProcessFacts], autogroups_enabled: bool
) -> PriorityPlan:
    """The writes that put `processes` (an agent's tree) at `nice`; nothing when `nice` is 0 (off)."""
    if nice == 0:
        return PriorityPlan(nice)
    threads = tuple(tid for process in processes for tid in process.threads)
    sessions: dict[str, int] = {}  # autogroup name → one pid in it
    for process in processes:
        if process.autogroup is None or not autogroups_enabled or not in_root_cpu_cgroup(process.cgroups):
            continue
        group, current = parse_autogroup(process.autogroup)
        if current != nice:
            sessions.setdefault(group, process.pid)
    return PriorityPlan(nice, threads, tuple(sessions.values()))


def failure_hint(step: PriorityStep, code: int | None) -> str:
    """Why writing `step` failed with errno `code`, in words for the log."""
    if step is PriorityStep.AUTOGROUP_NICE and code == errno.EAGAIN:
        return "the kernel lets a writer without CAP_SYS_ADMIN change one autogroup per 100 ms"
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
    if cgroups is None:
        return True
    unified: str | None = None
    for line in cgroups.splitlines():
        _, controllers, path = [*line.split(":", 2), "", ""][:3]
        if "cpu" in controllers.split(","):
            return path == "/"
        if controllers == "":
            unified = path
    return unified in (None, "/")


def parse_children(text: str) -> list[int]:
    """Child pids from /proc/PID/task/TID/children ("123 456 ")."""
    return [int(word) for word in text.split() if word.isdigit()]
