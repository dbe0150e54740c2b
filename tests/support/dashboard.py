"""The dashboard as tests run it: a ServiceAccount with the chart's dashboard permissions (or fewer), its
TokenRequest token, and `tmux-orchestrator dashboard` started with it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from support.kube import Kubectl, wait_for
from support.processes import ProjectProcess

GROUP = "orchestrator.tmux.dev"
READ = ["get", "list", "watch"]

VIEWER_RULES: list[dict[str, Any]] = [
    {
        "apiGroups": [GROUP],
        "resources": ["agentteams", "agents", "agentmessages", "tmuxnodes"],
        "verbs": READ,
    },
    {"apiGroups": [""], "resources": ["events"], "verbs": READ},
]
SCREEN_RULE: dict[str, Any] = {"apiGroups": [GROUP], "resources": ["agents/screen"], "verbs": ["get"]}
ACTION_RULES: list[dict[str, Any]] = [
    {"apiGroups": [GROUP], "resources": ["agentteams"], "verbs": ["patch"]},
    {"apiGroups": [GROUP], "resources": ["agentmessages"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
]


def service_account_with_rules(
    kubectl: Kubectl, namespace: str, name: str, rules: list[dict[str, Any]]
) -> str:
    """A ServiceAccount in `namespace` granted `rules` cluster-wide; returns a 1 h TokenRequest token.
    The ClusterRole and its binding carry the namespace's name (the namespace fixture deletes the rest)."""
    role = f"{namespace}-{name}"
    kubectl.run("create", "serviceaccount", name, "--namespace", namespace)
    kubectl.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": role, "labels": {"test-namespace": namespace}},
            "rules": rules,
        }
    )
    kubectl.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": role, "labels": {"test-namespace": namespace}},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        }
    )
    return kubectl.run("create", "token", name, "--namespace", namespace, "--duration=1h").stdout.strip()


def delete_test_roles(kubectl: Kubectl, namespace: str) -> None:
    kubectl.run("delete", "clusterrolebinding,clusterrole", "-l", f"test-namespace={namespace}", check=False)


def token_kubeconfig(admin: Kubectl, token: str, path: Path) -> Path:
    """The admin kubeconfig with its user replaced by a bearer token."""
    import yaml

    config = yaml.safe_load(admin.kubeconfig.read_text())
    config["users"] = [{"name": config["users"][0]["name"], "user": {"token": token}}]
    path.write_text(yaml.safe_dump(config))
    return path


def start_dashboard(kubeconfig: Path, log_dir: Path, *extra: str) -> tuple[ProjectProcess, str]:
    """`tmux-orchestrator dashboard --port 0` and the URL it prints."""
    process = ProjectProcess(
        ["dashboard", "--port", "0", "--kubeconfig", str(kubeconfig), *extra],
        kubeconfig,
        log_dir / "dashboard.log",
    ).start()
    found = wait_for(
        lambda: re.search(r"dashboard: (http://\S+?)/?$", process.log(), re.MULTILINE),
        timeout=30,
        message="the dashboard's URL in its output",
    )
    return process, str(found.group(1))
