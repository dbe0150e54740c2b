"""`tmux-orchestrator dev capture`: play the scenarios against the real CLIs in a real tmux and save each
screen (tmux capture-pane, the node agent's 200x50 window) under <out>/<cli>/<version>/<state>-<n>.txt, with
a manifest.yaml of the activity each screen shows. Used to recapture after a version bump."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .homes import prepare
from .install import AgentBinaries, ensure_agents
from .scenarios import FAKE_MODEL_SCRIPT, SCENARIOS, Step, StepKind
from .versions import VERSIONS

WIDTH, HEIGHT = 200, 50  # the node agent's window size


class CaptureError(RuntimeError):
    pass


def capture_all(out: Path, clis: list[str]) -> list[Path]:
    # Stopped with SIGTERM, still kill the tmux server and the fake model below.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    binaries = ensure_agents()
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="tmo-capture-") as scratch:
        root = Path(scratch)
        (root / "script.yaml").write_text(FAKE_MODEL_SCRIPT)
        argv = [
            sys.executable,
            "-m",
            "tmux_orchestrator.cli",
            "fake-model",
            "--script",
            str(root / "script.yaml"),
        ]
        with (root / "fake-model.log").open("w") as log:
            server = subprocess.Popen(
                [*argv, "--port-file", str(root / "port")], stdout=subprocess.DEVNULL, stderr=log
            )
        socket = f"tmo-capture-{root.name}"
        try:
            base_url = f"http://127.0.0.1:{_wait_port(root / 'port')}"
            for cli in clis:
                written += _capture_cli(cli, binaries, root, socket, base_url=base_url, out=out)
        finally:
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
            server.terminate()
            server.wait(timeout=10)
    return written


@dataclass
class Session:
    """One CLI in one tmux session, and the screens captured from it so far."""

    socket: str
    name: str
    target: Path
    scenario: str
    manifest: list[dict[str, Any]]
    counts: dict[str, int] = field(default_factory=dict)

    def play(self, step: Step) -> None:
        if step.kind is StepKind.TYPE:
            self.tmux("send-keys", "-t", self.name, "-l", step.text)
        elif step.kind is StepKind.KEYS:
            self.tmux("send-keys", "-t", self.name, *step.text.split())
        elif step.kind is StepKind.SLEEP:
            time.sleep(step.seconds)
        elif step.kind is StepKind.SCREEN:
            self.wait_for(step.text, step.seconds)
        elif step.kind is StepKind.CAPTURE:
            self.capture(step)
        elif step.kind is StepKind.INTERRUPT:
            self.interrupt(step)
        elif step.kind is StepKind.EARLY:
            screen = self.screen()
            if step.text not in screen:
                self.capture(step, screen)
        elif step.kind is StepKind.OPTIONAL and self.shows(step.text, step.seconds):
            self.capture(step)
            self.tmux("send-keys", "-t", self.name, *step.keys.split())

    def shows(self, text: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while text not in self.screen():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.25)
        return True

    def interrupt(self, step: Step) -> None:
        deadline = time.monotonic() + step.seconds
        while (step.text in self.screen()) is step.gone:
            if time.monotonic() > deadline:
                raise CaptureError(
                    f"{self.name}: pressing {step.keys} did not change {step.text!r} on screen"
                )
            self.tmux("send-keys", "-t", self.name, *step.keys.split())
            time.sleep(3)

    def wait_for(self, text: str, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.screen():
            if time.monotonic() > deadline:
                raise CaptureError(
                    f"{self.name} ({self.scenario}): {text!r} not on screen after {seconds:.0f}s:\n"
                    + self.screen()
                )
            time.sleep(0.05)  # quick: a state like Codex starting lasts a fraction of a second

    def capture(self, step: Step, screen: str | None = None) -> None:
        assert step.expected is not None
        self.counts[step.state] = self.counts.get(step.state, 0) + 1
        name = f"{step.state}-{self.counts[step.state]}.txt"
        (self.target / name).write_text(self.screen() if screen is None else screen)
        self.manifest.append({"file": name, "activity": step.expected.value, "scenario": self.scenario})
        print(f"[capture]   {name}: {step.expected.value}", file=sys.stderr, flush=True)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name).stdout

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check, timeout=20
        )


def _capture_cli(
    cli: str, binaries: AgentBinaries, root: Path, socket: str, *, base_url: str, out: Path
) -> list[Path]:
    target = out / cli / VERSIONS[cli]
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    manifest: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for index, scenario in enumerate(SCENARIOS[cli]):
        print(f"[capture] {cli}: {scenario.name}", file=sys.stderr, flush=True)
        home, workdir = root / f"{cli}-{index}" / "home", root / f"{cli}-{index}" / "project"
        workdir.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(workdir)], check=True)
        launch = prepare(
            cli, binaries=binaries, home=home, workdir=workdir, base_url=base_url, skip=scenario.unprepared
        )
        session = Session(socket, f"{cli}-{index}", target, scenario.name, manifest, counts)
        size = ["-x", str(WIDTH), "-y", str(HEIGHT)]
        session.tmux("new-session", "-d", "-s", session.name, *size, "-c", str(workdir), *launch.env_argv())
        try:
            for step in scenario.steps:
                session.play(step)
        finally:
            session.tmux("kill-session", "-t", session.name, check=False)
    header = (
        f"# Captured by `tmux-orchestrator dev capture --cli {cli}` from {cli} {VERSIONS[cli]} against the"
        f" fake model\n# in a {WIDTH}x{HEIGHT} pane: each screen and the activity a profile must read from"
        " it.\n"
    )
    (target / "manifest.yaml").write_text(
        header + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
    )
    return [target / item["file"] for item in manifest]


def _wait_port(path: Path) -> int:
    deadline = time.monotonic() + 20
    while not path.exists() or not path.read_text().strip():
        if time.monotonic() > deadline:
            raise CaptureError("the fake model server did not start")
        time.sleep(0.1)
    return int(path.read_text())
