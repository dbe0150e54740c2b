"""The Flux health expressions in deploy/gitops/flux/teams.yaml, evaluated by a real CEL engine: the API
server's, through a ValidatingAdmissionPolicy that reports their values for a dry-run status write. Flux
evaluates the same expressions with the AgentTeam's fields at the top level; here they read `object.`."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.kube import Kubectl, wait_for

REPO = Path(__file__).resolve().parents[2]
KUSTOMIZATION = next(
    doc
    for doc in yaml.safe_load_all((REPO / "deploy" / "gitops" / "flux" / "teams.yaml").read_text())
    if doc["kind"] == "Kustomization"
)
(EXPRESSIONS,) = [e for e in KUSTOMIZATION["spec"]["healthCheckExprs"] if e["kind"] == "AgentTeam"]
ORDER = ("inProgress", "failed", "current")  # Flux's order: the first that is true decides


def for_admission(expression: str) -> str:
    """Top-level fields (Flux's view of the object) as fields of `object` (an admission policy's view)."""
    return re.sub(r"(?<![.\w])(status|metadata)(?=[.?])", r"object.\1", " ".join(expression.split()))


@pytest.fixture(scope="module")
def evaluate(kubectl: Kubectl, crds: list[str]) -> Iterator[Any]:
    namespace = kubectl.create_namespace("flux")
    name = f"flux-health-{uuid.uuid4().hex[:6]}"
    report = " + ' ' + ".join(f"'{key}=' + string({for_admission(EXPRESSIONS[key])})" for key in ORDER)
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                "resourceRules": [
                    {
                        "apiGroups": ["orchestrator.tmux.dev"],
                        "apiVersions": ["*"],
                        "operations": ["UPDATE"],
                        "resources": ["agentteams/status"],
                    }
                ],
            },
            # Always "denies", with the three values as the message: a report, not a policy.
            "validations": [{"expression": "false", "messageExpression": report}],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {"policyName": name, "validationActions": ["Deny"]},
    }
    kubectl.apply(policy)
    kubectl.apply(binding)
    kube = kubectl.in_namespace(namespace)
    team = yaml.safe_load((REPO / "examples" / "demo-team.yaml").read_text())
    kube.apply(team)

    def run(status: dict[str, Any]) -> dict[str, bool]:
        current = kube.get("agentteam", "demo")
        current["status"] = status

        # The policy is enforced a moment after it is created: retry until its report comes back.
        def report() -> dict[str, bool] | None:
            result = kube.run(
                "replace",
                "--subresource=status",
                "--dry-run=server",
                "-f",
                "-",
                stdin=json.dumps(current),
                check=False,
            )
            found = re.findall(r"(inProgress|failed|current)=(true|false)", result.stderr)
            assert found or "denied request" not in result.stderr, result.stderr
            return {key: value == "true" for key, value in found} or None

        return dict(wait_for(report, timeout=20, message="the policy's report"))

    try:
        yield run
    finally:
        kubectl.run("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", name, check=False)
        kubectl.run("delete", "namespace", namespace, "--wait=false", check=False)


def condition(type_: str, status: str) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": "Test",
        "message": "",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }


READY = condition("Ready", "True")
NOT_READY = condition("Ready", "False")

# id → (status, Flux's verdict)
CASES: dict[str, tuple[dict[str, Any], str]] = {
    "ready": ({"observedGeneration": 1, "conditions": [READY, condition("Reconciling", "False")]}, "current"),
    "reconciling": (
        {"observedGeneration": 1, "conditions": [NOT_READY, condition("Reconciling", "True")]},
        "inProgress",
    ),
    "stalled": ({"observedGeneration": 1, "conditions": [NOT_READY, condition("Stalled", "True")]}, "failed"),
    "status-of-an-older-generation": ({"observedGeneration": 0, "conditions": [READY]}, "inProgress"),
    "not-yet-observed": ({"phase": "Pending"}, "inProgress"),
    "not-ready-and-not-reconciling": ({"observedGeneration": 1, "conditions": [NOT_READY]}, "none"),
}


@pytest.mark.parametrize(("status", "verdict"), CASES.values(), ids=list(CASES))
def test_flux_health_expressions(evaluate: Any, status: dict[str, Any], verdict: str) -> None:
    values = evaluate(status)
    assert set(values) == set(ORDER)
    decided = next((key for key in ORDER if values[key]), "none")  # none: Flux keeps waiting
    assert decided == verdict, values
