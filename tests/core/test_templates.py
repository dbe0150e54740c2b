"""Template revisions: what changes the revision (and so starts a rollout) and what does not."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tmux_orchestrator.api import AgentTemplate, EnvVar
from tmux_orchestrator.core.observed import ObservedRevision
from tmux_orchestrator.core.templates import (
    RevisionObject,
    member_template,
    parse_revision_data,
    plan_revision_history,
    revision_data,
    team_templates,
    template_revision,
)

from .builders import member, team_spec

BASE: dict[str, Any] = {
    "members": [member("pm", role="pm"), member("dev", 3, env=[{"name": "B", "value": "1"}])],
    "env": [{"name": "A", "value": "x"}, {"name": "C", "value": "y"}],
    "workingDir": "/srv",
}


def revision_of(spec: dict[str, Any]) -> str:
    return template_revision(team_templates(team_spec(**spec)))


def with_member(index: int, **fields: Any) -> dict[str, Any]:
    members = [dict(m) for m in BASE["members"]]
    members[index] = {**members[index], **fields}
    return {**BASE, "members": members}


def test_revision_is_ten_hex_digits_and_stable() -> None:
    assert re.fullmatch(r"[0-9a-f]{10}", revision_of(BASE))
    assert revision_of(BASE) == revision_of(dict(BASE))


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(with_member(1, replicas=7), id="replicas"),
        pytest.param(with_member(1, role="qa"), id="role"),
        pytest.param({**BASE, "restartPolicy": "Never"}, id="restart-policy"),
        pytest.param({**BASE, "recovery": {"maxRestarts": 9}}, id="recovery"),
        pytest.param({**BASE, "monitoring": {"idleAfterSeconds": 5}}, id="monitoring"),
        pytest.param({**BASE, "session": "other"}, id="session"),
        pytest.param({**BASE, "placement": {"nodeSelector": {"gpu": "yes"}}}, id="placement"),
        pytest.param({**BASE, "mission": "ship it"}, id="mission"),
        pytest.param({**BASE, "env": list(reversed(BASE["env"]))}, id="env-order"),
        pytest.param({**BASE, "strategy": {"type": "AllAtOnce"}}, id="strategy"),
        pytest.param({**BASE, "paused": True}, id="paused"),
    ],
)
def test_changes_that_keep_the_revision(changed: dict[str, Any]) -> None:
    assert revision_of(changed) == revision_of(BASE)


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(with_member(1, command=["codex"]), id="command"),
        pytest.param(with_member(1, profile="codex"), id="profile"),
        pytest.param(with_member(1, briefing="new brief"), id="briefing"),
        pytest.param(with_member(1, workingDir="/other"), id="member-working-dir"),
        pytest.param({**BASE, "workingDir": "/elsewhere"}, id="team-working-dir"),
        pytest.param({**BASE, "env": [{"name": "A", "value": "changed"}]}, id="team-env"),
        pytest.param(with_member(1, env=[{"name": "B", "value": "2"}]), id="member-env"),
        pytest.param({**BASE, "members": [*BASE["members"], member("qa")]}, id="member-added"),
    ],
)
def test_changes_that_make_a_new_revision(changed: dict[str, Any]) -> None:
    assert revision_of(changed) != revision_of(BASE)


@pytest.mark.parametrize(
    ("team_env", "member_env", "expected"),
    [
        pytest.param(None, None, None, id="no-env"),
        pytest.param([("A", "1")], None, [("A", "1")], id="team-only"),
        pytest.param([("B", "1"), ("A", "1")], [("A", "2")], [("A", "2"), ("B", "1")], id="member-overrides"),
        pytest.param(None, [("Z", "1"), ("M", "2")], [("M", "2"), ("Z", "1")], id="sorted-by-name"),
    ],
)
def test_member_template_env(
    team_env: list[tuple[str, str]] | None,
    member_env: list[tuple[str, str]] | None,
    expected: list[tuple[str, str]] | None,
) -> None:
    def env(pairs: list[tuple[str, str]] | None) -> list[dict[str, str]] | None:
        return [{"name": n, "value": v} for n, v in pairs] if pairs is not None else None

    spec = team_spec(member("dev", env=env(member_env)), env=env(team_env))
    template = member_template(spec, spec.members[0])
    assert template.env == ([EnvVar(name=n, value=v) for n, v in expected] if expected else None)


@pytest.mark.parametrize(
    ("team_dir", "member_dir", "expected"),
    [
        pytest.param("/team", None, "/team", id="team-default"),
        pytest.param("/team", "/mine", "/mine", id="member-wins"),
        pytest.param(None, None, None, id="none"),
    ],
)
def test_member_template_working_dir(
    team_dir: str | None, member_dir: str | None, expected: str | None
) -> None:
    spec = team_spec(member("dev", workingDir=member_dir), workingDir=team_dir)
    assert member_template(spec, spec.members[0]).working_dir == expected


def test_revision_data_round_trips() -> None:
    templates = team_templates(team_spec(**BASE))
    assert parse_revision_data(revision_data(templates)) == templates


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="empty"),
        pytest.param({"members": []}, id="not-a-mapping"),
        pytest.param({"members": {"dev": {"command": []}}}, id="invalid-template"),
    ],
)
def test_foreign_revision_data_is_ignored(data: dict[str, Any]) -> None:
    assert parse_revision_data(data) is None


TEMPLATES = {"dev": AgentTemplate(command=["claude"])}


def stored(revision: str, number: int) -> ObservedRevision:
    return ObservedRevision(name=f"web-{revision}", revision=revision, number=number)


Changes = tuple[list[tuple[str, int]], list[tuple[str, int]], list[str]]


@pytest.mark.parametrize(
    ("history", "limit", "protected", "expected"),
    [
        pytest.param([], 10, set(), ([("web-cur", 1)], [], []), id="first-revision"),
        pytest.param(
            [stored("old", 3)], 10, set(), ([("web-cur", 4)], [], []), id="new-revision-numbered-next"
        ),
        pytest.param([stored("cur", 5)], 10, set(), ([], [], []), id="current-exists-nothing-to-do"),
        pytest.param(
            [stored("cur", 1), stored("b", 2)],
            10,
            set(),
            ([], [("web-cur", 3)], []),
            id="reverted-becomes-newest",
        ),
        pytest.param(
            [stored("a", 1), stored("b", 2), stored("c", 3), stored("cur", 4)],
            1,
            set(),
            ([], [], ["web-a", "web-b"]),
            id="oldest-pruned-beyond-limit",
        ),
        pytest.param(
            [stored("a", 1), stored("b", 2), stored("cur", 3)],
            0,
            {"a"},
            ([], [], ["web-b"]),
            id="stable-and-in-use-kept",
        ),
    ],
)
def test_revision_history(
    history: list[ObservedRevision], limit: int, protected: set[str], expected: Changes
) -> None:
    plan = plan_revision_history(
        team="web",
        current="cur",
        current_templates=TEMPLATES,
        protected=protected,
        observed=history,
        limit=limit,
    )
    created = [(r.name, r.number) for r in plan.to_create]
    renumbered = [(r.name, r.number) for r in plan.to_renumber]
    assert (created, renumbered, list(plan.to_delete)) == expected


def test_controller_revision_body() -> None:
    body = RevisionObject("web-cur", "cur", 2, TEMPLATES).to_wire("web", "ns", {"uid": "u"})
    assert body["apiVersion"] == "apps/v1"
    assert body["kind"] == "ControllerRevision"
    assert body["revision"] == 2
    assert body["metadata"]["labels"] == {
        "orchestrator.tmux.dev/team": "web",
        "orchestrator.tmux.dev/revision": "cur",
    }
    assert parse_revision_data(body["data"]) == TEMPLATES


def test_a_team_without_a_workspace_keeps_the_revision_it_had_before_workspaces_existed() -> None:
    # Computed with the code before spec.workspace was added: existing teams must not roll on upgrade.
    assert revision_of(BASE) == "4042e58d02"


WORKSPACE = {"repo": "/src/app"}


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param({**BASE, "workspace": WORKSPACE}, id="workspace-added"),
        pytest.param(with_member(1, workspace={"repo": "/src/app"}), id="member-workspace-added"),
    ],
)
def test_a_workspace_is_a_new_revision(changed: dict[str, Any]) -> None:
    assert revision_of(changed) != revision_of(BASE)


@pytest.mark.parametrize(
    ("team", "member_override", "expected"),
    [
        pytest.param(
            WORKSPACE,
            None,
            {"repo": "/src/app", "worktrees": True, "baseBranch": "main", "branchPrefix": "agents/"},
            id="defaults",
        ),
        pytest.param(
            {**WORKSPACE, "baseBranch": "develop", "setup": ["make", "deps"]},
            {"worktrees": False},
            {
                "repo": "/src/app",
                "worktrees": False,
                "baseBranch": "develop",
                "branchPrefix": "agents/",
                "setup": ["make", "deps"],
            },
            id="member-overrides-one-field",
        ),
        pytest.param(
            None,
            {"repo": "/other", "branchPrefix": "qa/"},
            {"repo": "/other", "worktrees": True, "baseBranch": "main", "branchPrefix": "qa/"},
            id="member-only",
        ),
        pytest.param(None, None, None, id="none"),
    ],
)
def test_effective_workspace_is_team_settings_under_member_overrides(
    team: dict[str, Any] | None, member_override: dict[str, Any] | None, expected: dict[str, Any] | None
) -> None:
    fields: dict[str, Any] = {} if member_override is None else {"workspace": member_override}
    spec = team_spec(members=[member("dev", **fields)], **({"workspace": team} if team else {}))
    workspace = member_template(spec, spec.members[0]).workspace
    assert (workspace.to_wire() if workspace else None) == expected
