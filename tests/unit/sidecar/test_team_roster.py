"""Who a `team send` target means, what a reply answers, and how the CLI reads a duration (pure)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tmux_orchestrator.team_view import in_the_future, parse_duration, render_status
from tmux_sidecar.fake_agent import ScriptError, Step, parse_step
from tmux_sidecar.localapi.messages import message_body, reply_to, roster, sender_refusal, sender_to_verify
from tmux_sidecar.localapi.protocol import LocalApiError
from tmux_sidecar.localapi.roster import TeamAgent, resolve_target, team_agents

PM = TeamAgent("web-pm-0", "web", "pm", 0, "pm", node="n1", uid="u-pm")
DEV = [TeamAgent(f"web-dev-{i}", "web", "dev", i, "developer", node="n1", uid=f"u-dev-{i}") for i in range(3)]
QA = TeamAgent("web-qa-0", "web", "qa", 0, "qa", node="n2", uid="u-qa")
TEAM = [*DEV, PM, QA]

TARGETS = [
    ("agent-by-member-ordinal", "dev-1", "web-pm-0", ["web-dev-1"]),
    ("member-is-each-replica", "dev", "web-pm-0", ["web-dev-0", "web-dev-1", "web-dev-2"]),
    ("member-leaves-out-the-sender", "dev", "web-dev-1", ["web-dev-0", "web-dev-2"]),
    ("role", "@developer", "web-qa-0", ["web-dev-0", "web-dev-1", "web-dev-2"]),
    ("all-but-the-sender", "all", "web-pm-0", ["web-dev-0", "web-dev-1", "web-dev-2", "web-qa-0"]),
    ("oneself-by-name", "pm-0", "web-pm-0", ["web-pm-0"]),
    ("spaces-around", " qa ", "web-pm-0", ["web-qa-0"]),
]


@pytest.mark.parametrize(("target", "sender", "names"), [c[1:] for c in TARGETS], ids=[c[0] for c in TARGETS])
def test_resolve_target(target: str, sender: str, names: list[str]) -> None:
    assert [a.name for a in resolve_target(target, TEAM, sender)] == names


BAD_TARGETS = [
    (
        "unknown-lists-what-exists",
        "ops-dev-0",
        "no agent, member or role 'ops-dev-0' in this team. Agents: dev-0, dev-1, dev-2, pm-0, qa-0. "
        "Members: dev, pm, qa. Roles: @developer, @pm, @qa. Or: all.",
    ),
    ("ordinal-out-of-range", "dev-3", "no agent, member or role 'dev-3'"),
    ("unknown-role", "@designer", "no agent, member or role '@designer'"),
    ("only-member-is-me", "pm", "you are the only agent of member 'pm'"),
    ("only-role-is-me", "@pm", "you are the only agent with role 'pm'"),
]


@pytest.mark.parametrize(("target", "error"), [c[1:] for c in BAD_TARGETS], ids=[c[0] for c in BAD_TARGETS])
def test_a_bad_target_says_what_exists(target: str, error: str) -> None:
    with pytest.raises(LocalApiError) as caught:
        resolve_target(target, TEAM, "web-pm-0")
    assert caught.value.message.startswith(error)


def test_message_body_names_the_sender_and_routes_to_the_receivers_node() -> None:
    body = message_body(PM, QA, "review #12", from_node="n1", deliver_after="2030-01-01T00:00:00Z")
    assert body["spec"] == {
        "agent": "web-qa-0",
        "from": "web-pm-0",
        "text": "review #12",
        "deliver": "WhenIdle",
        "deliverAfter": "2030-01-01T00:00:00Z",
    }
    labels = body["metadata"]["labels"]
    assert (labels["orchestrator.tmux.dev/node"], labels["orchestrator.tmux.dev/agent"]) == ("n2", "web-qa-0")
    assert labels["orchestrator.tmux.dev/from-node"] == "n1"  # checked by the admission policy
    assert body["metadata"]["ownerReferences"][0]["uid"] == "u-qa"


SENDERS = [
    ("on-the-creating-node", "n1", {"spec": {"nodeName": "n1"}}, None),
    (
        "on-another-node",
        "n1",
        {"spec": {"nodeName": "n2"}},
        "runs on node n2, but the message was created by node n1",
    ),
    ("no-from-node-label", None, {"spec": {"nodeName": "n1"}}, "created by node (unknown)"),
    ("sender-gone", "n1", None, "sender web-pm-0 does not exist"),
]


@pytest.mark.parametrize(
    ("from_node", "agent", "refusal"), [c[1:] for c in SENDERS], ids=[c[0] for c in SENDERS]
)
def test_a_message_is_typed_only_when_its_sender_is_on_the_node_that_sent_it(
    from_node: str | None, agent: dict[str, Any] | None, refusal: str | None
) -> None:
    result = sender_refusal("web-pm-0", from_node, agent)
    assert result == refusal if refusal is None else refusal in (result or "")


TO_VERIFY = [
    ("new-from-an-agent", {"from": "web-pm-0"}, {}, "web-pm-0"),
    ("pending-after-a-try", {"from": "web-pm-0"}, {"phase": "Pending", "attempts": 1}, "web-pm-0"),
    ("from-a-person", {}, {}, None),
    ("verified-when-new", {"from": "web-pm-0"}, {"senderVerifiedAt": "2030-01-01T00:00:00Z"}, None),
    ("already-delivered", {"from": "web-pm-0"}, {"phase": "Delivered"}, None),
    ("already-failed", {"from": "web-pm-0"}, {"phase": "Failed"}, None),
]


@pytest.mark.parametrize(
    ("spec", "status", "sender"), [c[1:] for c in TO_VERIFY], ids=[c[0] for c in TO_VERIFY]
)
def test_a_sender_is_verified_once_while_its_message_is_new_and_the_verdict_holds(
    spec: dict[str, Any], status: dict[str, Any], sender: str | None
) -> None:
    message = {
        "metadata": {"name": "m"},
        "spec": {"agent": "web-dev-0", "text": "x", **spec},
        "status": status,
    }
    assert sender_to_verify(message) == sender


def _message(to: str, sender: str | None, created: str, delivered: str | None = None) -> dict[str, Any]:
    spec = {"agent": to, "text": "x", **({"from": sender} if sender else {})}
    status = {"phase": "Delivered", "deliveredAt": delivered} if delivered else {}
    return {
        "metadata": {"name": f"m-{created}", "creationTimestamp": created},
        "spec": spec,
        "status": status,
    }


def test_reply_goes_to_the_teammate_heard_last_never_to_a_person() -> None:
    me = DEV[0]
    messages = [
        _message("web-dev-0", "web-pm-0", "2030-01-01T00:00:01Z", "2030-01-01T00:00:02Z"),
        _message("web-dev-0", "web-qa-0", "2030-01-01T00:00:03Z", "2030-01-01T00:00:09Z"),
        _message("web-dev-0", None, "2030-01-01T00:00:10Z", "2030-01-01T00:00:11Z"),  # a person
        _message("web-dev-1", "web-pm-0", "2030-01-01T00:00:12Z", "2030-01-01T00:00:13Z"),  # someone else's
    ]
    assert reply_to(messages, me) == "web-qa-0"
    assert reply_to(messages[2:], me) is None


def test_a_checkin_time_is_rounded_up_to_whole_seconds() -> None:
    now = datetime.datetime(2030, 1, 1, 0, 0, 0, 250000, tzinfo=datetime.UTC)
    assert in_the_future(now, 5) == "2030-01-01T00:00:06Z"
    assert in_the_future(now.replace(microsecond=0), 5) == "2030-01-01T00:00:05Z"


DURATIONS = [
    ("bare-seconds", "90", 90),
    ("seconds", "5s", 5),
    ("minutes", "10m", 600),
    ("mixed", "1h30m", 5400),
]


@pytest.mark.parametrize(("text", "seconds"), [c[1:] for c in DURATIONS], ids=[c[0] for c in DURATIONS])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "0s", "5s later"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_fake_agent_run_step() -> None:
    assert parse_step("run tmux-orchestrator team status") == Step(
        "run", text="tmux-orchestrator team status"
    )
    with pytest.raises(ScriptError):
        parse_step("run")


def test_team_status_says_who_reported_the_activity_and_the_last_answer() -> None:
    answer = "Merged dev-1's branch; the billing page tests pass.\n\nNext I will review dev-2's work."
    objects = [
        {
            "metadata": {"name": "web-dev-1", "uid": "u1"},
            "spec": {"teamRef": {"name": "web"}, "member": "dev", "ordinal": 1, "role": "developer"},
            "status": {
                "phase": "Running",
                "activity": "Idle",
                "activitySource": "Hook",
                "lastAssistantMessage": answer,
            },
        },
        {
            "metadata": {"name": "web-qa-0", "uid": "u2"},
            "spec": {"teamRef": {"name": "web"}, "member": "qa", "ordinal": 0, "role": "qa"},
            "status": {"phase": "Running", "activity": "Busy", "activitySource": "Screen"},
        },
    ]
    agents = team_agents(objects, "web")
    result = roster(agents, [], agents[0])
    rows = {row["agent"]: row for row in result["agents"]}
    assert (rows["dev-1"]["activitySource"], rows["dev-1"]["lastAssistantMessage"]) == ("Hook", answer)
    assert (rows["qa-0"]["activitySource"], rows["qa-0"]["lastAssistantMessage"]) == ("Screen", None)
    header, dev, qa = render_status(result).splitlines()[1:]
    assert header.split()[-2:] == ["LAST", "ANSWER"]
    assert "Idle (hook)" in dev and dev.endswith(
        "Merged dev-1's branch; the billing page tests pass. Next I…"
    )
    assert "Busy (screen)" in qa and qa.endswith("-")
