"""Build etcd, kube-apiserver and kube-controller-manager from the published Go modules, once per version.

The binaries land in ~/.cache/tmux-orchestrator/controlplane/<versions>-<hash of go.sum>/bin (override with
$TMUX_ORCHESTRATOR_CACHE). A file lock makes concurrent callers (two test sessions, `dev up` twice) wait for
one build instead of racing; the finished directory appears by an atomic rename, so a build interrupted
half-way is never mistaken for a cached one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .cachedir import cache_root, locked, staged
from .gomod import MODULES, module_dir, render_etcd_gomod, render_kubernetes_gomod, render_tools_go
from .versions import ETCD_VERSION, KUBERNETES_VERSION

Progress = Callable[[str], None]

BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")
_HEARTBEAT_SECONDS = 20.0


class BuildError(RuntimeError):
    """The control plane could not be built; the message carries the Go toolchain's own output."""


@dataclass(frozen=True)
class Binaries:
    directory: Path

    def path(self, name: str) -> Path:
        return self.directory / name


def build_key() -> str:
    """Versions plus a hash of the pinned module files, so a changed go.sum means a new build."""
    digest = hashlib.sha256()
    for name in sorted(MODULES):
        for file in ("go.mod", "go.sum"):
            digest.update((module_dir(name) / file).read_bytes())
    return f"kubernetes-{KUBERNETES_VERSION}_etcd-{ETCD_VERSION}_{digest.hexdigest()[:12]}"


def stderr_progress(message: str) -> None:
    print(f"[controlplane] {message}", file=sys.stderr, flush=True)


def cached_binaries() -> Binaries | None:
    directory = cache_root() / "controlplane" / build_key() / "bin"
    if all((directory / name).is_file() for name in BINARIES):
        return Binaries(directory)
    return None


def ensure_binaries(progress: Progress = stderr_progress) -> Binaries:
    """The control-plane binaries of the pinned versions, built first if they are not cached yet."""
    found = cached_binaries()
    if found is not None:
        return found
    root = cache_root() / "controlplane"
    root.mkdir(parents=True, exist_ok=True)
    with locked(root / ".build.lock"):
        found = cached_binaries()  # another process may have built it while we waited
        if found is not None:
            return found
        return _build(root / build_key(), progress)


def _build(target: Path, progress: Progress) -> Binaries:
    go = shutil.which("go")
    if go is None:
        raise BuildError(
            "the Go toolchain (`go`) is needed to build the local control plane; install Go >= 1.26"
        )
    started = time.monotonic()
    progress(
        f"building Kubernetes {KUBERNETES_VERSION} and etcd {ETCD_VERSION} from Go modules "
        f"(first time only; about 10 minutes on 2 cores) into {target}"
    )
    with staged(target) as staging:
        bin_dir = staging / "bin"
        bin_dir.mkdir()
        for name, (_, binaries) in MODULES.items():
            work = staging / "src" / name
            shutil.copytree(module_dir(name), work)
            _run_go([go, "mod", "download"], work, f"downloading Go modules for {name}", progress)
            for binary, package in binaries.items():
                _run_go(
                    [
                        go,
                        "build",
                        "-mod=readonly",
                        "-trimpath",
                        "-v",
                        "-ldflags",
                        _ldflags(name),
                        "-o",
                        str(bin_dir / binary),
                        package,
                    ],
                    work,
                    f"compiling {binary}",
                    progress,
                )
        shutil.rmtree(staging / "src")
        (staging / "versions.json").write_text(
            json.dumps({"kubernetes": KUBERNETES_VERSION, "etcd": ETCD_VERSION, "key": target.name}) + "\n"
        )
    progress(f"built in {time.monotonic() - started:.0f}s")
    return Binaries(target / "bin")


def _ldflags(module: str) -> str:
    if module != "kubernetes":
        return "-s -w"
    major, minor = KUBERNETES_VERSION.lstrip("v").split(".")[:2]
    pkg = "k8s.io/component-base/version"
    return (
        f"-s -w -X {pkg}.gitVersion={KUBERNETES_VERSION} -X {pkg}.gitMajor={major} -X {pkg}.gitMinor={minor}"
        f" -X {pkg}.gitTreeState=clean"
    )


def _run_go(argv: list[str], cwd: Path, what: str, progress: Progress) -> None:
    """Run one go command, reporting progress every few seconds; `-v` lines count compiled packages."""
    progress(f"{what} ...")
    started = time.monotonic()
    env = {**os.environ, "GOFLAGS": "-buildvcs=false"}
    with subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        lines: list[str] = []
        stop = threading.Event()
        ticker = threading.Thread(target=_heartbeat, args=(what, started, lines, stop, progress), daemon=True)
        ticker.start()
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
        code = proc.wait()
        stop.set()
        ticker.join()
    if code != 0:
        tail = "\n".join(lines[-40:])
        raise BuildError(f"`{' '.join(argv[:2])}` failed in {cwd} (exit {code}):\n{tail}")
    progress(f"{what}: done in {time.monotonic() - started:.0f}s")


def _heartbeat(
    what: str, started: float, lines: list[str], stop: threading.Event, progress: Progress
) -> None:
    while not stop.wait(_HEARTBEAT_SECONDS):
        progress(f"{what}: {time.monotonic() - started:.0f}s, {len(lines)} packages so far")


def regenerate_gomods(
    kubernetes_version: str = KUBERNETES_VERSION,
    etcd_version: str = ETCD_VERSION,
    progress: Progress = stderr_progress,
) -> None:
    """Rewrite the committed go.mod/go.sum of both build modules from the upstream go.mod files."""
    go = shutil.which("go") or "go"
    for name, (main_module, binaries) in MODULES.items():
        version = kubernetes_version if name == "kubernetes" else etcd_version
        info = subprocess.run(
            [go, "mod", "download", "-json", f"{main_module}@{version}"],
            check=True,
            capture_output=True,
            text=True,
        )
        upstream = Path(json.loads(info.stdout)["GoMod"]).read_text()
        render = render_kubernetes_gomod if name == "kubernetes" else render_etcd_gomod
        directory = module_dir(name)
        (directory / "go.mod").write_text(render(upstream, version))
        (directory / "tools.go").write_text(render_tools_go(binaries.values()))
        (directory / "go.sum").unlink(missing_ok=True)
        subprocess.run([go, "mod", "tidy"], cwd=directory, check=True)
        progress(f"{directory}/go.mod pinned to {main_module} {version}")
