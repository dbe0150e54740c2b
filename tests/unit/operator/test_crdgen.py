"""The CRDs are generated from the models; the committed files must match, and drift is detected."""

from __future__ import annotations

from pathlib import Path

import pytest

from tmux_orchestrator import crdgen
from tmux_orchestrator.api import AgentTeam
from tmux_orchestrator.cli import main

REPO = Path(__file__).resolve().parents[3]


def test_committed_crds_match_the_models() -> None:
    for name, text in crdgen.crd_files().items():
        assert (REPO / "crds" / name).read_text() == text, f"crds/{name} drifted: run `make crds`"


def test_crds_check_detects_drift_and_write_repairs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["crds", "-o", str(tmp_path)]) == 0
    assert main(["crds", "-o", str(tmp_path), "--check"]) == 0
    target = tmp_path / "agentteams.orchestrator.tmux.dev.yaml"
    target.write_text(target.read_text().replace("maximum: 100", "maximum: 1000"))
    (tmp_path / "old.yaml").write_text("stale\n")
    assert main(["crds", "-o", str(tmp_path), "--check"]) == 1
    err = capsys.readouterr().err
    assert "agentteams.orchestrator.tmux.dev.yaml differs" in err and "old.yaml" in err
    assert main(["crds", "-o", str(tmp_path)]) == 0
    assert main(["crds", "-o", str(tmp_path), "--check"]) == 0


def _walk(schema: dict[str, object], path: str = "") -> list[str]:
    """Paths of every object schema that keeps unknown fields (must be none: no preserve-unknown-fields)."""
    found = [path] if schema.get("x-kubernetes-preserve-unknown-fields") else []
    for key in ("properties",):
        for prop, child in dict(schema.get(key, {})).items():  # type: ignore[call-overload]
            found += _walk(child, f"{path}.{prop}")
    items = schema.get("items")
    if isinstance(items, dict):
        found += _walk(items, f"{path}[]")
    return found


@pytest.mark.parametrize("definition", crdgen.DEFINITIONS, ids=lambda d: d.kind)
def test_schemas_are_structural_and_closed(definition: crdgen.CrdDefinition) -> None:
    crd = crdgen.build_crd(definition)
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    text = repr(schema)
    assert "$ref" not in text and "anyOf" not in text and "'title'" not in text
    assert _walk(schema) == []


def test_every_spec_field_has_a_description() -> None:
    schema = crdgen.structural_schema(AgentTeam)

    def undocumented(node: dict[str, object], path: str) -> list[str]:
        missing = [] if node.get("description") else [path]
        for prop, child in dict(node.get("properties", {})).items():  # type: ignore[call-overload]
            missing += undocumented(child, f"{path}.{prop}")
        items = node.get("items")
        if isinstance(items, dict) and "properties" in items:
            missing += undocumented(items, f"{path}[]")
        return missing

    assert undocumented(schema["properties"]["spec"], "spec") == []
