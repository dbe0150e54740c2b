"""The dashboard's pages as HTML (pure): object text is escaped, bars and bands are where they belong, and
the write actions send what the kubectl plugin sends."""

from __future__ import annotations

from typing import Any

import pytest

from tmux_orchestrator.dashboard.actions import ActionError, send_body
from tmux_orchestrator.dashboard.timeline import Band, BandState
from tmux_orchestrator.dashboard.views import agent_live, fleet_live, team_header, team_live, timeline_live

NOW = 1_800_000_000.0
TEAM: dict[str, Any] = {
    "apiVersion": "orchestrator.tmux.dev/v1alpha1",
    "kind": "AgentTeam",
    "metadata": {"name": "web", "namespace": "ns", "uid": "u1", "creationTimestamp": "2027-01-15T08:00:00Z"},
    "spec": {"members": [{"name": "pm"}, {"name": "dev"}]},
    "status": {
        "ready": "3/4",
        "phase": "Progressing",
        "replicas": 4,
        "updatedReplicas": 1,
        "node": "n1",
        "rollout": {"stage": "canary", "weight": 25},
    },
}


def agent(name: str, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns", "labels": {"orchestrator.tmux.dev/member": "dev"}},
        "spec": {"teamRef": {"name": "web"}, "member": "dev", "role": "developer", "nodeName": "n1"},
        "status": status,
    }


def test_fleet_shows_ready_phase_node_and_rollout_progress() -> None:
    html = fleet_live([TEAM], [], NOW)
    assert 'data-team="web"' in html and ">3/4<" in html and "Progressing" in html and ">n1<" in html
    assert 'aria-valuenow="25"' in html and "1/4 updated · canary 25%" in html


def test_text_from_objects_is_escaped() -> None:
    evil = agent("a<b>", phase="Running", lastCrashReason="<script>alert(1)</script>")
    message = {
        "metadata": {"name": "m", "creationTimestamp": "2027-01-15T08:00:00Z"},
        "spec": {"text": "<img src=x onerror=alert(1)>", "agent": "a"},
        "status": {"phase": "Delivered"},
    }
    html = team_live(TEAM, [evil], {"a<b>": message}, NOW) + agent_live(evil, [message], [], [], [], NOW)
    assert "<script>" not in html and "<img" not in html and "a<b>" not in html and "a&lt;b&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_team_header_offers_actions_only_when_enabled() -> None:
    assert "data-action" not in team_header(TEAM, ["pm", "dev"], actions=False)
    html = team_header(TEAM, ["pm", "dev"], actions=True)
    assert all(f'data-action="{verb}"' in html for verb in ("promote", "abort", "restart"))
    assert '<option value="dev">' in html


def test_timeline_places_bands_by_time() -> None:
    bands = [Band(BandState.IDLE, NOW - 3600, NOW - 1800), Band(BandState.CRASHED, NOW - 1800, NOW)]
    html = timeline_live(TEAM, [("web-dev-0", bands)], NOW)
    assert 'class="band band-idle" data-state="idle" style="left:0.000%;width:50.000%"' in html
    assert 'class="band band-crashed" data-state="crashed" style="left:50.000%;width:50.000%"' in html


def test_send_builds_the_plugins_message_with_the_text_unchanged() -> None:
    text = '  two\nlines; $(not a shell) \\ "quoted"  '
    body = send_body(TEAM, [agent("web-pm-0")], {"member": "pm", "text": text})
    assert body["spec"] == {"agent": "web-pm-0", "text": text, "deliver": "WhenIdle"}


BAD_SENDS = [
    ("not-an-object", ["pm", "hi"], "JSON object"),
    ("unknown-member", {"member": "qa", "text": "hi"}, "member must be one of pm, dev"),
    ("blank-text", {"member": "pm", "text": "  "}, "non-empty"),
    ("text-not-a-string", {"member": "pm", "text": 3}, "non-empty"),
]


@pytest.mark.parametrize(("payload", "error"), [b[1:] for b in BAD_SENDS], ids=[b[0] for b in BAD_SENDS])
def test_bad_sends_are_refused_with_the_reason(payload: object, error: str) -> None:
    with pytest.raises(ActionError, match=error):
        send_body(TEAM, [], payload)


def test_agent_report_and_messages_in_and_out_are_shown() -> None:
    reporting = agent(
        "web-dev-0", phase="Running", report={"state": "blocked", "note": "waiting for the API key"}
    )
    incoming = {
        "metadata": {"name": "m1", "creationTimestamp": "2027-01-15T07:59:00Z"},
        "spec": {"agent": "web-dev-0", "from": "web-pm-0", "text": "take issue 7"},
        "status": {"phase": "Delivered"},
    }
    outgoing = {
        "metadata": {"name": "m2", "creationTimestamp": "2027-01-15T07:59:30Z"},
        "spec": {"team": "web", "member": "pm", "from": "web-dev-0", "text": "done with issue 7"},
        "status": {"phase": "Pending"},
    }
    team = team_live(TEAM, [reporting], {"web-dev-0": incoming}, NOW)
    assert "report-blocked" in team and "waiting for the API key" in team and "take issue 7" in team
    page = agent_live(reporting, [incoming], [outgoing], [], [], NOW)
    messages_in, messages_out = page.split("<h2>Messages out</h2>")
    assert "web-pm-0" in messages_in and "take issue 7" in messages_in
    assert "pm" in messages_out and "done with issue 7" in messages_out and "take issue 7" not in messages_out
