#!/usr/bin/env bash
# `make demo-down` / `make demo-real-down`: stop what `make demo` / `make demo-real` started (dashboard, fake
# model, operator, node agent, its tmux server, control plane). DEMO_STATE and DEMO_SOCKET as for the demo.
set -uo pipefail
cd "$(dirname "$0")/.."
STATE=${DEMO_STATE:-$PWD/.dev}
SOCKET=${DEMO_SOCKET:-tmux-orchestrator-demo}
for name in dashboard operator sidecar model; do
  pidfile=$STATE/$name.pid
  if [[ -f $pidfile ]]; then
    kill "$(cat "$pidfile")" 2>/dev/null
    rm -f "$pidfile"
  fi
done
tmux -L "$SOCKET" kill-server 2>/dev/null
.venv/bin/tmux-orchestrator dev down --state-dir "$STATE/cluster"
