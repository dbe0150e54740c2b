"""The cgroup filesystem side of `core.cpu_group`: create a planned cpu cgroup with its weight, move whole
processes into it, remove it once empty. Shared by the node agent (its agents' group) and the local
control plane (`devcluster`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from tmux_orchestrator.core.cpu_group import CpuGroup, NoCpuGroup

_GONE = (FileNotFoundError, ProcessLookupError)  # ESRCH: the process ended meanwhile

Planner = Callable[[str, str], CpuGroup | NoCpuGroup]  # (own /proc/self/cgroup, /proc/self/mountinfo)


def sync_cpu_group(planner: Planner) -> CpuGroup | NoCpuGroup:
    """Plan a group from where this process runs and make it exist with its weight; or why there is none
    (the plan's reason, or what the cgroup filesystem refused). Never raises."""
    try:
        plan = planner(Path("/proc/self/cgroup").read_text(), Path("/proc/self/mountinfo").read_text())
    except OSError as error:
        return NoCpuGroup(f"cannot read /proc/self: {error}")
    if isinstance(plan, NoCpuGroup):
        return plan
    try:
        apply_cpu_group(plan)
    except OSError as error:
        return NoCpuGroup(f"cannot set up {plan.directory}: {error}")
    return plan


def apply_cpu_group(group: CpuGroup) -> None:
    """Make `group` exist with its weight (v2: with the cpu controller handed down to it first)."""
    if group.subtree_control is not None:
        control = Path(group.subtree_control)
        if "cpu" not in control.read_text().split():
            control.write_text("+cpu")
    directory = Path(group.directory)
    directory.mkdir(exist_ok=True)
    (directory / group.weight_file).write_text(str(group.weight))


def enter_cpu_group(group: CpuGroup, pids: Iterable[int]) -> OSError | None:
    """Move each of `pids` into `group` (cgroup.procs: the whole process, every thread); the first error,
    if any. A process that ended meanwhile is not one; a group removed meanwhile (an empty one, by a
    cleanup) is made again."""
    procs = Path(group.directory) / "cgroup.procs"
    failure: OSError | None = None
    for pid in pids:
        try:
            try:
                procs.write_text(str(pid))
            except FileNotFoundError:
                apply_cpu_group(group)
                procs.write_text(str(pid))
        except _GONE:
            continue
        except OSError as error:
            failure = failure or error
    return failure


def remove_cpu_group(directory: str) -> OSError | None:
    """Remove the group at `directory`; what refused it, if anything (the kernel refuses while a process is
    in it). One already gone is removed."""
    try:
        Path(directory).rmdir()
    except FileNotFoundError:
        return None
    except OSError as error:
        return error
    return None
