"""`make demo-real` as a user runs it: a team of the real CLIs (Claude Code as PM, Codex and Aider as
developers) against the fake model, on its own control plane, with no API key. The team comes up Ready with
the three CLIs Idle, the message command it prints reaches the PM's model once, and `make demo-real-down`
stops everything it started."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.fakemodel import get_json
from support.kube import Kubectl, wait_for
from support.processes import BIN, tmux

ROOT = Path(__file__).resolve().parents[2]
TEAM = "demo-real"


def make(target: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-C", str(ROOT), target],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def demo_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE", "KUBECONFIG")}
    env.update(DEMO_STATE=str(tmp_path / "state"), DEMO_SOCKET=f"tmo-demo-real-{uuid.uuid4().hex[:6]}")
    yield env
    down = make("demo-real-down", env, timeout=120)  # also when the test failed half way
    assert down.returncode == 0, down.stderr


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


@pytest.mark.timeout(420)
def test_make_demo_real_runs_a_team_of_the_real_clis_that_answers_a_message(
    demo_env: dict[str, str],
) -> None:
    started = make("demo-real", demo_env, timeout=360)
    assert started.returncode == 0, started.stdout[-3000:] + started.stderr[-3000:]
    state, socket = Path(demo_env["DEMO_STATE"]), demo_env["DEMO_SOCKET"]
    out = started.stdout
    assert f"tmux -L {socket} attach -t {TEAM}" in out
    send = re.search(rf'^\s*(kubectl agentteam send {TEAM} pm "Status report, please")', out, re.MULTILINE)
    assert send is not None, out

    kube = Kubectl(state / "kubeconfig")
    team = kube.get("agentteam", TEAM)
    assert {c["type"]: c["status"] for c in team["status"]["conditions"]}["Ready"] == "True"

    def clis_idle() -> dict[str, str] | bool:
        agents = json.loads(kube.run("get", "agents", "-o", "json").stdout)["items"]
        seen = {a["spec"]["template"]["profile"]: (a.get("status") or {}).get("activity") for a in agents}
        return seen == {"claude-code": "Idle", "codex": "Idle", "aider": "Idle"} and seen

    wait_for(clis_idle, timeout=120, interval=0.5, message="Claude Code, Codex and Aider Idle")

    # The command the demo printed, as a user would paste it.
    env = {**demo_env, "KUBECONFIG": str(state / "kubeconfig"), "PATH": f"{BIN}:{demo_env['PATH']}"}
    sent = subprocess.run(
        ["bash", "-c", send[1]], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert sent.returncode == 0, sent.stderr
    name = sent.stdout.split()[0].split("/")[-1]
    status = wait_for(
        lambda: (
            (s := kube.get("agentmessage", name).get("status") or {}).get("phase") in ("Delivered", "Failed")
            and s
        ),
        timeout=90,
        message=f"{name} Delivered",
    )
    assert status["phase"] == "Delivered", status

    # Delivered comes from Claude Code's UserPromptSubmit hook, before it sends the request: the model's
    # scripted answer on the PM's screen says the request was made and answered.
    wait_for(
        lambda: (
            "Nothing blocks the team." in tmux(socket, "capture-pane", "-p", "-t", f"={TEAM}:pm-0").stdout
        ),
        timeout=30,
        message="the model's answer on the PM's screen",
    )
    model = f"http://127.0.0.1:{(state / 'model.port').read_text().strip()}"
    prompts = [(r["api"], r["text"]) for r in get_json(f"{model}/_fake/received") if not r["side"]]
    assert prompts.count(("anthropic-messages", "Status report, please")) == 1, prompts
    # The briefings reached each CLI's model too.
    assert {api for api, _ in prompts} == {"anthropic-messages", "openai-responses", "openai-chat"}

    pids = [int((state / f"{name}.pid").read_text()) for name in ("operator", "sidecar", "model")]
    assert all(alive(pid) for pid in pids)
    down = make("demo-real-down", demo_env, timeout=120)
    assert down.returncode == 0, down.stderr
    wait_for(lambda: not any(alive(pid) for pid in pids), timeout=30, message="the demo's processes ended")
    assert tmux(socket, "ls").returncode != 0  # the agents' tmux server is gone
