"""A real local Kubernetes control plane for development and tests (an edge package: it runs processes).

etcd, kube-apiserver and kube-controller-manager are built from the published Go modules with the machine's
Go toolchain (`build`), cached outside the repository keyed by version, and started on 127.0.0.1 with RBAC
and client-certificate authentication (`cluster`). `tmux-orchestrator dev up|down` and the pytest fixtures
share this code.
"""

from __future__ import annotations
