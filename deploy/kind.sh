#!/usr/bin/env bash
# The demo on a kind cluster, for people with Docker: build the image, load it into kind, install the chart,
# apply the demo team of simulated agents and wait until it is Ready.
#
#   deploy/kind.sh          create (or reuse) the cluster and run the demo
#   deploy/kind.sh down     delete the cluster
#
# Needs docker, kind, kubectl and helm 4 (`make helm` puts helm in .venv/bin). Environment: CLUSTER (kind
# cluster name, default tmux-orchestrator), NAMESPACE (default tmux-orchestrator), IMAGE (default
# tmux-orchestrator:dev).
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER=${CLUSTER:-tmux-orchestrator}
NAMESPACE=${NAMESPACE:-tmux-orchestrator}
IMAGE=${IMAGE:-tmux-orchestrator:dev}
RELEASE=tmux-orchestrator
export PATH=$PWD/.venv/bin:$PATH

if [[ ${1:-} == down ]]; then
  kind delete cluster --name "$CLUSTER"
  exit 0
fi

for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || { echo "kind.sh: $tool is required" >&2; exit 1; }
done
helm version --short | grep -q '^v4\.' || { echo "kind.sh: helm 4 is required (make helm)" >&2; exit 1; }

if ! kind get clusters | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --wait 120s
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

docker build -t "$IMAGE" .
kind load docker-image "$IMAGE" --name "$CLUSTER"

# `helm upgrade --install` installs crds/ only the first time; apply them every time so that a re-run after
# an API change upgrades them too.
kubectl apply --server-side -f charts/tmux-orchestrator/crds/
helm upgrade --install "$RELEASE" charts/tmux-orchestrator \
  --namespace "$NAMESPACE" --create-namespace \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE##*:}" --set image.pullPolicy=Never \
  --wait --timeout 5m

kubectl apply --server-side -n default -f examples/demo-team.yaml
echo "waiting for the demo team to be Ready ..."
kubectl wait -n default --for=condition=Ready agentteam/demo --timeout=300s
kubectl get -n default agentteams,agents
kubectl get tmuxnodes

node=$(kubectl get -n default agentteam demo -o jsonpath='{.status.node}')
pod=$(kubectl get pods -n "$NAMESPACE" -l app.kubernetes.io/component=sidecar \
  --field-selector "spec.nodeName=$node" -o jsonpath='{.items[0].metadata.name}')
cat <<MSG

The demo team runs on node $node. Watch the agents (detach: Ctrl-b d):
  kubectl exec -it -n $NAMESPACE $pod -- tmux -S /run/tmux-orchestrator/tmux.sock attach -t demo
Operator logs: kubectl logs -n $NAMESPACE deploy/$RELEASE-operator -f
Delete the cluster: deploy/kind.sh down
MSG
