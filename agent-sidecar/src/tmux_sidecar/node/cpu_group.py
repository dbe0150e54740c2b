"""The agents' cpu cgroup on a bare machine: created at the node agent's start, every agent process moved
into it, removed when the node agent stops and no agent is left in it (the decisions, and why, are in
`tmux_sidecar.cpu_group`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path

from tmux_sidecar.cpu_group import CpuGroup, NoCpuGroup, plan_agent_cpu_group

log = logging.getLogger(__name__)

_GONE = (FileNotFoundError, ProcessLookupError)  # ESRCH: the process ended meanwhile


class AgentCpuGroup:
    """The cgroup agents are moved into, or None when there is none (and why, logged once)."""

    def __init__(self, group: CpuGroup | None) -> None:
        self.group = group

    @classmethod
    def prepare(cls, weight: int, node: str) -> AgentCpuGroup:
        """Create node `node`'s agent cgroup (or find it) and give it `weight`. Never raises: without it
        agents run in the node agent's cgroup, at their nice."""
        try:
            plan = plan_agent_cpu_group(
                weight, node, Path("/proc/self/cgroup").read_text(), Path("/proc/self/mountinfo").read_text()
            )
        except OSError as error:
            plan = NoCpuGroup(f"cannot read /proc/self: {error}")
        if isinstance(plan, NoCpuGroup):
            if weight:
                log.info("agents share the node agent's cpu cgroup: %s", plan.reason)
            return cls(None)
        try:
            apply_cpu_group(plan)
        except OSError as error:
            log.info("agents share the node agent's cpu cgroup: cannot set up %s: %s", plan.directory, error)
            return cls(None)
        log.info("agents run in cpu cgroup %s (%s %d)", plan.directory, plan.weight_file, plan.weight)
        return cls(plan)

    def enter(self, pids: Iterable[int]) -> OSError | None:
        """Move each of `pids` (whole processes) into the group; the first error, if any. A process that
        ended meanwhile is not one."""
        if self.group is None:
            return None
        procs = Path(self.group.directory) / "cgroup.procs"
        failure: OSError | None = None
        for pid in pids:
            try:
                try:
                    procs.write_text(str(pid))
                except FileNotFoundError:  # the group was removed meanwhile (an empty one, by a cleanup)
                    apply_cpu_group(self.group)
                    procs.write_text(str(pid))
            except _GONE:
                continue
            except OSError as error:
                failure = failure or error
        return failure

    def remove(self) -> None:
        """Remove the group if no agent is left in it (the kernel refuses otherwise: agents outlive their
        node agent, and the next one adopts them into the same group)."""
        if self.group is not None:
            with contextlib.suppress(OSError):
                Path(self.group.directory).rmdir()


def apply_cpu_group(group: CpuGroup) -> None:
    """Make `group` exist with its weight (v2: with the cpu controller handed down to it first)."""
    if group.subtree_control is not None:
        control = Path(group.subtree_control)
        if "cpu" not in control.read_text().split():
            control.write_text("+cpu")
    directory = Path(group.directory)
    directory.mkdir(exist_ok=True)
    (directory / group.weight_file).write_text(str(group.weight))
