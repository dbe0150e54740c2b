"""Everything that talks to tmux: the control-mode client, exit events and whole-server snapshots."""

from __future__ import annotations
