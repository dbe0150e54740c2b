#!/usr/bin/env bash
# `make demo-real`: a team of the real agent CLIs (Claude Code as PM, Codex and Aider as developers, the
# pinned versions of `make agents`) against the project's fake model server: no API key, no network.
# Starts a local control plane, the CRDs, the fake model, the operator and one node agent in the
# background, applies the team and waits until it is Ready. `make demo-real-down` stops it all.
# DEMO_STATE and DEMO_SOCKET move its state directory and tmux socket (the tests run it beside others).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin
STATE=${DEMO_STATE:-$ROOT/.dev-real}
SOCKET=${DEMO_SOCKET:-tmux-orchestrator-demo-real}
TEAM=demo-real
mkdir -p "$STATE/logs"
export KUBECONFIG=$STATE/kubeconfig
export PATH=$BIN:$PATH

tmux-orchestrator dev up --state-dir "$STATE/cluster" --kubeconfig "$KUBECONFIG"
kubectl apply --server-side -f crds/ >/dev/null
kubectl wait --for=condition=Established crd -l app.kubernetes.io/part-of=tmux-orchestrator --timeout=60s >/dev/null

start() {  # name, command...: run in the background once, remembering the pid for demo-real-down
  local name=$1; shift
  local pidfile=$STATE/$name.pid
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then return; fi
  nohup "$@" >"$STATE/logs/$name.log" 2>&1 &
  echo $! >"$pidfile"
}
rm -f "$STATE/model.port"
start model tmux-orchestrator fake-model --script examples/fake-model/demo-real.yaml --port-file "$STATE/model.port"
for _ in $(seq 100); do [[ -s $STATE/model.port ]] && break; sleep 0.1; done
[[ -s $STATE/model.port ]] || { echo "the fake model did not start: $STATE/logs/model.log" >&2; exit 1; }
MODEL=http://127.0.0.1:$(cat "$STATE/model.port")
start operator tmux-orchestrator operator --metrics-port 0
start sidecar tmux-orchestrator sidecar --node demo-real-node --tmux-socket "$SOCKET" --capacity 10

tmux-orchestrator dev real-team --name "$TEAM" --model-url "$MODEL" --dir "$STATE/agents" >"$STATE/team.yaml"
kubectl apply --server-side -f "$STATE/team.yaml"
echo "waiting for the $TEAM team to be Ready (Claude Code, Codex, Aider start and read their briefings) ..."
kubectl wait --for=condition=Ready "agentteam/$TEAM" --timeout=240s
kubectl get agents -l "orchestrator.tmux.dev/team=$TEAM" \
  -o custom-columns=AGENT:.metadata.name,CLI:.spec.template.profile,PHASE:.status.phase,ACTIVITY:.status.activity

cat <<MSG

The $TEAM team runs: Claude Code (pm), Codex (codex) and Aider (aider), each against the fake model at
$MODEL, which answers from examples/fake-model/demo-real.yaml.
Try:
  export KUBECONFIG=$KUBECONFIG PATH=$BIN:\$PATH
  kubectl get agents -w                        # ACTIVITY: Idle, Busy while the model streams, WaitingForInput
  tmux -L $SOCKET attach -t $TEAM      # watch the three CLIs (next window: Ctrl-b n; detach: Ctrl-b d)
  kubectl agentteam send $TEAM pm "Status report, please"; kubectl get amsg
  kubectl agentteam send $TEAM codex "please implement the API"   # a slow answer: Busy for 20 s
  kubectl agentteam send $TEAM aider "run the tests"   # asks to run a command: WaitingForInput until you answer
  curl -s $MODEL/_fake/received               # every prompt the model got
Logs: $STATE/logs/. Stop everything: make demo-real-down
MSG
