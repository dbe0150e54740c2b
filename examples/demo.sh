#!/usr/bin/env bash
# `make demo`: a local control plane, the CRDs and the demo team of simulated agents, from nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
STATE=.dev
mkdir -p "$STATE"
export KUBECONFIG="$PWD/$STATE/kubeconfig"

"$BIN/tmux-orchestrator" dev up --state-dir "$STATE/cluster" --kubeconfig "$KUBECONFIG"
"$BIN/kubectl" apply --server-side -f crds/
"$BIN/kubectl" wait --for=condition=Established crd -l app.kubernetes.io/part-of=tmux-orchestrator --timeout=60s
"$BIN/kubectl" apply --server-side -f examples/demo-team.yaml
"$BIN/kubectl" get agentteams

cat <<MSG

The demo team is declared. Try:
  export KUBECONFIG=$KUBECONFIG
  $BIN/kubectl get agentteams -o wide
  $BIN/kubectl explain agentteam.spec.members
Stop everything with: make demo-down
MSG
