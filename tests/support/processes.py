"""Real processes (node agents, operators, stand-in nodes) started by tests, logs kept for failures.

The one process wrapper of the test suites: `ProjectProcess` runs any argv; `project_command` runs
`tmux-orchestrator <args>` from this venv against a kubeconfig."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tmux_orchestrator.cgroupfs import remove_cpu_group
from tmux_orchestrator.core.cpu_group import CONTROL_PLANE_PREFIX, CpuGroup, cpu_cgroup_path, plan_cpu_group
from tmux_sidecar.cpu_group import GROUP_PREFIX
from tmux_sidecar.node.priority import autogroups_enabled
from tmux_sidecar.priority import in_root_cpu_cgroup, parse_autogroup, parse_children

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
    """`argv` in the background, output in `log_path`; `start()` again after `kill()` restarts it."""

    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None  # None: the test process's own environment
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> ProjectProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                list(self.argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=None if self.env is None else dict(self.env),
                start_new_session=True,
            )
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send `sig` and wait for the process to end."""
        if self.process is None:
            return
        if self.running:
            self.process.send_signal(sig)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (a graceful stop), SIGKILL if that takes more than 10 s."""
        if self.process is None or not self.running:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def project_command(args: Sequence[str], kubeconfig: Path, log_path: Path) -> ProjectProcess:
    """`tmux-orchestrator <args>` of this venv, talking to the cluster of `kubeconfig`."""
    return ProjectProcess([str(BIN / "tmux-orchestrator"), *args], log_path, env=project_env(kubeconfig))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`tmux-orchestrator <args>` of this venv run to its end, as a user runs it (for `dev up|down`, which
    start and stop a control plane: minutes at most)."""
    return subprocess.run(
        [str(BIN / "tmux-orchestrator"), *args], capture_output=True, text=True, timeout=180, check=False
    )


def start_sidecar(kubeconfig: Path, node: str, socket: str, log_dir: Path, *extra: str) -> ProjectProcess:
    args = ["sidecar", "--node", node, "--tmux-socket", socket, "--observe-interval", "0.5", *extra]
    return project_command(args, kubeconfig, log_dir / f"sidecar-{node}.log").start()


def tmux(socket: str, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["tmux", "-L", socket, *args], capture_output=True, text=True, check=check, timeout=10
    )


def start_operator(kubeconfig: Path, log_dir: Path, *extra: str) -> ProjectProcess:
    return project_command(
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


def thread_nices(pid: int) -> dict[int, int]:
    """The nice of every thread of `pid` (/proc/PID/task/TID/stat field 19; nice is per thread on Linux)."""
    nices = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        nices[int(task.name)] = int(stat.rsplit(")", 1)[1].split()[16])  # fields 3.. follow the ")"
    return nices


def autogroup_nice(pid: int) -> int | None:
    """The nice of the autogroup (session) of `pid` where the kernel schedules by autogroups and `pid` is
    in the root cpu cgroup (where they apply); None elsewhere. Read with the node agent's own
    (unit-tested) parsers of tmux_sidecar.priority, so tests and product agree on where autogroups apply."""
    path = Path(f"/proc/{pid}/autogroup")
    if not autogroups_enabled() or not path.exists():
        return None
    if not in_root_cpu_cgroup(Path(f"/proc/{pid}/cgroup").read_text()):
        return None
    return parse_autogroup(path.read_text())[1]


def cpu_cgroup(pid: int) -> str | None:
    """The cpu cgroup `pid` is in ("/" at the root), read with the node agent's own parser."""
    return cpu_cgroup_path(Path(f"/proc/{pid}/cgroup").read_text())


def remove_empty_cpu_groups() -> None:
    """Remove the cpu cgroups the suite left next to its own: the agents' groups of its node agents (their
    tmux servers outlived them, so they could not remove them) and control planes' groups (one whose
    `stop_cluster` never ran). The kernel refuses to remove one that still holds a process, and a node
    agent or control plane that finds its group gone creates it again."""
    planned = plan_cpu_group(
        "*", 100, "the tests", Path("/proc/self/cgroup").read_text(), Path("/proc/self/mountinfo").read_text()
    )
    if isinstance(planned, CpuGroup):
        parent = Path(planned.directory).parent
        for prefix in (GROUP_PREFIX, CONTROL_PLANE_PREFIX):
            for group in parent.glob(f"{prefix}*"):
                remove_cpu_group(str(group))


def children(pid: int) -> list[int]:
    """The child processes of `pid` (of any of its threads)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += parse_children((task / "children").read_text())
    return found
