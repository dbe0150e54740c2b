"""Every screen captured from the real CLIs (tests/data/screens, `tmux-orchestrator dev capture`) is read
as the activity a person sees on it, by the profile of that CLI, with the process alive."""

from __future__ import annotations

import pytest

from support.screens import CapturedScreen, captured_screens
from tmux_orchestrator.api.agent import Activity
from tmux_orchestrator.realagents.versions import VERSIONS
from tmux_sidecar.classification import PaneSnapshot, ProcessFacts
from tmux_sidecar.profile_plugins import load_profile

SCREENS = captured_screens()


@pytest.mark.parametrize("screen", [pytest.param(s, id=s.id) for s in SCREENS])
def test_captured_screen_is_read_right(screen: CapturedScreen) -> None:
    process = ProcessFacts(dead=False, current_command=screen.cli, pid=100)
    verdict = load_profile(screen.cli).classify(PaneSnapshot(screen.lines(), process))
    assert verdict.activity is screen.activity, f"{screen.file}: {verdict.detail}"
    # Ready for input on every screen but a CLI still starting (Codex before its session is configured).
    assert verdict.ready is (screen.activity is not Activity.UNKNOWN)
    assert verdict.crash is None  # words such as "API Error" on a live pane are never a crash


def test_the_pinned_version_of_every_cli_has_captured_screens_of_every_state() -> None:
    states = {(s.cli, s.version, s.activity) for s in SCREENS}
    for cli, version in VERSIONS.items():
        for activity in (Activity.IDLE, Activity.BUSY, Activity.WAITING_FOR_INPUT, Activity.RATE_LIMITED):
            assert (cli, version, activity) in states, f"no {activity} screen of {cli} {version}"


def test_rate_limited_retries_say_when_the_next_try_is() -> None:
    limited = [s for s in SCREENS if s.activity is Activity.RATE_LIMITED and s.cli != "codex"]
    assert limited
    for screen in limited:
        process = ProcessFacts(dead=False, current_command=screen.cli, pid=100)
        verdict = load_profile(screen.cli).classify(PaneSnapshot(screen.lines(), process))
        assert verdict.rate_limit_resets_at, screen.file
