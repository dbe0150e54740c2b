# syntax=docker/dockerfile:1
# One image for both processes: `tmux-orchestrator operator` (the Deployment) and
# `tmux-orchestrator sidecar` (the node agent DaemonSet, which runs tmux and the agents).
# Agent CLIs other than the built-in simulated one (`tmux-orchestrator fake-agent`) are not included:
# build FROM this image and install yours (claude, codex, aider) as root, then switch back to USER 10001.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator/src operator/src
COPY agent-sidecar/src agent-sidecar/src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# tmux from Debian; tini as PID 1 reaps the tmux server the node agent starts (a daemon whose parent exits,
# so it is re-parented to PID 1) and forwards SIGTERM; git for the agents' worktrees (spec.workspace).
# Versions come from the base image's Debian release.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tmux tini git \
    && rm -rf /var/lib/apt/lists/*
# pip compiles the bytecode at install time: the containers run with a read-only root filesystem.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl
# A fixed numeric uid/gid, so that Kubernetes can verify runAsNonRoot and the chart's securityContext matches.
RUN groupadd --gid 10001 agent \
    && useradd --uid 10001 --gid 10001 --home-dir /home/agent --create-home --shell /bin/bash agent
USER 10001:10001
WORKDIR /home/agent
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "tmux-orchestrator"]
CMD ["--help"]
