"""Tests of the node agent's tmux-facing half against a real tmux server on a private socket."""
