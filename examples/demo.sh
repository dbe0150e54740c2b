#!/usr/bin/env bash
# `make demo`: from nothing to a running team of simulated agents on a local control plane.
# Starts etcd + kube-apiserver + kube-controller-manager, installs the CRDs, runs the operator and one node
# agent in the background, applies the demo team and waits until it is Ready. `make demo-down` stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin
STATE=$ROOT/.dev
SOCKET=tmux-orchestrator-demo
DASHBOARD_PORT=${DASHBOARD_PORT:-8765}
SCREEN_PORT=${SCREEN_PORT:-8766}
mkdir -p "$STATE/logs"
export KUBECONFIG=$STATE/kubeconfig
export PATH=$BIN:$PATH  # the agents run `tmux-orchestrator fake-agent`

tmux-orchestrator dev up --state-dir "$STATE/cluster" --kubeconfig "$KUBECONFIG"
kubectl apply --server-side -f crds/ >/dev/null
kubectl wait --for=condition=Established crd -l app.kubernetes.io/part-of=tmux-orchestrator --timeout=60s >/dev/null

start() {  # name, command...: run in the background once, remembering the pid for demo-down
  local name=$1; shift
  local pidfile=$STATE/$name.pid
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then return; fi
  nohup "$@" >"$STATE/logs/$name.log" 2>&1 &
  echo $! >"$pidfile"
}
# The operator would serve a dashboard of its own on $DASHBOARD_PORT (its environment variable): not here.
start operator env -u DASHBOARD_PORT tmux-orchestrator operator --metrics-port 0
start sidecar tmux-orchestrator sidecar --node demo-node --tmux-socket "$SOCKET" --capacity 20 \
  --screen-port "$SCREEN_PORT" --screen-host 127.0.0.1

# The dashboard shows screens with a ServiceAccount's token, which the node agent checks (TokenReview and
# a SubjectAccessReview for agents/screen), as in a cluster.
kubectl apply --server-side -f - >/dev/null <<'RBAC'
apiVersion: v1
kind: ServiceAccount
metadata: {name: tmux-orchestrator-dashboard, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: tmux-orchestrator-dashboard-screens}
rules: [{apiGroups: [orchestrator.tmux.dev], resources: [agents/screen], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: tmux-orchestrator-dashboard-screens}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: tmux-orchestrator-dashboard-screens}
subjects: [{kind: ServiceAccount, name: tmux-orchestrator-dashboard, namespace: default}]
RBAC
kubectl -n default create token tmux-orchestrator-dashboard --duration=24h >"$STATE/dashboard.token"
start dashboard tmux-orchestrator dashboard --port "$DASHBOARD_PORT" --actions \
  --screen-token-file "$STATE/dashboard.token"

kubectl apply --server-side -f examples/demo-team.yaml
echo "waiting for the demo team to be Ready ..."
kubectl wait --for=condition=Ready agentteam/demo --timeout=180s
kubectl get agentteams,agents

# The team talks on its own: the PM hands out a task to each teammate with `tmux-orchestrator team send`,
# each works on it and reports it done (`team report done`), and the PM looks at the team after each report.
echo "waiting for the developers and QA to report their tasks done to the PM ..."
kubectl wait --for=jsonpath='{.status.report.state}'=done agents \
  -l 'orchestrator.tmux.dev/team=demo,orchestrator.tmux.dev/role!=pm' --timeout=120s >/dev/null
kubectl wait --for=jsonpath='{.status.phase}'=Delivered agentmessages \
  -l orchestrator.tmux.dev/agent=demo-pm-0 --timeout=60s >/dev/null
kubectl get agentmessages
kubectl agentteam status demo | sed -n '/^AGENT/,$p'

cat <<MSG

The demo team runs and talks. Dashboard: http://127.0.0.1:$DASHBOARD_PORT/ (live fleet, team, screens, timeline)
Try:
  export KUBECONFIG=$KUBECONFIG PATH=$BIN:\$PATH
  kubectl get agentteams -o wide; kubectl get agents -w
  tmux -L $SOCKET attach -t demo            # watch the agents (detach: Ctrl-b d); the PM is window pm-0
  kubectl get amsg                          # who said what to whom (AGENT, FROM)
  kubectl agentteam send demo dev-1 "task: dark mode"   # dev-1 works on it and reports it done to the PM
  kubectl agentteam screen demo pm-0        # the PM's screen: its tasks, the reports, its team status
  kill the PM: kill \$(kubectl get agent demo-pm-0 -o jsonpath='{.status.pid}')  # it comes back
Logs: $STATE/logs/. Stop everything: make demo-down
MSG
