"""The local control plane reserves CPU: etcd, kube-apiserver and kube-controller-manager run in one cpu
cgroup of their own with a weight (`dev up --cpu-weight`, default 1000) where the machine allows it (this
one: cgroup v1, root), a restarted component goes back into it, and stopping the control plane removes it.
Where the cgroup cannot be made the control plane still starts, and says why once.

Real control planes of their own (not the session's), started as `dev up` and the test fixtures start them.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from support.processes import BIN, cli, cpu_cgroup
from tmux_orchestrator.core.cpu_group import CpuGroup, plan_control_plane_cpu_group
from tmux_orchestrator.devcluster.build import ensure_binaries
from tmux_orchestrator.devcluster.cluster import restart_component, start_cluster, stop_cluster
from tmux_orchestrator.devcluster.cpu_reserve import NOT_RESERVED

COMPONENTS = {"etcd", "kube-apiserver", "kube-controller-manager"}


def planned(weight: int, state: Path) -> CpuGroup | None:
    """The control plane's group for a cluster this test process starts in `state`, where it can be made."""
    plan = plan_control_plane_cpu_group(
        weight,
        str(state.resolve()),
        Path("/proc/self/cgroup").read_text(),
        Path("/proc/self/mountinfo").read_text(),
    )
    return plan if isinstance(plan, CpuGroup) else None


def expected_cgroup(group: CpuGroup | None) -> str:
    """Where the components run as /proc/PID/cgroup shows it: in the group, below this process's own cpu
    cgroup; without one, in this process's own."""
    own = cpu_cgroup(os.getpid()) or "/"
    return own if group is None else f"{own.rstrip('/')}/{Path(group.directory).name}"


def test_components_run_in_the_group_of_their_weight_and_return_to_it_after_a_restart(tmp_path: Path) -> None:
    state, said = tmp_path / "state", list[str]()
    ensure_binaries()
    group = planned(2000, state)
    cluster = start_cluster(state, progress=said.append, cpu_weight=2000)
    try:
        assert set(cluster.pids) == COMPONENTS
        for name, pid in cluster.pids.items():
            assert cpu_cgroup(pid) == expected_cgroup(group), name
        recorded = json.loads(cluster.state_file.read_text())["cpu_group"]
        if group is None:
            assert recorded is None
            assert len([line for line in said if line.startswith(NOT_RESERVED)]) == 1, said
        else:
            # Twenty services' worth: cgroup v1 says it in shares (1,024 per service), v2 as the weight.
            weight = (Path(group.directory) / group.weight_file).read_text().strip()
            assert weight == ("20480" if group.weight_file == "cpu.shares" else "2000")
            assert recorded["directory"] == group.directory

        before = cluster.pids["kube-controller-manager"]
        restart_component(cluster, "kube-controller-manager", progress=said.append)
        after = cluster.pids["kube-controller-manager"]
        assert after != before
        assert cpu_cgroup(after) == expected_cgroup(group)
    finally:
        stop_cluster(state, progress=said.append, cluster=cluster)
    if group is not None:
        assert not Path(group.directory).exists(), said


def test_cpu_weight_0_leaves_the_components_where_dev_up_runs(tmp_path: Path) -> None:
    state = tmp_path / "state"
    up = cli("dev", "up", "--state-dir", str(state), "--cpu-weight", "0")
    assert up.returncode == 0, up.stderr
    try:
        record = json.loads((state / "cluster.json").read_text())
        assert record["cpu_group"] is None
        for name, pid in record["pids"].items():
            assert cpu_cgroup(pid) == cpu_cgroup(os.getpid()), name
        assert NOT_RESERVED not in up.stderr  # turned off: nothing to report
        group = planned(1000, state)
        assert group is None or not Path(group.directory).exists()
    finally:
        down = cli("dev", "down", "--state-dir", str(state))
    assert down.returncode == 0, down.stderr


def test_a_cpu_weight_out_of_range_is_refused_before_anything_starts(tmp_path: Path) -> None:
    state = tmp_path / "state"
    for value, message in (
        ("20000", "the control plane's cpu weight must be between 0 (off) and 10000, got 20000"),
        ("-1", "the control plane's cpu weight must be between 0 (off) and 10000, got -1"),
        ("ten", "want a whole number, got 'ten'"),
    ):
        up = cli("dev", "up", "--state-dir", str(state), "--cpu-weight", value)
        assert up.returncode == 2, up.stderr
        assert f"argument --cpu-weight: {message}" in up.stderr
    assert not state.exists()


# `dev up` run by a user (not root) on a bare machine: it cannot create the control plane's cgroup, says so
# once and goes on (the components then start where it runs).
AS_A_USER = """
import sys
from pathlib import Path
from tmux_orchestrator.devcluster.cpu_reserve import reserve_cpu
print(reserve_cpu(1000, Path(sys.argv[1]), lambda line: print(line, file=sys.stderr)))
"""


def test_without_permission_the_control_plane_says_so_once_and_goes_on(tmp_path: Path) -> None:
    state = tmp_path / "state"
    done = subprocess.run(
        [
            *("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
            *(str(BIN / "python"), "-c", AS_A_USER, str(state)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "None"
    said = done.stderr.splitlines()
    assert len(said) == 1 and said[0].startswith(f"{NOT_RESERVED}: "), said
    assert "Permission denied" in said[0] or "read-only" in said[0], said
    group = planned(1000, state)  # where root would have made it
    assert group is None or not Path(group.directory).exists()
