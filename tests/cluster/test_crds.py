"""The CRDs in a real kube-apiserver: installed, printable, explainable, and strict about bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.kube import Kubectl, table_header
from tmux_orchestrator.crdgen import DEFINITIONS

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))


def team(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"members": [{"name": "dev", "command": ["claude"]}]}
    body.update(spec)
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentTeam",
        "metadata": {"name": "t"},
        "spec": body,
    }


def with_member(**fields: Any) -> dict[str, Any]:
    return team(members=[{"name": "dev", "command": ["claude"], **fields}])


def with_steps(*steps: dict[str, Any]) -> dict[str, Any]:
    return team(strategy={"type": "Canary", "canary": {"steps": list(steps)}})


def message(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentMessage",
        "metadata": {"name": "m"},
        "spec": {"text": "hello", **spec},
    }


def test_crds_are_established_with_names_and_short_names(kubectl: Kubectl, crds: list[str]) -> None:
    for definition in DEFINITIONS:
        crd = kubectl.get("crd", definition.name)
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions["Established"] == "True"
        assert conditions["NamesAccepted"] == "True"
        assert crd["spec"]["names"]["shortNames"] == list(definition.short_names)
        assert "status" in crd["spec"]["versions"][0]["subresources"]
    resources = kubectl.run("api-resources", "--api-group=orchestrator.tmux.dev", "-o", "wide").stdout
    for short, plural in (
        ("at", "agentteams"),
        ("ag", "agents"),
        ("tn", "tmuxnodes"),
        ("amsg", "agentmessages"),
    ):
        assert any(line.split()[:2] == [plural, short] for line in resources.splitlines()), resources


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_applies(kube: Kubectl, path: Path) -> None:
    result = kube.run("apply", "--server-side", "-f", str(path))
    assert "serverside-applied" in result.stdout


def test_get_agentteams_shows_the_printer_columns(kube: Kubectl) -> None:
    kube.run("apply", "--server-side", "-f", str(REPO / "examples" / "demo-team.yaml"))
    assert table_header(kube.run("get", "agentteams").stdout) == [
        "NAME",
        "READY",
        "PHASE",
        "STAGE",
        "NODE",
        "AGE",
    ]
    wide = kube.run("get", "at", "-o", "wide").stdout
    assert table_header(wide) == [
        *("NAME", "READY", "PHASE", "STAGE", "NODE", "AGE"),
        *("STABLE-REVISION", "TARGET-REVISION", "MESSAGE"),
    ]
    assert wide.splitlines()[1].split()[0] == "demo"


def test_get_agents_shows_the_printer_columns(kube: Kubectl) -> None:
    kube.apply(
        {
            "apiVersion": "orchestrator.tmux.dev/v1alpha1",
            "kind": "Agent",
            "metadata": {"name": "demo-dev-0"},
            "spec": {
                "teamRef": {"name": "demo"},
                "member": "dev",
                "ordinal": 0,
                "nodeName": "node-a",
                "session": "demo",
                "window": "dev-0",
                "revision": "abc",
                "template": {"command": ["claude"]},
            },
        }
    )
    out = kube.run("get", "agents").stdout
    assert table_header(out) == [
        "NAME",
        "NODE",
        "ROLE",
        "PHASE",
        "ACTIVITY",
        "REPORT",
        "RESTARTS",
        "REVISION",
        "AGE",
    ]
    assert out.splitlines()[1].split()[:3] == ["demo-dev-0", "node-a", "developer"]
    # selectableFields: a node agent lists only its own Agents, filtered by the server.
    mine = kube.run("get", "agents", "--field-selector", "spec.nodeName=node-a", "-o", "name").stdout.split()
    other = kube.run("get", "agents", "--field-selector", "spec.nodeName=node-b", "-o", "name").stdout.split()
    assert (mine, other) == (["agent.orchestrator.tmux.dev/demo-dev-0"], [])


def test_explain_describes_members(kubectl: Kubectl, crds: list[str]) -> None:
    out = kubectl.run("explain", "agentteam.spec.members").stdout
    assert "Roles in the team" in out
    for field in ("name", "role", "replicas", "command", "profile", "briefing"):
        assert f"\n  {field}\t" in out, f"{field} missing from kubectl explain:\n{out}"
    assert "<[]string> -required-" in out  # command
    steps = kubectl.run("explain", "agentteam.spec.strategy.canary.steps.weight").stdout
    assert "Percent of agents" in steps


# kubectl explain path → the annotation (or object) its description must name
EXPLAINED = {
    "agentteam.spec.strategy.canary.steps.pauseSeconds": "orchestrator.tmux.dev/promote",
    "agentteam.spec.strategy.canary.autoRollback": "orchestrator.tmux.dev/abort",
    "agentteam.spec.paused": "orchestrator.tmux.dev/promote",
    "agentteam": "orchestrator.tmux.dev/restartedAt",
    "agentteam.status.lastHandled": "orchestrator.tmux.dev/promote",
    "agent.spec.restartedAt": "orchestrator.tmux.dev/restartedAt",
    "agent.status.lastCrashReason": "CommandNotFound",
    "agent.status": "Scheduled=False",
    "tmuxnode.status.conditions": "NodeLost",
}


@pytest.mark.parametrize(("path", "named"), EXPLAINED.items(), ids=list(EXPLAINED))
def test_explain_names_the_annotations_a_field_refers_to(
    kubectl: Kubectl, crds: list[str], path: str, named: str
) -> None:
    out = kubectl.run("explain", path).stdout
    assert named in " ".join(out.split()), out


def test_minimal_team_is_accepted_and_defaulted(kube: Kubectl) -> None:
    kube.apply(team())
    spec = kube.get("agentteam", "t")["spec"]
    assert spec["members"][0]["replicas"] == 1
    assert spec["members"][0]["profile"] == "claude-code"
    assert spec["restartPolicy"] == "Always"
    assert [s["weight"] for s in spec["strategy"]["canary"]["steps"]] == [5, 50, 100]
    assert spec["recovery"] == {
        "backoffSeconds": 10,
        "maxBackoffSeconds": 300,
        "maxRestarts": 5,
        "windowSeconds": 600,
    }
    assert spec["monitoring"]["notifyPM"] is True


def test_a_member_workspace_may_override_single_fields_of_the_teams(kube: Kubectl) -> None:
    manifest = team(
        workspace={"repo": "/src/app", "setup": ["make", "deps"]},
        members=[
            {"name": "pm", "role": "pm", "command": ["claude"]},
            {"name": "dev", "command": ["claude"], "workspace": {"baseBranch": "develop"}},
        ],
    )
    kube.apply(manifest)
    spec = kube.get("agentteam", "t")["spec"]
    assert spec["workspace"] == {"repo": "/src/app", "setup": ["make", "deps"]}  # defaults are the operator's
    assert spec["members"][1]["workspace"] == {"baseBranch": "develop"}


def test_server_side_apply_twice_changes_nothing(kube: Kubectl) -> None:
    path = str(REPO / "examples" / "webapp-team.yaml")
    kube.run("apply", "--server-side", "-f", path)
    first = kube.get("agentteam", "webapp")["metadata"]
    second_out = kube.run("apply", "--server-side", "-f", path).stdout
    second = kube.get("agentteam", "webapp")["metadata"]
    assert (second["resourceVersion"], second["generation"]) == (
        first["resourceVersion"],
        first["generation"],
    )
    assert "serverside-applied" in second_out
    diff = kube.run("diff", "--server-side", "-f", path, check=False)
    assert diff.returncode == 0, diff.stdout  # kubectl diff exits 1 when there is a difference


_LONG_NAME = "a" * 64

# (id, manifest, text the API server's error must contain: the field path, and why)
INVALID: list[tuple[str, dict[str, Any], list[str]]] = [
    ("member-name-not-dns-label", with_member(name="Dev_1"), ["spec.members[0].name", "should match"]),
    (
        "duplicate-member-names",
        team(members=[{"name": "dev", "command": ["a"]}, {"name": "dev", "command": ["b"]}]),
        ["spec.members", 'duplicate entries for key [name="dev"]'],
    ),
    ("empty-command", with_member(command=[]), ["spec.members[0].command", "at least 1 items"]),
    ("empty-command-word", with_member(command=[""]), ["spec.members[0].command[0]", "at least 1 chars"]),
    ("missing-command", team(members=[{"name": "dev"}]), ["spec.members[0].command", "Required value"]),
    ("no-members", team(members=[]), ["spec.members", "at least 1 items"]),
    (
        "replicas-over-100",
        with_member(replicas=101),
        ["spec.members[0].replicas", "less than or equal to 100"],
    ),
    (
        "replicas-negative",
        with_member(replicas=-1),
        ["spec.members[0].replicas", "greater than or equal to 0"],
    ),
    ("restart-policy-enum", team(restartPolicy="Sometimes"), ["spec.restartPolicy", "Unsupported value"]),
    ("strategy-type-enum", team(strategy={"type": "BlueGreen"}), ["spec.strategy.type", "Unsupported value"]),
    (
        "weights-not-increasing",
        with_steps({"name": "a", "weight": 50}, {"name": "b", "weight": 5}, {"name": "c", "weight": 100}),
        ["spec.strategy.canary.steps", "strictly increase"],
    ),
    (
        "weights-repeated",
        with_steps({"name": "a", "weight": 50}, {"name": "b", "weight": 50}, {"name": "c", "weight": 100}),
        ["spec.strategy.canary.steps", "strictly increase"],
    ),
    (
        "last-weight-not-100",
        with_steps({"name": "a", "weight": 5}, {"name": "b", "weight": 50}),
        ["spec.strategy.canary.steps", "last canary step must have weight 100"],
    ),
    (
        "weight-zero",
        with_steps({"name": "a", "weight": 0}, {"name": "b", "weight": 100}),
        ["steps[0].weight"],
    ),
    (
        "weight-over-100",
        with_steps({"name": "a", "weight": 101}),
        ["steps[0].weight", "less than or equal to 100"],
    ),
    (
        "negative-pause",
        with_steps({"name": "a", "weight": 5, "pauseSeconds": -1}, {"name": "b", "weight": 100}),
        ["steps[0].pauseSeconds", "greater than or equal to 0"],
    ),
    ("negative-backoff", team(recovery={"backoffSeconds": -1}), ["spec.recovery.backoffSeconds"]),
    (
        "max-backoff-below-backoff",
        team(recovery={"backoffSeconds": 60, "maxBackoffSeconds": 10}),
        ["spec.recovery.maxBackoffSeconds", "at least backoffSeconds"],
    ),
    ("zero-progress-deadline", team(progressDeadlineSeconds=0), ["spec.progressDeadlineSeconds"]),
    (
        "negative-min-ready",
        team(strategy={"canary": {"analysis": {"minReadySeconds": -5}}}),
        ["minReadySeconds"],
    ),
    ("zero-idle-after", team(monitoring={"idleAfterSeconds": 0}), ["spec.monitoring.idleAfterSeconds"]),
    ("session-with-colon", team(session="web:app"), ["spec.session", "should match"]),
    ("session-with-dot", team(session="web.app"), ["spec.session", "should match"]),
    ("unknown-spec-field", team(colour="blue"), [".spec.colour: field not declared in schema"]),
    (
        "unknown-member-field",
        with_member(colour="blue"),
        ['.spec.members[name="dev"].colour: field not declared in schema'],
    ),
    (
        "two-pm-members",
        team(
            members=[
                {"name": "a", "role": "pm", "command": ["x"]},
                {"name": "b", "role": "pm", "command": ["x"]},
            ]
        ),
        ["spec.members", "at most one member may have role pm"],
    ),
    (
        "team-name-too-long",
        {**team(), "metadata": {"name": _LONG_NAME}},
        ["metadata.name must be at most 63 characters"],
    ),
    (
        "workspace-repo-relative",
        team(workspace={"repo": "src/app"}),
        ["spec.workspace.repo", "should match '^/'"],
    ),
    (
        "member-workspace-without-repo",
        with_member(workspace={"worktrees": False}),
        ["spec.members", "a member workspace needs a repo, on the member or in spec.workspace"],
    ),
    (
        "workspace-branch-prefix-with-space",
        team(workspace={"repo": "/src", "branchPrefix": "my agents/"}),
        ["spec.workspace.branchPrefix", "should match"],
    ),
    ("workspace-empty-setup", team(workspace={"repo": "/src", "setup": []}), ["spec.workspace.setup"]),
    ("message-without-target", message(), ["spec", "set either spec.agent or spec.team with spec.member"]),
    (
        "message-agent-and-team",
        message(agent="demo-pm-0", team="demo", member="pm"),
        ["spec", "set either spec.agent or spec.team with spec.member"],
    ),
    ("message-team-without-member", message(team="demo"), ["spec", "spec.team and spec.member go together"]),
    ("message-empty-text", message(agent="demo-pm-0", text=""), ["spec.text", "at least 1 chars"]),
    (
        "message-from-not-a-name",
        message(agent="demo-pm-0", **{"from": "Dev_0"}),
        ["spec.from", "should match"],
    ),
    (
        "message-deliver-after-not-a-time",
        message(agent="demo-pm-0", deliverAfter="in five minutes"),
        ["spec.deliverAfter", "must be of type date-time"],
    ),
    (
        "check-in-too-often",
        team(monitoring={"checkIn": {"everySeconds": 1, "text": "status?"}}),
        ["spec.monitoring.checkIn.everySeconds", "greater than or equal to 10"],
    ),
    (
        "check-in-bad-target",
        team(monitoring={"checkIn": {"everySeconds": 60, "to": "Dev team", "text": "status?"}}),
        ["spec.monitoring.checkIn.to", "should match"],
    ),
    (
        "check-in-without-text",
        team(monitoring={"checkIn": {"everySeconds": 60}}),
        ["spec.monitoring.checkIn.text", "Required value"],
    ),
    (
        "member-tools-mcp-not-bool",
        with_member(tools={"mcp": "yes"}),
        ['.spec.members[name="dev"].tools.mcp', "expected boolean"],
    ),
    (
        "node-negative-capacity",
        {
            "apiVersion": "orchestrator.tmux.dev/v1alpha1",
            "kind": "TmuxNode",
            "metadata": {"name": "node-x"},
            "spec": {"capacity": -1},
        },
        ["spec.capacity", "greater than or equal to 0"],
    ),
]


@pytest.mark.parametrize(("manifest", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_manifest_is_rejected_naming_the_field(
    kube: Kubectl, manifest: dict[str, Any], expected: list[str]
) -> None:
    result = kube.apply(manifest, check=False)
    assert result.returncode != 0, f"accepted: {yaml.safe_dump(manifest)}"
    for text in expected:
        assert text in result.stderr, result.stderr
    # Nothing was created by a rejected apply.
    kind = manifest["kind"].lower()
    assert kube.run("get", kind, manifest["metadata"]["name"], check=False).returncode != 0


def test_team_api_fields_are_accepted_and_shown(kube: Kubectl) -> None:
    """The agent-facing API fields (DESIGN §8) round-trip, and `kubectl get amsg` shows the sender."""
    kube.apply(
        team(
            members=[{"name": "dev", "command": ["claude"], "tools": {"mcp": False}}],
            monitoring={"checkIn": {"everySeconds": 600, "text": "status?"}},
        )
    )
    spec = kube.get("agentteam", "t")["spec"]
    assert spec["members"][0]["tools"] == {"mcp": False}
    assert spec["monitoring"]["checkIn"] == {"everySeconds": 600, "to": "@pm", "text": "status?"}
    kube.apply(message(agent="t-dev-0", deliverAfter="2030-01-02T03:04:05Z", **{"from": "t-pm-0"}))
    out = kube.run("get", "amsg").stdout
    assert table_header(out) == ["NAME", "AGENT", "FROM", "PHASE", "ATTEMPTS", "AGE"]
    assert out.splitlines()[1].split()[:2] == ["m", "t-pm-0"]  # no status.agent yet: FROM is 2nd
    sent = kube.run("get", "amsg", "--field-selector", "spec.from=t-pm-0", "-o", "name").stdout.split()
    assert sent == ["agentmessage.orchestrator.tmux.dev/m"]


def test_agent_report_is_validated_and_shown(kube: Kubectl) -> None:
    kube.apply(
        {
            "apiVersion": "orchestrator.tmux.dev/v1alpha1",
            "kind": "Agent",
            "metadata": {"name": "demo-dev-0"},
            "spec": {
                "teamRef": {"name": "demo"},
                "member": "dev",
                "ordinal": 0,
                "session": "demo",
                "window": "dev-0",
                "revision": "abc",
                "template": {"command": ["claude"]},
            },
        }
    )

    def report(state: str) -> Any:
        body = {"status": {"report": {"state": state, "note": "x", "time": "2030-01-02T03:04:05Z"}}}
        return kube.run(
            "patch",
            "agent",
            "demo-dev-0",
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps(body),
            check=False,
        )

    bad = report("finished")
    assert bad.returncode != 0 and "status.report.state" in bad.stderr and "Unsupported value" in bad.stderr
    assert report("needs-review").returncode == 0
    row = kube.run("get", "agent", "demo-dev-0", "--no-headers").stdout.split()
    assert "needs-review" in row


def test_message_spec_is_immutable(kube: Kubectl) -> None:
    kube.apply(message(agent="demo-pm-0"))
    changed = copy.deepcopy(message(agent="demo-pm-0", text="something else"))
    result = kube.apply(changed, check=False)
    assert result.returncode != 0
    assert "spec is immutable" in result.stderr
    assert kube.get("agentmessage", "m")["spec"]["text"] == "hello"


def test_status_is_a_subresource(kube: Kubectl) -> None:
    """A user's apply cannot write status; only the status subresource can (the operator's path)."""
    manifest = team()
    manifest["status"] = {"phase": "Running"}
    kube.apply(manifest)
    assert (
        "status" not in kube.get("agentteam", "t")
        or kube.get("agentteam", "t")["status"].get("phase") is None
    )
    patched = kube.run(
        "patch",
        "agentteam",
        "t",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"phase":"Running"}}',
    )
    assert patched.returncode == 0
    assert kube.get("agentteam", "t")["status"]["phase"] == "Running"
    row = kube.run("get", "agentteam", "t", "--no-headers").stdout
    assert "Running" in row.split()
