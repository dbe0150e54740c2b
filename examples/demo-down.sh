#!/usr/bin/env bash
# `make demo-down`: stop what `make demo` started (operator, node agent, its tmux server, control plane).
set -uo pipefail
cd "$(dirname "$0")/.."
STATE=$PWD/.dev
for name in dashboard operator sidecar; do
  pidfile=$STATE/$name.pid
  if [[ -f $pidfile ]]; then
    kill "$(cat "$pidfile")" 2>/dev/null
    rm -f "$pidfile"
  fi
done
tmux -L tmux-orchestrator-demo kill-server 2>/dev/null
.venv/bin/tmux-orchestrator dev down --state-dir "$STATE/cluster"
