"""Publishing into the cache: a finished build appears whole at its place, an interrupted one never does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tmux_orchestrator.devcluster.cachedir import staged


def test_a_finished_build_replaces_the_old_one_in_one_piece(tmp_path: Path) -> None:
    target = tmp_path / "agents-v2"
    target.mkdir()
    (target / "stale").write_text("from an older build\n")
    with staged(target) as staging:
        (staging / "bin").mkdir()
        (staging / "bin" / "claude").write_text("new\n")
        assert not (target / "bin").exists()  # nothing is visible at the target while it is built
    assert sorted(p.name for p in target.iterdir()) == ["bin"]
    assert (target / "bin" / "claude").read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["agents-v2"]


def test_an_interrupted_build_leaves_the_target_as_it_was_and_no_staging(tmp_path: Path) -> None:
    target = tmp_path / "controlplane-v1"
    with pytest.raises(RuntimeError, match="go build failed"), staged(target) as staging:
        (staging / "half").write_text("half-done\n")
        raise RuntimeError("go build failed")
    assert list(tmp_path.iterdir()) == []
