"""Faults of the control plane for tests: the API server (or etcd) frozen, as a network partition looks to
its clients (connections accepted, never answered), or restarted. Acts on the components
`devcluster.cluster` started; a frozen component is always thawed again."""

from __future__ import annotations

import base64
import json
import signal
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tmux_orchestrator.devcluster.cluster import LocalCluster, restart_component, signal_component

API_SERVER = "kube-apiserver"
ETCD = "etcd"


@contextmanager
def frozen(cluster: LocalCluster, component: str = API_SERVER) -> Iterator[None]:
    """`component` stopped with SIGSTOP for the duration of the block, then continued."""
    signal_component(cluster, component, signal.SIGSTOP)
    try:
        yield
    finally:
        signal_component(cluster, component, signal.SIGCONT)


def restart(cluster: LocalCluster, component: str, while_down: Callable[[], None] | None = None) -> None:
    """Stop `component` and start it again (same ports and data); returns when the API server is ready.
    `while_down` runs while it is stopped."""
    restart_component(cluster, component, while_down)


def etcd_url(cluster: LocalCluster) -> str:
    """The etcd the API server stores its objects in (from the API server's command line)."""
    argv = cluster.commands[API_SERVER]
    return next(arg.split("=", 1)[1] for arg in argv if arg.startswith("--etcd-servers="))


def delete_in_etcd(cluster: LocalCluster, key: str) -> None:
    """Delete one stored object behind the API server's back (etcd's JSON gateway): no watch sees it."""
    body = json.dumps({"key": base64.b64encode(key.encode()).decode()}).encode()
    request = urllib.request.Request(f"{etcd_url(cluster)}/v3/kv/deleterange", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read()).get("deleted") == "1", f"{key} was not in etcd"
