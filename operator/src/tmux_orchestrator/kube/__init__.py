"""The one I/O layer to the Kubernetes API shared by the operator and the node agent (an edge package).

Thin wrappers over kubernetes_asyncio: connecting (kubeconfig or in-cluster), typed access to our custom
resources, watches that survive expired resource versions and dropped connections, status patches and
server-side apply, Leases and Events.
"""

from __future__ import annotations

from .client import (
    ApiError,
    Kube,
    KubeObject,
    Resource,
    WatchEvent,
    connect,
    is_conflict,
    is_not_found,
)

__all__ = [
    "ApiError",
    "Kube",
    "KubeObject",
    "Resource",
    "WatchEvent",
    "connect",
    "is_conflict",
    "is_not_found",
]
