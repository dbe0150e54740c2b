"""Real project processes (node agents, operators) started by tests, with their logs kept for failures."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent


def project_env(kubeconfig: Path) -> dict[str, str]:
    """The environment of a project process: the venv first on PATH (agents run `tmux-orchestrator`)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["KUBECONFIG"] = str(kubeconfig)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class ProjectProcess:
    """`tmux-orchestrator <args>` in the background; `restart()` after `kill()` reuses the same arguments."""

    args: Sequence[str]
    kubeconfig: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> ProjectProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "tmux-orchestrator"), *self.args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=project_env(self.kubeconfig),
                start_new_session=True,
            )
        return self

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_sidecar(kubeconfig: Path, node: str, socket: str, log_dir: Path, *extra: str) -> ProjectProcess:
    args = ["sidecar", "--node", node, "--tmux-socket", socket, "--observe-interval", "0.5", *extra]
    return ProjectProcess(args, kubeconfig, log_dir / f"sidecar-{node}.log").start()


def tmux(socket: str, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["tmux", "-L", socket, *args], capture_output=True, text=True, check=check, timeout=10
    )


def start_operator(kubeconfig: Path, log_dir: Path, *extra: str) -> ProjectProcess:
    return ProjectProcess(
        ["operator", "--metrics-port", "0", *extra], kubeconfig, log_dir / "operator.log"
    ).start()


def end_codex_daemons(root: Path) -> None:
    """End the app-server daemons that Codex 0.171 started from a home under `root` and left running after
    it exited (one per CODEX_HOME); processes of other homes are not touched."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if argv[0].startswith(f"{root}/") and "app-server" in argv:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGTERM)
