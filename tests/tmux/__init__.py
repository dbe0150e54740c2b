"""Real tmux on a private socket per test: the control client, exit events, snapshots and fake-agent."""
