"""Where a node agent's agents go so that together they weigh as one on the CPU (pure; node.cpu_group
applies it).

Where the kernel schedules by autogroups (bare machines), every tmux pane is a session and every session
weighs as much as the node agent, the tmux server or a local API server: fifty agents busy with builds
outweigh their own supervision fifty to one, and nice (tmux_sidecar.priority) only brings that to about
five to one. Like a kubelet's kube-reserved, the node agent instead puts its agents into one cpu cgroup
of their own, `tmux-orchestrator-agents.<node>`, next to its own, with a weight: at the default (100, the
weight of one service) a node's agents together weigh as one session against the rest. The cgroup is
work-conserving: agents still get every core nothing else wants. One group per node agent, not per
machine: several node agents on one machine (a local cluster, a benchmark) then share it as separate
machines would.

Only where the node agent can write cgroups: cgroup v1's cpu hierarchy, or cgroup v2 from the root (v2
forbids processes in a cgroup whose controllers are delegated, which the node agent's own cgroup would
be). Inside a pod the cgroup filesystem is read-only and the pod's cgroup already groups the agents.
"""

from __future__ import annotations

from dataclasses import dataclass

GROUP_PREFIX = "tmux-orchestrator-agents."  # then the node's name (DNS-1123: safe as a directory name)
DEFAULT_WEIGHT = 100  # cgroup v2's default weight: a node's agents together weigh as one service
MAX_WEIGHT = 10000  # cgroup v2's range is 1-10000; v1's cpu.shares 2-262144 (1024 = weight 100)


@dataclass(frozen=True)
class CpuGroup:
    """The agents' cgroup: its directory, the file and value that give it its weight, and (v2) the
    parent's `cgroup.subtree_control` that must hand the cpu controller down to it."""

    directory: str
    weight_file: str
    weight: int
    subtree_control: str | None = None


@dataclass(frozen=True)
class NoCpuGroup:
    """Why agents stay in the node agent's cpu cgroup (said once at start)."""

    reason: str


def check_agent_cpu_weight(weight: int) -> int:
    """The node agent's option: 0 (off) or a cgroup v2 weight, 1 to 10000."""
    if not 0 <= weight <= MAX_WEIGHT:
        raise ValueError(f"agent cpu weight must be between 0 (off) and {MAX_WEIGHT}, got {weight}")
    return weight


@dataclass(frozen=True)
class CgroupMount:
    """One cgroup filesystem from /proc/self/mountinfo."""

    mount_point: str
    root: str  # the cgroup path mounted there ("/" unless a cgroup namespace or a bind mount)
    version: int  # 1 or 2
    controllers: frozenset[str]  # v1: the mount's controllers; v2: empty (they live in cgroup.controllers)
    read_only: bool


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


def group_name(node: str) -> str:
    return f"{GROUP_PREFIX}{node}"


def plan_agent_cpu_group(weight: int, node: str, own_cgroups: str, mountinfo: str) -> CpuGroup | NoCpuGroup:
    """The cgroup of node `node`'s agents for a node agent in `own_cgroups` (/proc/self/cgroup) on a
    machine with `mountinfo` (/proc/self/mountinfo), or why there is none."""
    if weight == 0:
        return NoCpuGroup("--agent-cpu-weight 0")
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
        return NoCpuGroup("the node agent's own cpu cgroup is not in /proc/self/cgroup")
    if mount.version == 1:
        parent = _directory(mount, own)
        shares = max(2, weight * 1024 // DEFAULT_WEIGHT)
        return CpuGroup(f"{parent.rstrip('/')}/{group_name(node)}", "cpu.shares", shares)
    if own != "/":
        return NoCpuGroup(
            f"cgroup v2 and the node agent runs in {own}, not the root: a child cgroup with the cpu"
            " controller would need it to leave its own (run it from the root cgroup, or in a pod)"
        )
    root = mount.mount_point.rstrip("/")
    return CpuGroup(f"{root}/{group_name(node)}", "cpu.weight", weight, f"{root}/cgroup.subtree_control")
