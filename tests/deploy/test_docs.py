"""docs/api.md is generated from the API models: committed text matches the generator, every model field is
documented with what the API server enforces, and the generator stays pure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from tmux_orchestrator import crdgen, docgen

REPO = Path(__file__).resolve().parents[2]
API_MD = REPO / "docs" / "api.md"
BIN = Path(sys.executable).parent


def test_committed_api_reference_matches_the_models() -> None:
    assert API_MD.read_text() == docgen.render_api_reference(), "docs/api.md is stale: run `make docs`"


def test_docs_check_command_reports_drift(tmp_path: Path) -> None:
    docs = [str(BIN / "tmux-orchestrator"), "docs", "--check", "-o"]
    assert subprocess.run([*docs, str(API_MD)], check=False, capture_output=True).returncode == 0
    stale = tmp_path / "api.md"
    stale.write_text(
        API_MD.read_text().replace("| `spec.members[].replicas` |", "| `spec.members[].count` |")
    )
    result = subprocess.run([*docs, str(stale)], check=False, capture_output=True, text=True)
    assert result.returncode == 1 and "differs from the models; run `make docs`" in result.stderr


def wire_names(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[str]:
    """Every field name on the wire of `model` and of the models nested in it."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(info.alias or name)
        for nested in crdgen._nested_models(info.annotation):
            names |= wire_names(nested, seen)
    return names


@pytest.mark.parametrize("definition", crdgen.DEFINITIONS, ids=[d.kind for d in crdgen.DEFINITIONS])
def test_every_field_of_every_kind_is_documented(definition: crdgen.CrdDefinition) -> None:
    documented = {
        segment.removesuffix("[]") for f in docgen.kind_fields(definition) for segment in f.path.split(".")
    }
    assert wire_names(definition.model) - documented == set()
    assert all(f.description for f in docgen.kind_fields(definition))


# (kind, field path, type, default, words of the validation cell)
ROWS = [
    ("AgentTeam", "spec.members[].replicas", "integer", "`1`", ["0..100"]),
    ("AgentTeam", "spec.members[].name", "string", "", ["required", "1..63 characters", "pattern"]),
    (
        "AgentTeam",
        "spec.members",
        "array of object",
        "",
        ["unique by `name`", "at most one member may have role pm"],
    ),
    ("AgentTeam", "spec.restartPolicy", "string", "`Always`", ["one of `Always`, `OnFailure`, `Never`"]),
    (
        "AgentTeam",
        "spec.strategy.canary.steps",
        "array of object",
        "`[{",
        ["the last canary step must have weight 100"],
    ),
    ("AgentTeam", "status.conditions[].type", "string", "", ["required"]),
    ("AgentTeam", "spec.placement.nodeSelector", "map of string", "", ["≤ 64 entries"]),
    ("Agent", "status.phase", "string", "", ["one of `Pending`"]),
    ("Agent", "status.lastActivityTime", "string (date-time)", "", []),
    ("AgentMessage", "spec.deliver", "string", "`WhenIdle`", ["one of `WhenIdle`, `Now`"]),
]


@pytest.mark.parametrize(
    ("kind", "path", "type_", "default", "words"), ROWS, ids=[f"{r[0]}.{r[1]}" for r in ROWS]
)
def test_rows_carry_type_default_and_validation(
    kind: str, path: str, type_: str, default: str, words: list[str]
) -> None:
    definition = next(d for d in crdgen.DEFINITIONS if d.kind == kind)
    row = next(f for f in docgen.kind_fields(definition) if f.path == path)
    assert row.type == type_
    assert row.default.startswith(default) if default else row.default == ""
    for word in words:
        assert word in row.validation


def test_generator_imports_no_cluster_tmux_or_event_loop() -> None:
    forbidden = ("kopf", "kubernetes_asyncio", "libtmux", "asyncio", "subprocess")
    probe = (
        "import sys, tmux_orchestrator.docgen as d; d.render_api_reference(); "
        f"print(sorted(m for m in {forbidden!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
