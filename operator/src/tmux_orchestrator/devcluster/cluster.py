"""Start and stop etcd + kube-apiserver + kube-controller-manager on 127.0.0.1.

Everything a cluster owns lives in one state directory: certificates, etcd data, logs, a kubeconfig and
`cluster.json` (pids, ports and the control plane's cpu cgroup), so `dev down` — possibly from another
process — stops exactly what `dev up` started, and nothing else. The components run in a cpu cgroup of their
own where the machine allows it (`cpu_reserve`: why).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from tmux_orchestrator.core.cpu_group import CONTROL_PLANE_WEIGHT, CpuGroup, check_cpu_weight

from .build import Binaries, Progress, ensure_binaries, stderr_progress
from .cachedir import cache_root
from .cpu_reserve import enter_reserve, release_reserve, reserve_cpu
from .pki import Pki, create_pki

_SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
_READY_TIMEOUT_SECONDS = 120.0
_STOP_TIMEOUT_SECONDS = 15.0
_GO_GC_PERCENT = "400"  # the components' GOGC (see _spawn)
# Controllers the operator relies on: ownerReference garbage collection, namespace deletion, and
# ServiceAccount token handling (for running the operator/sidecar as their own ServiceAccounts).
_CONTROLLERS = (
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
)


class ClusterError(RuntimeError):
    """The control plane did not come up; the message carries the tail of the failing component's log."""


@dataclass
class LocalCluster:
    """A running (or recorded) local control plane."""

    state_dir: Path
    kubeconfig: Path
    server: str
    pids: dict[str, int]
    cpu_group: CpuGroup | None = None  # where the components run (None: where they were started)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict, repr=False)
    commands: dict[str, list[str]] = field(default_factory=dict, repr=False)  # how each was started

    @property
    def state_file(self) -> Path:
        return self.state_dir / "cluster.json"

    def log(self, component: str) -> Path:
        return self.state_dir / "logs" / f"{component}.log"


def default_state_dir() -> Path:
    return cache_root() / "dev-cluster"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def render_kubeconfig(
    server: str, pki: Pki, user: str = "admin", context: str = "tmux-orchestrator-dev"
) -> str:
    """A self-contained kubeconfig (certificates embedded) for one client certificate."""

    def b64(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": context, "cluster": {"server": server, "certificate-authority-data": b64(pki.ca_cert)}}
        ],
        "users": [
            {
                "name": f"{context}-{user}",
                "user": {
                    "client-certificate-data": b64(pki.cert(user)),
                    "client-key-data": b64(pki.key(user)),
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": context, "user": f"{context}-{user}"}}],
        "current-context": context,
    }
    return yaml.safe_dump(config, sort_keys=False)


def read_cluster(state_dir: Path) -> LocalCluster | None:
    state_file = state_dir / "cluster.json"
    if not state_file.exists():
        return None
    data = json.loads(state_file.read_text())
    group = data.get("cpu_group")
    return LocalCluster(
        state_dir=state_dir,
        kubeconfig=Path(data["kubeconfig"]),
        server=data["server"],
        pids=dict(data["pids"]),
        cpu_group=CpuGroup(**group) if group else None,
    )


def is_running(cluster: LocalCluster) -> bool:
    return all(_alive(pid, name) for name, pid in cluster.pids.items()) and _ready(cluster)


def start_cluster(
    state_dir: Path | None = None,
    kubeconfig: Path | None = None,
    binaries: Binaries | None = None,
    progress: Progress = stderr_progress,
    cpu_weight: int = CONTROL_PLANE_WEIGHT,
) -> LocalCluster:
    """Start a fresh control plane (new certificates and etcd data) and return once /readyz answers ok.
    Its components run in a cpu cgroup of `cpu_weight` (cgroup v2's scale, 0: none) where the machine
    allows it (`cpu_reserve`)."""
    check_cpu_weight(cpu_weight, "cpu weight")
    state_dir = (state_dir or default_state_dir()).resolve()
    existing = read_cluster(state_dir)
    if existing is not None:
        if is_running(existing):
            progress(f"already running: {existing.server}")
            return existing
        stop_cluster(state_dir, progress=lambda _msg: None)
    binaries = binaries or ensure_binaries(progress)
    for stale in ("etcd-data", "pki", "logs"):
        _remove_tree(state_dir / stale)
    (state_dir / "logs").mkdir(parents=True)
    pki = create_pki(state_dir / "pki")
    etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
    server = f"https://127.0.0.1:{api_port}"
    kubeconfig = (kubeconfig or state_dir / "kubeconfig").resolve()
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    kubeconfig.write_text(render_kubeconfig(server, pki))
    kubeconfig.chmod(0o600)
    kcm_kubeconfig = state_dir / "controller-manager.kubeconfig"
    kcm_kubeconfig.write_text(render_kubeconfig(server, pki, user="controller-manager"))

    cluster = LocalCluster(state_dir=state_dir, kubeconfig=kubeconfig, server=server, pids={})
    started = time.monotonic()
    try:
        cluster.cpu_group = reserve_cpu(cpu_weight, state_dir, progress)
        _spawn(cluster, "etcd", _etcd_args(binaries, state_dir, etcd_port, peer_port), progress)
        _spawn(cluster, "kube-apiserver", _apiserver_args(binaries, pki, etcd_port, api_port), progress)
        _wait_ready(cluster)
        kcm_args = _controller_manager_args(binaries, pki, kcm_kubeconfig)
        _spawn(cluster, "kube-controller-manager", kcm_args, progress)
    except BaseException:
        stop_cluster(state_dir, progress=lambda _msg: None, cluster=cluster)
        raise
    progress(
        f"control plane ready at {server} in {time.monotonic() - started:.1f}s; kubeconfig: {kubeconfig}"
    )
    return cluster


def stop_cluster(
    state_dir: Path | None = None, progress: Progress = stderr_progress, cluster: LocalCluster | None = None
) -> bool:
    """Stop every process the cluster in `state_dir` started (controller-manager first, etcd last), then
    remove its cpu cgroup."""
    state_dir = (state_dir or default_state_dir()).resolve()
    cluster = cluster or read_cluster(state_dir)
    if cluster is None:
        progress(f"no local control plane recorded in {state_dir}")
        return False
    for name in reversed(list(cluster.pids)):
        _terminate(name, cluster.pids[name], cluster.processes.get(name))
    if cluster.cpu_group is not None:
        release_reserve(cluster.cpu_group, progress)
    cluster.state_file.unlink(missing_ok=True)
    progress("control plane stopped")
    return True


def signal_component(cluster: LocalCluster, name: str, sig: signal.Signals) -> None:
    """Send `sig` to one component (tests freeze the API server with SIGSTOP and thaw it with SIGCONT)."""
    pid = cluster.pids[name]
    if not _alive(pid, name):
        raise ClusterError(f"{name} (pid {pid}) is not running")
    os.kill(pid, sig)


def restart_component(
    cluster: LocalCluster,
    name: str,
    while_down: Callable[[], None] | None = None,
    progress: Progress = stderr_progress,
) -> None:
    """Stop one component of a cluster this process started and start it again with the same arguments
    (ports, certificates and etcd data stay) in the same cpu cgroup; returns once the API server answers
    /readyz again. `while_down` runs between the stop and the start (a test changes what the component
    will find)."""
    process = cluster.processes.get(name)
    if process is None:
        raise ClusterError(f"{name} was not started by this process: cannot restart it")
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGCONT)  # a frozen process cannot handle SIGTERM
    _terminate(name, process.pid, process)
    if while_down is not None:
        while_down()
    _spawn(cluster, name, cluster.commands[name], progress)
    _wait_ready(cluster)


def _etcd_args(binaries: Binaries, state_dir: Path, client_port: int, peer_port: int) -> list[str]:
    peer = f"http://127.0.0.1:{peer_port}"
    client = f"http://127.0.0.1:{client_port}"
    return [
        str(binaries.path("etcd")),
        "--name=dev",
        f"--data-dir={state_dir / 'etcd-data'}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=dev={peer}",
        "--log-level=warn",
        # A throwaway development store: durability across power loss is not worth the fsync latency.
        "--unsafe-no-fsync=true",
    ]


def _apiserver_args(binaries: Binaries, pki: Pki, etcd_port: int, api_port: int) -> list[str]:
    return [
        str(binaries.path("kube-apiserver")),
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={api_port}",
        f"--tls-cert-file={pki.cert('apiserver')}",
        f"--tls-private-key-file={pki.key('apiserver')}",
        f"--client-ca-file={pki.ca_cert}",
        "--authorization-mode=RBAC",
        f"--service-account-issuer={_SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={pki.sa_public}",
        f"--service-account-signing-key-file={pki.sa_private}",
        f"--api-audiences={_SERVICE_ACCOUNT_ISSUER}",
        "--service-cluster-ip-range=10.0.0.0/24",
        "--profiling=false",
        "--v=1",
    ]


def _controller_manager_args(binaries: Binaries, pki: Pki, kubeconfig: Path) -> list[str]:
    return [
        str(binaries.path("kube-controller-manager")),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={free_port()}",
        "--leader-elect=false",
        f"--controllers={','.join(_CONTROLLERS)}",
        f"--service-account-private-key-file={pki.sa_private}",
        f"--root-ca-file={pki.ca_cert}",
        "--use-service-account-credentials=true",  # each controller with its own RBAC role, as kubeadm does
        "--profiling=false",
        "--v=1",
    ]


def _spawn(cluster: LocalCluster, name: str, argv: Sequence[str], progress: Progress) -> None:
    # Go collects garbage each time its heap doubles (GOGC=100): a fifth of the API server's CPU while a
    # thousand agents start. A local control plane has memory to spare and its CPU is the agents' too, so
    # it collects at five times the heap instead, unless the caller chose otherwise.
    env = {**os.environ, "GOGC": os.environ.get("GOGC", _GO_GC_PERCENT)}
    with cluster.log(name).open("ab") as log:
        # A session of its own: the components outlive `dev up` and ignore the terminal's Ctrl-C.
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    cluster.processes[name] = process
    cluster.commands[name] = list(argv)
    cluster.pids[name] = process.pid
    if cluster.cpu_group is not None:  # at once: the Go runtime's threads move with it (cgroup.procs)
        cluster.cpu_group = enter_reserve(cluster.cpu_group, name, process.pid, progress)
    record = {
        "server": cluster.server,
        "kubeconfig": str(cluster.kubeconfig),
        "pids": cluster.pids,
        "cpu_group": asdict(cluster.cpu_group) if cluster.cpu_group else None,
    }
    cluster.state_file.write_text(json.dumps(record, indent=2))


def _ssl_context(state_dir: Path) -> ssl.SSLContext:
    pki = Pki(state_dir / "pki")
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.load_cert_chain(str(pki.cert("admin")), str(pki.key("admin")))
    return context


def _ready(cluster: LocalCluster) -> bool:
    try:
        with urllib.request.urlopen(
            f"{cluster.server}/readyz", context=_ssl_context(cluster.state_dir), timeout=2
        ) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait_ready(cluster: LocalCluster) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for name, process in cluster.processes.items():
            if process.poll() is not None:
                raise ClusterError(f"{name} exited with {process.returncode}:\n{_tail(cluster.log(name))}")
        if _ready(cluster):
            return
        time.sleep(0.2)
    raise ClusterError(
        f"kube-apiserver not ready after {_READY_TIMEOUT_SECONDS:.0f}s:\n"
        + _tail(cluster.log("kube-apiserver"))
    )


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _alive(pid: int, name: str) -> bool:
    """True if `pid` still runs the component `name` (guards against a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    zombie = stat.rsplit(")", 1)[-1].split()[0] == "Z"
    return not zombie and os.path.basename(cmdline.decode(errors="replace")) == name


def _terminate(name: str, pid: int, process: subprocess.Popen[bytes] | None) -> None:
    if _alive(pid, name):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_TIMEOUT_SECONDS
    while _alive(pid, name) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if _alive(pid, name):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid, name):
            _reap(pid)
            time.sleep(0.05)
    if process is not None:
        process.wait()
    else:
        _reap(pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
