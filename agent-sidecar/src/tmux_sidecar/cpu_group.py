"""Where a node agent's agents go so that together they weigh as one on the CPU (pure; node.cpu_group
applies it, the cgroup planning itself is `tmux_orchestrator.core.cpu_group`).

Where the kernel schedules by autogroups (bare machines), every tmux pane is a session and every session
weighs as much as the node agent, the tmux server or a local API server: fifty agents busy with builds
outweigh their own supervision fifty to one, and nice (tmux_sidecar.priority) only brings that to about
five to one. Like a kubelet's kube-reserved, the node agent instead puts its agents into one cpu cgroup
of their own, `tmux-orchestrator-agents.<node>`, next to its own, with a weight: at the default (100, the
weight of one service) a node's agents together weigh as one session against the rest. One group per node
agent, not per machine: several node agents on one machine (a local cluster, a benchmark) then share it as
separate machines would.
"""

from __future__ import annotations

from tmux_orchestrator.core.cpu_group import CpuGroup, NoCpuGroup, check_cpu_weight, plan_cpu_group

GROUP_PREFIX = "tmux-orchestrator-agents."  # then the node's name (DNS-1123: safe as a directory name)


def check_agent_cpu_weight(weight: int) -> int:
    """The node agent's option: 0 (off) or a cgroup v2 weight, 1 to 10000."""
    return check_cpu_weight(weight, "agent cpu weight")


def group_name(node: str) -> str:
    return f"{GROUP_PREFIX}{node}"


def plan_agent_cpu_group(weight: int, node: str, own_cgroups: str, mountinfo: str) -> CpuGroup | NoCpuGroup:
    """The cgroup of node `node`'s agents for a node agent in `own_cgroups` (/proc/self/cgroup) on a
    machine with `mountinfo` (/proc/self/mountinfo), or why there is none."""
    if weight == 0:
        return NoCpuGroup("--agent-cpu-weight 0")
    return plan_cpu_group(group_name(node), weight, "the node agent", own_cgroups, mountinfo)
