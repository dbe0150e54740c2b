"""Which cpu cgroup a node agent's agents share (plan_agent_cpu_group) and the local control plane runs in
(plan_control_plane_cpu_group), and with what weight (pure)."""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest

from tmux_orchestrator.core.cpu_group import (
    CONTROL_PLANE_WEIGHT,
    CgroupMount,
    CpuGroup,
    NoCpuGroup,
    check_cpu_weight,
    control_plane_group_name,
    parse_cgroup_mounts,
    plan_control_plane_cpu_group,
)
from tmux_sidecar.cpu_group import check_agent_cpu_weight, plan_agent_cpu_group

# /proc/self/mountinfo lines as this machine (cgroup v1), a systemd host (v2) and a pod show them.
V1_CPU = "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
V1_CPU_CPUACCT = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
V1_MEMORY = "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
V2 = "29 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
V2_POD = "1200 1190 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw\n"
V1_BIND = "40 31 0:29 /machine/box /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
PROC = "22 21 0:5 / /proc rw,nosuid - proc proc rw\n"

V1_AT_ROOT = "4:memory:/process_api/x\n2:cpuacct:/\n1:cpu:/\n0::/\n"
V1_IN_GROUP = "3:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice/session-3.scope\n"
V2_AT_ROOT = "0::/\n"
V2_IN_SERVICE = "0::/system.slice/tmux-orchestrator.service\n"


class Case(NamedTuple):
    id: str
    weight: int
    own: str
    mountinfo: str
    planned: CpuGroup | NoCpuGroup


CASES = [
    Case(
        "v1-node-agent-at-the-root",
        100,
        V1_AT_ROOT,
        PROC + V1_MEMORY + V1_CPU,
        CpuGroup("/sys/fs/cgroup/cpu/tmux-orchestrator-agents.n1", "cpu.shares", 1024),
    ),
    Case(
        "v1-below-the-node-agents-own-group-weight-scaled",
        50,
        V1_IN_GROUP,
        V1_CPU_CPUACCT,
        CpuGroup("/sys/fs/cgroup/cpu,cpuacct/user.slice/tmux-orchestrator-agents.n1", "cpu.shares", 512),
    ),
    Case(
        "v1-smallest-weight-is-v1s-smallest-shares",
        1,
        V1_AT_ROOT,
        V1_CPU,
        CpuGroup("/sys/fs/cgroup/cpu/tmux-orchestrator-agents.n1", "cpu.shares", 10),
    ),
    Case(
        "v1-mount-of-a-sub-tree",
        100,
        "1:cpu:/machine/box/inner\n",
        V1_BIND,
        CpuGroup("/sys/fs/cgroup/cpu/inner/tmux-orchestrator-agents.n1", "cpu.shares", 1024),
    ),
    Case(
        "v2-from-the-root-hands-the-cpu-controller-down",
        100,
        V2_AT_ROOT,
        PROC + V2,
        CpuGroup(
            "/sys/fs/cgroup/tmux-orchestrator-agents.n1",
            "cpu.weight",
            100,
            "/sys/fs/cgroup/cgroup.subtree_control",
        ),
    ),
    Case(
        "v2-in-a-service-cannot",
        100,
        V2_IN_SERVICE,
        V2,
        NoCpuGroup(
            "cgroup v2 and the node agent runs in /system.slice/tmux-orchestrator.service, not the root: a"
            " child cgroup with the cpu controller would need it to leave its own (run it from the root"
            " cgroup, or in a pod)"
        ),
    ),
    Case(
        "pod-read-only",
        100,
        V2_AT_ROOT,
        V2_POD,
        NoCpuGroup("/sys/fs/cgroup is mounted read-only (as in a pod)"),
    ),
    Case(
        "no-cpu-hierarchy",
        100,
        V1_AT_ROOT,
        PROC + V1_MEMORY,
        NoCpuGroup("no cpu cgroup hierarchy is mounted"),
    ),
    Case(
        "own-cpu-line-missing",
        100,
        "4:memory:/x\n",
        V1_CPU,
        NoCpuGroup("the node agent's own cpu cgroup is not in /proc/self/cgroup"),
    ),
    Case("off", 0, V1_AT_ROOT, V1_CPU, NoCpuGroup("--agent-cpu-weight 0")),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_plan_agent_cpu_group(case: Case) -> None:
    assert plan_agent_cpu_group(case.weight, "n1", case.own, case.mountinfo) == case.planned


def test_parse_cgroup_mounts_reads_both_versions_and_skips_the_rest() -> None:
    assert parse_cgroup_mounts(PROC + V1_CPU_CPUACCT + V2_POD + "garbage line\n") == [
        CgroupMount("/sys/fs/cgroup/cpu,cpuacct", "/", 1, frozenset({"rw", "cpu", "cpuacct"}), False),
        CgroupMount("/sys/fs/cgroup", "/", 2, frozenset(), True),
    ]


@pytest.mark.parametrize("weight", [-1, 10001], ids=["negative", "beyond-v2s-range"])
def test_a_weight_out_of_range_is_refused(weight: int) -> None:
    with pytest.raises(ValueError, match=f"between 0 \\(off\\) and 10000, got {weight}"):
        check_agent_cpu_weight(weight)


STATE = "/root/.cache/tmux-orchestrator/dev-cluster"
CONTROL_PLANE = control_plane_group_name(STATE)

CONTROL_PLANE_CASES = [
    Case(
        "v1-default-is-ten-services-worth",
        CONTROL_PLANE_WEIGHT,
        V1_AT_ROOT,
        PROC + V1_MEMORY + V1_CPU,
        CpuGroup(f"/sys/fs/cgroup/cpu/{CONTROL_PLANE}", "cpu.shares", 10240),
    ),
    Case(
        "v1-below-the-starting-process-own-group",
        2000,
        V1_IN_GROUP,
        V1_CPU_CPUACCT,
        CpuGroup(f"/sys/fs/cgroup/cpu,cpuacct/user.slice/{CONTROL_PLANE}", "cpu.shares", 20480),
    ),
    Case(
        "v1-largest-weight",
        10000,
        V1_AT_ROOT,
        V1_CPU,
        CpuGroup(f"/sys/fs/cgroup/cpu/{CONTROL_PLANE}", "cpu.shares", 102400),
    ),
    Case(
        "v2-from-the-root",
        CONTROL_PLANE_WEIGHT,
        V2_AT_ROOT,
        V2,
        CpuGroup(
            f"/sys/fs/cgroup/{CONTROL_PLANE}", "cpu.weight", 1000, "/sys/fs/cgroup/cgroup.subtree_control"
        ),
    ),
    Case(
        "v2-in-a-service-cannot",
        CONTROL_PLANE_WEIGHT,
        V2_IN_SERVICE,
        V2,
        NoCpuGroup(
            "cgroup v2 and this process runs in /system.slice/tmux-orchestrator.service, not the root: a"
            " child cgroup with the cpu controller would need it to leave its own (run it from the root"
            " cgroup, or in a pod)"
        ),
    ),
    Case(
        "pod-read-only",
        CONTROL_PLANE_WEIGHT,
        V2_AT_ROOT,
        V2_POD,
        NoCpuGroup("/sys/fs/cgroup is mounted read-only (as in a pod)"),
    ),
    Case(
        "own-cpu-line-missing",
        CONTROL_PLANE_WEIGHT,
        "4:memory:/x\n",
        V1_CPU,
        NoCpuGroup("this process's own cpu cgroup is not in /proc/self/cgroup"),
    ),
    Case("off", 0, V1_AT_ROOT, V1_CPU, NoCpuGroup("--cpu-weight 0")),
]


@pytest.mark.parametrize("case", CONTROL_PLANE_CASES, ids=[case.id for case in CONTROL_PLANE_CASES])
def test_plan_control_plane_cpu_group(case: Case) -> None:
    assert plan_control_plane_cpu_group(case.weight, STATE, case.own, case.mountinfo) == case.planned


def test_each_state_directory_has_a_short_dns_safe_group_of_its_own() -> None:
    names = {
        control_plane_group_name(state) for state in (STATE, STATE + "-2", "/tmp/pytest-7/control-plane0")
    }
    assert len(names) == 3
    assert control_plane_group_name(STATE) == CONTROL_PLANE  # the same directory, the same group
    for name in names:
        assert re.fullmatch(r"tmux-orchestrator-control-plane\.[0-9a-f]{12}", name), name


def test_the_control_planes_weight_out_of_range_is_refused_with_the_options_name() -> None:
    with pytest.raises(ValueError, match=r"^--cpu-weight must be between 0 \(off\) and 10000, got 20000$"):
        check_cpu_weight(20000, "--cpu-weight")
    assert check_cpu_weight(0, "--cpu-weight") == 0
