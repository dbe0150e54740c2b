"""`tmux-orchestrator dev up|status|down` as a user runs them: a second, independent control plane."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from support.kube import Kubectl
from support.processes import cli, cpu_cgroup
from tmux_orchestrator.devcluster.cluster import start_cluster, stop_cluster


def go_gc(pid: int) -> str | None:
    """The GOGC a process was started with (/proc/PID/environ)."""
    for entry in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        if entry.startswith(b"GOGC="):
            return entry[len(b"GOGC=") :].decode()
    return None


def test_a_gogc_of_the_caller_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOGC", "150")
    cluster = start_cluster(tmp_path / "state", progress=lambda _: None, cpu_weight=0)
    try:
        assert {go_gc(pid) for pid in cluster.pids.values()} == {"150"}
    finally:
        stop_cluster(tmp_path / "state", progress=lambda _: None, cluster=cluster)


def test_dev_up_writes_a_working_kubeconfig_and_down_leaves_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOGC", raising=False)
    state, kubeconfig = tmp_path / "state", tmp_path / "out" / "kubeconfig"
    up = cli("dev", "up", "--state-dir", str(state), "--kubeconfig", str(kubeconfig))
    assert up.returncode == 0, up.stderr
    assert f"export KUBECONFIG={kubeconfig}" in up.stdout
    record = json.loads((state / "cluster.json").read_text())
    pids, group = record["pids"], record["cpu_group"]
    try:
        assert set(pids) == {"etcd", "kube-apiserver", "kube-controller-manager"}
        # Memory for CPU: the Go components collect garbage at five times their heap, not twice.
        assert {name: go_gc(pid) for name, pid in pids.items()} == dict.fromkeys(pids, "400")
        if group is not None:  # the control plane's reserved CPU, where the machine allows it (this one)
            assert all(
                str(cpu_cgroup(pid)).endswith("/" + Path(group["directory"]).name) for pid in pids.values()
            )
        kubectl = Kubectl(kubeconfig)
        assert "v1.36.3" in kubectl.run("version", "-o", "json").stdout
        # RBAC is on: an unknown ServiceAccount may not list anything.
        denied = kubectl.run(
            "auth", "can-i", "list", "pods", "--as=system:serviceaccount:default:nobody", check=False
        )
        assert denied.stdout.strip() == "no"
        assert cli("dev", "status", "--state-dir", str(state)).returncode == 0
        again = cli("dev", "up", "--state-dir", str(state), "--kubeconfig", str(kubeconfig))
        assert again.returncode == 0 and "already running" in again.stderr
        assert json.loads((state / "cluster.json").read_text())["pids"] == pids
    finally:
        down = cli("dev", "down", "--state-dir", str(state))
    assert down.returncode == 0, down.stderr
    for name, pid in pids.items():
        assert not _running(pid), f"{name} (pid {pid}) still runs after dev down"
    # `dev down` ran in another process than `dev up`: it found the group in cluster.json.
    assert group is None or not Path(group["directory"]).exists()
    assert cli("dev", "status", "--state-dir", str(state)).returncode == 1


def test_garbage_collection_removes_owned_objects(kube: Kubectl) -> None:
    """The controller manager runs the garbage collector the operator relies on for ownerReferences."""
    kube.run("create", "configmap", "owner")
    owner_uid = kube.get("configmap", "owner")["metadata"]["uid"]
    dependent = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "dependent",
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "name": "owner",
                    "uid": owner_uid,
                    "controller": True,
                }
            ],
        },
    }
    kube.apply(dependent)
    kube.run("delete", "configmap", "owner", "--wait=true")
    result = kube.run("wait", "--for=delete", "configmap/dependent", "--timeout=60s", check=False, timeout=90)
    assert result.returncode == 0, result.stderr


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    if state == "Z":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
