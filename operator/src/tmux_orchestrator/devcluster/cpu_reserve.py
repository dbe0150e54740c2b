"""The local control plane's reserved CPU: etcd, kube-apiserver and kube-controller-manager in one cpu cgroup
of their own with a weight (default 1000: ten services' worth), next to the cgroup of the process starting
them.

In a real cluster the control plane has machines of its own, and a kubelet reserves CPU for a node's own
daemons (kube-reserved). Here it shares the machine with every agent: where the kernel schedules by
autogroups each agent pane, tmux server and node agent is a session weighing as much as the whole API
server, and while hundreds of agents start the API server waits seconds for a core. Where the group cannot
be made (not root, a read-only cgroup filesystem, cgroup v2 away from the root) this is said once and the
control plane runs where it was started. The decisions are `core.cpu_group`'s.
"""

from __future__ import annotations

import errno
import time
from pathlib import Path

from tmux_orchestrator.cgroupfs import enter_cpu_group, remove_cpu_group, sync_cpu_group
from tmux_orchestrator.core.cpu_group import CpuGroup, NoCpuGroup, plan_control_plane_cpu_group

from .build import Progress

_EMPTYING_SECONDS = 2.0  # how long a group may still hold a component that was just stopped

NOT_RESERVED = "the control plane shares this process's cpu cgroup"


def reserve_cpu(weight: int, state_dir: Path, progress: Progress) -> CpuGroup | None:
    """Make the cpu cgroup of the control plane in `state_dir` with `weight` (0: none); None, said once
    (unless turned off), where there is none."""
    group = sync_cpu_group(
        lambda own, mounts: plan_control_plane_cpu_group(weight, str(state_dir), own, mounts)
    )
    if isinstance(group, NoCpuGroup):
        if weight:
            progress(f"{NOT_RESERVED}: {group.reason}")
        return None
    progress(f"control plane in cpu cgroup {group.directory} ({group.weight_file} {group.weight})")
    return group


def enter_reserve(group: CpuGroup, name: str, pid: int, progress: Progress) -> CpuGroup | None:
    """Move component `name` (`pid`, every thread) into `group`; the group to use from now on: None, said
    once and the (then empty) group removed, where the cgroup filesystem refuses."""
    failure = enter_cpu_group(group, [pid])
    if failure is None:
        return group
    progress(f"{NOT_RESERVED}: cannot move {name} into {group.directory}: {failure}")
    remove_cpu_group(group.directory)
    return None


def release_reserve(group: CpuGroup, progress: Progress) -> None:
    """Remove `group` once the components that were in it are gone (the kernel refuses while one is)."""
    deadline = time.monotonic() + _EMPTYING_SECONDS
    while (failure := remove_cpu_group(group.directory)) is not None:
        if failure.errno != errno.EBUSY or time.monotonic() > deadline:
            progress(f"cpu cgroup {group.directory} left in place: {failure}")
            return
        time.sleep(0.05)
