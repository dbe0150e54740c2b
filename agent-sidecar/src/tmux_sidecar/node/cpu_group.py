"""The agents' cpu cgroup on a bare machine: created at the node agent's start, every agent process moved
into it, removed when the node agent stops and no agent is left in it (the decisions, and why, are in
`tmux_sidecar.cpu_group`; the cgroup filesystem in `tmux_orchestrator.cgroupfs`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from tmux_orchestrator.cgroupfs import enter_cpu_group, remove_cpu_group, sync_cpu_group
from tmux_orchestrator.core.cpu_group import CpuGroup, NoCpuGroup
from tmux_sidecar.cpu_group import plan_agent_cpu_group

log = logging.getLogger(__name__)


class AgentCpuGroup:
    """The cgroup agents are moved into, or None when there is none (and why, logged once)."""

    def __init__(self, group: CpuGroup | None) -> None:
        self.group = group

    @classmethod
    def prepare(cls, weight: int, node: str) -> AgentCpuGroup:
        """Create node `node`'s agent cgroup (or find it) and give it `weight`. Never raises: without it
        agents run in the node agent's cgroup, at their nice."""
        group = sync_cpu_group(lambda own, mounts: plan_agent_cpu_group(weight, node, own, mounts))
        if isinstance(group, NoCpuGroup):
            if weight:
                log.info("agents share the node agent's cpu cgroup: %s", group.reason)
            return cls(None)
        log.info("agents run in cpu cgroup %s (%s %d)", group.directory, group.weight_file, group.weight)
        return cls(group)

    def enter(self, pids: Iterable[int]) -> OSError | None:
        """Move each of `pids` (whole processes) into the group; the first error, if any. A process that
        ended meanwhile is not one."""
        return None if self.group is None else enter_cpu_group(self.group, pids)

    def remove(self) -> None:
        """Remove the group if no agent is left in it (the kernel refuses otherwise: agents outlive their
        node agent, and the next one adopts them into the same group)."""
        if self.group is not None:
            remove_cpu_group(self.group.directory)
