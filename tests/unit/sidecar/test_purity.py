"""The pure modules stay pure: the one list of them (pyproject's import-linter contract "pure") is checked
here too, file by file, so a forbidden import fails the tests as well as `make lint`."""

from __future__ import annotations

import ast
import importlib.util
import tomllib
from pathlib import Path

import pytest

import tmux_sidecar

REPO = Path(__file__).resolve().parents[3]
PACKAGE = Path(tmux_sidecar.__file__).parent


def pure_contract() -> dict[str, list[str]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c.get("id") == "pure"]
    return {"sources": contract["source_modules"], "forbidden": contract["forbidden_modules"]}


def module_files(module: str) -> list[Path]:
    """The source file of `module`, or every file of the package."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    origin = Path(spec.origin)
    return sorted(origin.parent.rglob("*.py")) if origin.name == "__init__.py" else [origin]


def imported_modules(path: Path, package: str) -> set[str]:
    """Every module `path` imports (relative imports resolved against `package`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                base = node.module
            else:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def dotted_package(path: Path) -> str:
    """The package a file belongs to, from its place under src/."""
    parts = path.with_suffix("").parts
    start = max(i for i, part in enumerate(parts) if part == "src") + 1
    return ".".join(parts[start:-1])


CONTRACT = pure_contract()
PURE_FILES = sorted({path for module in CONTRACT["sources"] for path in module_files(module)})


def test_the_pure_list_names_the_decision_modules() -> None:
    for module in (
        "tmux_sidecar.delivery",
        "tmux_orchestrator.controller.routing",
        "tmux_sidecar.tmux.commands",
    ):
        assert module in CONTRACT["sources"]
    for module in ("os", "time", "socket", "threading", "subprocess", "asyncio", "prometheus_client"):
        assert module in CONTRACT["forbidden"]


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_pure_module_imports_nothing_forbidden(path: Path) -> None:
    imported = imported_modules(path, dotted_package(path))
    forbidden = {
        name
        for name in imported
        for banned in CONTRACT["forbidden"]
        if name == banned or name.startswith(banned + ".")
    }
    assert not forbidden


@pytest.mark.parametrize("module", ["fake_agent.py", "fake_agent_input.py"])
def test_fake_agent_imports_only_the_standard_library(module: str) -> None:
    own = "tmux_sidecar.fake_agent_input"  # its input line, itself standard library only
    names = imported_modules(PACKAGE / module, "tmux_sidecar")
    imported = {name.split(".")[0] for name in names if name != own and not name.startswith(own + ".")}
    assert imported <= {
        "__future__",
        "argparse",
        "codecs",
        "contextlib",
        "os",
        "select",
        "signal",
        "sys",
        "time",
        "collections",
        "dataclasses",
        "typing",
        "json",
        "termios",
        "subprocess",  # the run step: a command in the pane, as an agent tool runs one
    }
