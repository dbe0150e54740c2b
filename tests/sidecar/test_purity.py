"""The pure modules stay pure: no event loop, no processes, no tmux, no Kubernetes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tmux_sidecar

PACKAGE = Path(tmux_sidecar.__file__).parent
PURE = [
    "classification.py",
    "input_area.py",
    "submission.py",
    "restart.py",
    "profiles/__init__.py",
    "profiles/_screen.py",
    "profiles/claude_code.py",
    "profiles/codex.py",
    "profiles/aider.py",
    "profiles/shell.py",
    "tmux/commands.py",
    "tmux/protocol.py",
]
FORBIDDEN = {
    "asyncio",
    "subprocess",
    "libtmux",
    "kubernetes",
    "kubernetes_asyncio",
    "kopf",
    "socket",
    "threading",
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports(module: str) -> None:
    imported = {name.split(".")[0] for name in imported_modules(PACKAGE / module)}
    assert not imported & FORBIDDEN
    assert "tmux_sidecar.tmux.control" not in imported_modules(PACKAGE / module)


@pytest.mark.parametrize("module", ["fake_agent.py", "fake_agent_input.py"])
def test_fake_agent_imports_only_the_standard_library(module: str) -> None:
    own = {"tmux_sidecar.fake_agent_input"}  # its input line, itself standard library only
    imported = {name.split(".")[0] for name in imported_modules(PACKAGE / module) - own}
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
