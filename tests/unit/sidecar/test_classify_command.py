"""`tmux-orchestrator classify`: JSON verdicts from stdin through the same profile code."""

from __future__ import annotations

import io
import json

import pytest

from tmux_orchestrator.cli import main

IDLE_SCREEN = "╭────╮\n│ >  │\n╰────╯\n  ? for shortcuts\n"
FAILING_TESTS = "FAILED tests/test_x.py::test_y\nTraceback (most recent call last):\nError: boom\n"


def classify(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["classify", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("stdin", "args", "expected"),
    [
        pytest.param(
            IDLE_SCREEN, ["--profile", "claude-code"], {"activity": "Idle", "crashed": False}, id="idle"
        ),
        pytest.param(
            FAILING_TESTS,
            ["--profile", "shell", "--command", "pytest"],
            {"activity": "Busy", "crashed": False},
            id="live-failures-are-no-crash",
        ),
        pytest.param(
            FAILING_TESTS,
            ["--profile", "codex", "--dead", "--exit-status", "1"],
            {"activity": "Unknown", "crashed": True},
            id="dead-with-status",
        ),
        pytest.param(
            "bye\n",
            ["--profile", "aider", "--exit-signal", "9"],
            {"activity": "Unknown", "crashed": True},
            id="signal-implies-dead",
        ),
        pytest.param(
            IDLE_SCREEN,
            ["--profile", "claude-code", "--dead", "--exit-status", "0"],
            {"crashed": False},
            id="clean-exit-is-no-crash",
        ),
    ],
)
def test_classify(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stdin: str,
    args: list[str],
    expected: dict[str, object],
) -> None:
    code, out, _ = classify(monkeypatch, capsys, stdin, *args)
    verdict = json.loads(out)
    assert code == 0
    assert {key: verdict[key] for key in expected} == expected
    assert set(verdict) >= {"activity", "ready", "crash", "crashed", "rateLimitResetsAt", "profile"}


def test_crash_evidence_in_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = classify(monkeypatch, capsys, "starting\nfatal: no config\n", "--dead", "--exit-status", "78")
    crash = json.loads(out)["crash"]
    assert crash["exitCode"] == 78 and crash["kind"] == "Exited"
    assert crash["lastLines"] == ["starting", "fatal: no config"]
    assert crash["reason"] == "exited with status 78: starting | fatal: no config"


def test_unknown_profile(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = classify(monkeypatch, capsys, "", "--profile", "claud")
    assert code == 2 and out == ""
    assert "unknown detector profile 'claud'" in err and "claude-code" in err


def test_list(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = classify(monkeypatch, capsys, "", "--list")
    assert {"aider", "claude-code", "codex", "shell"} <= set(out.split())
