"""What every benchmark needs: a fresh local control plane with the CRDs, and a place for its results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from tmux_orchestrator.core.cpu_group import CONTROL_PLANE_WEIGHT  # noqa: E402
from tmux_orchestrator.devcluster.cluster import LocalCluster, start_cluster, stop_cluster  # noqa: E402

KUBECTL = str(Path(sys.executable).parent / "kubectl")


@contextmanager
def cluster_with_crds(work: Path, cpu_weight: int = CONTROL_PLANE_WEIGHT) -> Iterator[LocalCluster]:
    """A control plane of its own (not the developer's), CRDs installed and Established; stopped after.
    `cpu_weight`: its cpu cgroup's (`dev up --cpu-weight`; 0: none)."""
    cluster = start_cluster(work / "cluster", cpu_weight=cpu_weight)
    try:
        kubectl(cluster, "apply", "--server-side", "-f", str(REPO / "crds"))
        kubectl(cluster, "wait", "--for=condition=Established", "crd", "--all")
        yield cluster
    finally:
        stop_cluster(work / "cluster", cluster=cluster)


def kubectl(cluster: LocalCluster, *args: str, stdin: str | None = None) -> None:
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
    subprocess.run(
        [KUBECTL, *args],
        input=stdin.encode() if stdin else None,
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def apply_all(cluster: LocalCluster, manifests: list[Mapping[str, Any]]) -> None:
    kubectl(
        cluster,
        "apply",
        "--server-side",
        "-f",
        "-",
        stdin="---\n".join(yaml.safe_dump(dict(m)) for m in manifests),
    )


def write_result(name: str, result: Mapping[str, Any]) -> None:
    out = REPO / "benchmarks" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
