"""A cpu cgroup of its own, next to ours, for a set of processes that must weigh a chosen amount on the CPU
(pure; `tmux_orchestrator.cgroupfs` applies it).

Where the kernel schedules by autogroups (bare machines) CPU is shared between *sessions* first, and every
session weighs as much as any other: each tmux pane, each tmux server, each node agent, each component of a
local control plane. A cpu cgroup with a weight puts a set of processes at the share chosen for it instead,
whatever the number of sessions around it. The cgroup is work-conserving: its processes still get every
core nothing else wants. Two such sets: a node's agents (`tmux_sidecar.cpu_group`, together as one
session) and the local control plane (`plan_control_plane_cpu_group` below, as ten).

Only where we can write cgroups: cgroup v1's cpu hierarchy, or cgroup v2 from the root (v2 forbids
processes in a cgroup whose controllers are delegated, which our own cgroup would be). Inside a pod the
cgroup filesystem is read-only and the pod's cgroup already groups its processes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DEFAULT_WEIGHT = 100  # cgroup v2's default weight: as much as one service (or, v1, one session)
MAX_WEIGHT = 10000  # cgroup v2's range is 1-10000; v1's cpu.shares 2-262144 (1024 = weight 100)

CONTROL_PLANE_PREFIX = "tmux-orchestrator-control-plane."  # then a digest of the state directory
# Ten services' worth. A real cluster's control plane has machines of its own, and a kubelet reserves CPU
# for a node's own daemons (kube-reserved); a local one shares two cores with hundreds of agent sessions,
# each weighing as much as the whole API server, and would wait seconds for a core while they start.
CONTROL_PLANE_WEIGHT = 1000


@dataclass(frozen=True)
class CpuGroup:
    """A planned cgroup: its directory, the file and value that give it its weight, and (v2) the
    parent's `cgroup.subtree_control` that must hand the cpu controller down to it."""

    directory: str
    weight_file: str
    weight: int
    subtree_control: str | None = None


@dataclass(frozen=True)
class NoCpuGroup:
    """Why the processes stay in our own cpu cgroup (said once)."""

    reason: str


@dataclass(frozen=True)
class CgroupMount:
    """One cgroup filesystem from /proc/self/mountinfo."""

    mount_point: str
    root: str  # the cgroup path mounted there ("/" unless a cgroup namespace or a bind mount)
    version: int  # 1 or 2
    controllers: frozenset[str]  # v1: the mount's controllers; v2: empty (they live in cgroup.controllers)
    read_only: bool


def check_cpu_weight(weight: int, what: str) -> int:
    """An option's `weight`: 0 (off) or a cgroup v2 weight, 1 to 10000 (`what` names it in the error)."""
    if not 0 <= weight <= MAX_WEIGHT:
        raise ValueError(f"{what} must be between 0 (off) and {MAX_WEIGHT}, got {weight}")
    return weight


def parse_cgroup_mounts(mountinfo: str) -> list[CgroupMount]:
    """The cgroup mounts of /proc/self/mountinfo ("ID PARENT M:N ROOT POINT OPTS [TAGS] - TYPE SRC SUPER")."""
    mounts = []
    for line in mountinfo.splitlines():
        before, sep, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if not sep or len(fields) < 6 or len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2"):
            continue
        options = set(fields[5].split(",")) | set(tail[2].split(","))
        controllers = frozenset(tail[2].split(",")) if tail[0] == "cgroup" else frozenset()
        mounts.append(
            CgroupMount(fields[4], fields[3], 1 if tail[0] == "cgroup" else 2, controllers, "ro" in options)
        )
    return mounts


def cpu_cgroup_path(cgroups: str) -> str | None:
    """A process's path in the cpu hierarchy from its /proc/PID/cgroup: v1's line with the `cpu`
    controller, else v2's unified line; None when neither is there."""
    unified: str | None = None
    for line in cgroups.splitlines():
        _, controllers, path = [*line.split(":", 2), "", ""][:3]
        if "cpu" in controllers.split(","):
            return path
        if controllers == "" and line.startswith("0::"):
            unified = path
    return unified


def _directory(mount: CgroupMount, path: str) -> str:
    """Where cgroup `path` appears under `mount` (a mount of a sub-tree shows paths below its root)."""
    if mount.root != "/" and (path == mount.root or path.startswith(mount.root + "/")):
        path = path[len(mount.root) :]
    return mount.mount_point.rstrip("/") + "/" + "/".join(part for part in path.split("/") if part)


def plan_cpu_group(
    name: str, weight: int, owner: str, own_cgroups: str, mountinfo: str
) -> CpuGroup | NoCpuGroup:
    """Cgroup `name` of `weight` (1 to 10000, v2's scale) next to the cpu cgroup of `owner` (the process
    planning it, as the reasons name it), which is in `own_cgroups` (/proc/self/cgroup) on a machine with
    `mountinfo` (/proc/self/mountinfo); or why there is none."""
    mounts = parse_cgroup_mounts(mountinfo)
    v1 = next((mount for mount in mounts if mount.version == 1 and "cpu" in mount.controllers), None)
    v2 = next((mount for mount in mounts if mount.version == 2), None)
    mount = v1 or v2
    if mount is None:
        return NoCpuGroup("no cpu cgroup hierarchy is mounted")
    if mount.read_only:
        return NoCpuGroup(f"{mount.mount_point} is mounted read-only (as in a pod)")
    own = cpu_cgroup_path(own_cgroups)
    if own is None:
        return NoCpuGroup(f"{owner}'s own cpu cgroup is not in /proc/self/cgroup")
    if mount.version == 1:
        parent = _directory(mount, own)
        shares = max(2, weight * 1024 // DEFAULT_WEIGHT)
        return CpuGroup(f"{parent.rstrip('/')}/{name}", "cpu.shares", shares)
    if own != "/":
        return NoCpuGroup(
            f"cgroup v2 and {owner} runs in {own}, not the root: a child cgroup with the cpu"
            " controller would need it to leave its own (run it from the root cgroup, or in a pod)"
        )
    root = mount.mount_point.rstrip("/")
    return CpuGroup(f"{root}/{name}", "cpu.weight", weight, f"{root}/cgroup.subtree_control")


def control_plane_group_name(state_dir: str) -> str:
    """The cgroup of the local control plane kept in `state_dir` (an absolute path): one per state
    directory, so two control planes on one machine (the tests' and a developer's) never share one.
    A digest, not the path: short and safe as a directory name."""
    return CONTROL_PLANE_PREFIX + hashlib.sha256(state_dir.encode()).hexdigest()[:12]


def plan_control_plane_cpu_group(
    weight: int, state_dir: str, own_cgroups: str, mountinfo: str
) -> CpuGroup | NoCpuGroup:
    """The cpu cgroup of the control plane in `state_dir` for a process in `own_cgroups` starting it, or
    why there is none (`weight` 0: off)."""
    if weight == 0:
        return NoCpuGroup("--cpu-weight 0")
    name = control_plane_group_name(state_dir)
    return plan_cpu_group(name, weight, "this process", own_cgroups, mountinfo)
