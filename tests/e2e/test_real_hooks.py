"""Issue 12, hooks first: the real Claude Code (pinned) reports its own state through the hooks the node
agent gives it (`--settings`, a file in the node agent's runtime directory), and the Agent's status says so
(activitySource Hook) with the agent's last answer. A process outside every agent pane cannot report."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.e2e import System, answer_dialog, member, team, wait_team_ready
from support.fakemodel import FakeModelServer, real_cli_members, start_fake_model
from support.kube import Kubectl, wait_for
from support.processes import BIN, tmux
from tmux_orchestrator.realagents.homes import prepare
from tmux_orchestrator.realagents.install import ensure_agents
from tmux_sidecar.localapi.client import call
from tmux_sidecar.localapi.protocol import ErrorCode, LocalApiError, Operation

ANSWER = "Hooked answer from the fake model, streamed slowly."


@pytest.fixture
def model(tmp_path: Path) -> Iterator[FakeModelServer]:
    # A slow stream: the turn lasts long enough for Busy to be seen before Stop.
    server = start_fake_model(tmp_path / "fake-model", f'default: {{text: "{ANSWER}", seconds: 4}}\n')
    yield server
    server.stop()


def claude_member(
    model: FakeModelServer, root: Path, env: dict[str, str] | None = None, **member: Any
) -> dict[str, Any]:
    workdir = root / "project"
    workdir.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(workdir)], check=True)
    launch = prepare(
        "claude-code", binaries=ensure_agents(), home=root / "home", workdir=workdir, base_url=model.url
    )
    return {
        "name": "claude",
        "role": "developer",
        "command": list(launch.argv),
        "profile": "claude-code",
        "env": [{"name": key, "value": value} for key, value in sorted((launch.env | (env or {})).items())],
        "workingDir": str(workdir),
        **member,
    }


def pane_environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


@pytest.mark.timeout(300)
def test_a_prompt_makes_real_claude_code_busy_then_idle_by_hook(
    system: System, model: FakeModelServer, tmp_path: Path
) -> None:
    kube = system.kube
    kube.apply(team("hooked", system.pool, [claude_member(model, tmp_path / "claude")]))
    wait_team_ready(kube, "hooked", timeout=180)
    agent = kube.get("agent", "hooked-claude-0")
    api_socket = pane_environment(agent["status"]["pid"])["TMUX_ORCHESTRATOR_SOCKET"]
    settings = Path(api_socket).parent / "hooks" / f"{agent['metadata']['uid']}.json"
    assert set(json.loads(settings.read_text())["hooks"]) >= {"UserPromptSubmit", "Stop"}

    seen: list[tuple[str, str | None]] = []

    def status() -> dict[str, Any]:
        current: dict[str, Any] = kube.get("agent", "hooked-claude-0").get("status") or {}
        pair = (current.get("activity"), current.get("activitySource"))
        if not seen or seen[-1] != pair:
            seen.append(pair)
        return current

    kube.apply(
        {
            "apiVersion": "orchestrator.tmux.dev/v1alpha1",
            "kind": "AgentMessage",
            "metadata": {"name": "hello"},
            "spec": {"team": "hooked", "member": "claude", "text": "say hello", "deliver": "WhenIdle"},
        }
    )
    wait_for(
        lambda: (s := status()).get("activity") == "Busy" and s.get("activitySource") == "Hook",
        timeout=60,
        message="Busy by hook",
    )
    done = wait_for(
        lambda: (
            (s := status()).get("activity") == "Idle"
            and s.get("activitySource") == "Hook"
            and s.get("lastAssistantMessage") == ANSWER
            and s
        ),
        timeout=60,
        message=f"Idle by hook with the last answer; seen {seen}",
    )
    assert done["lastAssistantMessage"] == ANSWER
    assert len(model.received()) == 1  # one turn, one prompt at the model
    # The agent's own word confirmed the delivery: its UserPromptSubmit carried the message's text.
    message = kube.get("agentmessage", "hello")["status"]
    assert (message["phase"], message["confirmation"], message["attempts"]) == ("Delivered", "Hook", 1)

    # Outside every agent pane: the node agent refuses the report, and the hook command still exits 0.
    with pytest.raises(LocalApiError) as refused:
        call(Operation.HOOK, {"event": "UserPromptSubmit", "payload": {"prompt": "x"}}, path=api_socket)
    assert refused.value.code is ErrorCode.NOT_AN_AGENT
    spoof = subprocess.run(
        [str(BIN / "tmux-orchestrator"), "hook", "UserPromptSubmit"],
        input=json.dumps({"prompt": "spoofed"}),
        env={**os.environ, "TMUX_ORCHESTRATOR_SOCKET": api_socket},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (spoof.returncode, spoof.stdout, spoof.stderr) == (0, "", "")


class StatusWatch:
    """The Agent's status as the test sees it, and every (activity, source) it went through."""

    def __init__(self, kube: Kubectl, name: str) -> None:
        self.kube, self.name = kube, name
        self.seen: list[tuple[str | None, str | None]] = []

    def now(self) -> dict[str, Any]:
        current: dict[str, Any] = self.kube.get("agent", self.name).get("status") or {}
        pair = (current.get("activity"), current.get("activitySource"))
        if not self.seen or self.seen[-1] != pair:
            self.seen.append(pair)
        return current

    def wait(self, activity: str, source: str, timeout: float = 60) -> dict[str, Any]:
        found: dict[str, Any] = wait_for(
            lambda: (s := self.now()).get("activity") == activity and s.get("activitySource") == source and s,
            timeout=timeout,
            interval=0.2,
            message=f"{activity} by {source}; seen {self.seen}",
        )
        return found


def message(name: str, team_name: str, text: str, to: str = "claude") -> dict[str, Any]:
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentMessage",
        "metadata": {"name": name},
        "spec": {"team": team_name, "member": to, "text": text, "deliver": "WhenIdle"},
    }


# The approval dialogs' question (Claude Code 2.1.332, Codex 0.171.0); both preselect yes.
DIALOG_QUESTIONS = ("Do you want to proceed?", "Would you like to run the following command?")


def approve(system: System, window: str) -> None:
    answer_dialog(system.nodes[0].socket, window, *DIALOG_QUESTIONS)


APPROVAL_AND_LIMIT = """rules:
  - when: "run it"
    tool: {command: "touch approved.txt"}
  - when: "hit the limit"
    status: 429
default: {text: "Done."}
"""


@pytest.fixture
def asking_model(tmp_path: Path) -> Iterator[FakeModelServer]:
    server = start_fake_model(tmp_path / "asking-model", APPROVAL_AND_LIMIT)
    yield server
    server.stop()


def run_alone(system: System, team_name: str, member: dict[str, Any]) -> StatusWatch:
    """A team of one agent, Ready; the watch on its status."""
    system.kube.apply(team(team_name, system.pool, [member]))
    wait_team_ready(system.kube, team_name, timeout=180)
    return StatusWatch(system.kube, f"{team_name}-{member['name']}-0")


@pytest.mark.timeout(300)
def test_real_claude_code_reports_its_approval_dialog_and_a_rate_limit_by_hook(
    system: System, asking_model: FakeModelServer, tmp_path: Path
) -> None:
    kube = system.kube
    # One retry: Claude Code gives up on the 429 (its StopFailure hook) within seconds.
    member = claude_member(asking_model, tmp_path / "claude", {"CLAUDE_CODE_MAX_RETRIES": "1"})
    watch = run_alone(system, "asking", member)

    kube.apply(message("run", "asking", "please run it"))
    watch.wait("WaitingForInput", "Hook")  # PermissionRequest, as the dialog opens
    project = Path(member["workingDir"])
    assert not (project / "approved.txt").exists()
    approve(system, "=asking:claude-0")
    watch.wait("Idle", "Hook")  # PostToolUse, then Stop
    assert (project / "approved.txt").exists()  # approved, and the command ran

    kube.apply(message("limit", "asking", "hit the limit"))
    watch.wait("RateLimited", "Hook")  # StopFailure rate_limit, when it gave up retrying
    assert [r["text"] for r in asking_model.received()].count("hit the limit") == 2  # a try and a retry


@pytest.mark.timeout(300)
def test_with_hooks_switched_off_the_screen_reports_the_same_transitions(
    system: System, asking_model: FakeModelServer, tmp_path: Path
) -> None:
    kube = system.kube
    member = claude_member(asking_model, tmp_path / "claude", tools={"hooks": False})
    watch = run_alone(system, "unhooked", member)
    agent = kube.get("agent", "unhooked-claude-0")
    assert "--settings" not in Path(f"/proc/{agent['status']['pid']}/cmdline").read_bytes().split(b"\0")

    kube.apply(message("run", "unhooked", "please run it"))
    watch.wait("WaitingForInput", "Screen")
    sent = kube.get("agentmessage", "run")["status"]
    assert sent["phase"] == "Delivered" and sent["confirmation"] in ("Busy", "Transcript")
    approve(system, "=unhooked:claude-0")
    watch.wait("Idle", "Screen")
    assert (Path(member["workingDir"]) / "approved.txt").exists()

    kube.apply(message("limit", "unhooked", "hit the limit"))
    watch.wait("RateLimited", "Screen")  # while it retries
    assert {source for _, source in watch.seen} <= {"Screen", None}, watch.seen  # no hook ever spoke


@pytest.mark.timeout(300)
def test_real_codex_reports_its_turn_and_approval_by_hook(
    system: System, asking_model: FakeModelServer, tmp_path: Path
) -> None:
    kube = system.kube
    (codex,) = real_cli_members(["codex"], ensure_agents(), asking_model, tmp_path / "agents")
    watch = run_alone(system, "cx", codex)

    kube.apply(message("run", "cx", "please run it", to="codex"))
    watch.wait("WaitingForInput", "Hook")  # Codex's PermissionRequest
    sent = kube.get("agentmessage", "run")["status"]
    assert (sent["phase"], sent["confirmation"]) == ("Delivered", "Hook")  # its UserPromptSubmit
    approve(system, "=cx:codex-0")
    done = watch.wait("Idle", "Hook")  # PostToolUse, then Stop
    assert done["lastAssistantMessage"] == "Done."
    assert (Path(codex["workingDir"]) / "approved.txt").exists()


BRIEFING = "You lead team recall. The code word is PLUM-42; keep dev-0 busy."


def requests_with(dumps: Path, text: str) -> list[str]:
    """The request bodies the fake model received (--dump-dir) that contain `text`, oldest first."""
    bodies = [path.read_text() for path in sorted(dumps.glob("*.json"))]
    return [body for body in bodies if text in body]


def strings(value: object) -> list[str]:
    """Every string in a JSON value (a request body: its system prompt, messages and their blocks)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return []


def lead_member(cli: str, model: FakeModelServer, root: Path) -> dict[str, Any]:
    """The team's PM, run by the real `cli`, with BRIEFING."""
    if cli == "claude-code":
        base = claude_member(model, root)
    else:
        (base,) = real_cli_members([cli], ensure_agents(), model, root)
    return base | {"name": "lead", "role": "pm", "briefing": BRIEFING}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("cli", ["claude-code", "codex"])
def test_after_compact_the_real_cli_is_given_its_briefing_and_team_again(
    system: System, tmp_path: Path, cli: str
) -> None:
    dumps = tmp_path / "requests"
    dumps.mkdir()
    model = start_fake_model(tmp_path / "fake-model", 'default: {text: "Noted."}\n', "--dump-dir", str(dumps))
    try:
        kube = system.kube
        kube.apply(team("recall", system.pool, [lead_member(cli, model, tmp_path / cli), member("dev")]))
        wait_team_ready(kube, "recall", timeout=180)
        watch = StatusWatch(kube, "recall-lead-0")
        # Its briefing is its first prompt; the answer ends the turn.
        wait_for(lambda: BRIEFING in [r["text"] for r in model.received()], timeout=60, message="briefed")
        watch.wait("Idle", "Hook")
        assert requests_with(dumps, "[tmux-orchestrator] Your session was restarted") == []  # not at startup

        window = "=recall:lead-0"
        tmux(system.nodes[0].socket, "send-keys", "-t", window, "-l", "/compact", check=True)
        wait_for(
            lambda: "/compact" in tmux(system.nodes[0].socket, "capture-pane", "-p", "-t", window).stdout,
            timeout=20,
            message="/compact typed",
        )
        tmux(system.nodes[0].socket, "send-keys", "-t", window, "Enter", check=True)
        # Claude Code: "Compacted (ctrl+o …)"; Codex: "Context compacted".
        wait_for(
            lambda: "ompacted" in tmux(system.nodes[0].socket, "capture-pane", "-p", "-t", window).stdout,
            timeout=60,
            message="compacted",
        )

        kube.apply(message("after", "recall", "what is the code word?", to="lead"))
        wait_for(
            lambda: "what is the code word?" in [r["text"] for r in model.received()],
            timeout=60,
            message="the question reached the model",
        )
        # The turn after compaction carries the briefing and the roster, as the hook handed them back:
        # Claude Code in its system text ("SessionStart hook additional context: …"), Codex as a developer
        # message of its own.
        (after,) = requests_with(dumps, "what is the code word?")
        start = "[tmux-orchestrator] Your session was restarted (compact)"
        (context,) = [text[text.index(start) :] for text in strings(json.loads(after)) if start in text]
        assert "You are lead-0 (lead, pm) in team recall." in context
        assert f"Your briefing:\n{BRIEFING}\n" in context
        assert "\n- dev-0: developer, Running" in context
        assert "\n- lead-0 (you): pm, Running" in context
    finally:
        model.stop()


def test_the_hook_command_never_fails_the_cli_without_a_node_agent(tmp_path: Path) -> None:
    for environment in ({"TMUX_ORCHESTRATOR_SOCKET": str(tmp_path / "none.sock")}, {}):
        env = {k: v for k, v in os.environ.items() if k != "TMUX_ORCHESTRATOR_SOCKET"} | environment
        result = subprocess.run(
            [str(BIN / "tmux-orchestrator"), "hook", "Stop"],
            input="not json at all",
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
