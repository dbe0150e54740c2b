"""What the local control plane is built from. Bump here, then run `tmux-orchestrator dev gomod`."""

from __future__ import annotations

from typing import Final

KUBERNETES_VERSION: Final = "v1.36.3"
ETCD_VERSION: Final = "v3.6.16"
