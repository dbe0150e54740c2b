"""This node in the API: its TmuxNode (created or updated, with a Ready condition and an agent count) and
its Lease, renewed every `lease_interval` seconds so the operator knows the node agent is alive."""

from __future__ import annotations

import asyncio
import datetime
import logging
import random
import socket
from typing import Any

from tmux_orchestrator.api.constants import LABEL_NODE
from tmux_orchestrator.core.backoff import WATCH_BACKOFF, retry_delay
from tmux_orchestrator.core.clock import format_time
from tmux_orchestrator.kube import Kube, KubeObject, Resource, is_not_found
from tmux_orchestrator.kube.client import (
    FIELD_MANAGER,
    NODE_LEASE_NAMESPACE,
    describe_error,
    node_lease_name,
)
from tmux_sidecar.node_conditions import ready_after_renewal
from tmux_sidecar.tmux.control import ServerInfo

from .records import NodeAgentConfig
from .status_writes import StatusWant, StatusWriter, WriteKey

log = logging.getLogger(__name__)

LEASE_DURATION_SECONDS = 40


async def keep_registered(kube: Kube, config: NodeAgentConfig, server: ServerInfo) -> None:
    """Register (`register_node`) until it succeeds, beside supervision: tmux never waits for it."""
    failures = 0
    while True:
        try:
            await register_node(kube, config, server)
            return
        except Exception as error:
            failures += 1
            delay = retry_delay(failures, random.random(), WATCH_BACKOFF)
            log.info(
                "node %s not registered yet, again in %.1fs: %s", config.node, delay, describe_error(error)
            )
            await asyncio.sleep(delay)


async def register_node(kube: Kube, config: NodeAgentConfig, server: ServerInfo) -> None:
    """Create or update our TmuxNode (spec only when we create it or were given --capacity)."""
    node = config.node
    body: dict[str, Any] = {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "TmuxNode",
        "metadata": {"name": node, "labels": {**config.labels, LABEL_NODE: node}},
    }
    if config.capacity is not None:
        body["spec"] = {"capacity": config.capacity}
    try:
        await kube.get(Resource.TMUX_NODES, node)
        # Labels and capacity given on the command line are ours to keep; others' labels stay.
        await kube.patch(
            Resource.TMUX_NODES, node, {k: v for k, v in body.items() if k in ("spec", "metadata")}
        )
    except Exception as error:
        if not is_not_found(error):
            raise
        await kube.create(Resource.TMUX_NODES, body)
    status = {
        "tmuxVersion": server.version,
        "hostname": socket.gethostname(),
        "tmuxSocket": config.socket_name or config.socket_path,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "TmuxServerUp",
                "message": f"tmux {server.version} (server pid {server.pid}) answers",
                "lastTransitionTime": format_time(datetime.datetime.now(datetime.UTC)),
            }
        ],
    }
    if config.screen_endpoint:
        status["screenEndpoint"] = config.screen_endpoint
    await kube.patch_status(Resource.TMUX_NODES, node, status)


COUNT_HOLD = 1.0
"""Seconds a new agent count waits for the next: a hundred agents arriving together make one or two writes
of the TmuxNode, not a hundred."""


class AgentCount:
    """The TmuxNode's status.agents, wanted from the status writer (written only when the number changes)."""

    def __init__(self, writes: StatusWriter, node: str) -> None:
        self.writes = writes
        self.node = node
        self._reported: int | None = None

    def report(self, count: int) -> None:
        self.writes.want(
            StatusWant(
                WriteKey(Resource.TMUX_NODES, self.node),
                {"agents": count},
                self._known,
                self._written,
                whole=False,
                hold=COUNT_HOLD,
            )
        )

    def _known(self) -> dict[str, Any] | None:
        return None if self._reported is None else {"agents": self._reported}

    def _written(self, result: KubeObject) -> None:
        self._reported = (result.get("status") or {}).get("agents")


async def keep_lease(kube: Kube, config: NodeAgentConfig) -> None:
    """Renew the node's Lease forever; a failed renewal is retried at the next interval."""
    while True:
        try:
            await renew_node_lease(kube, config.node)
            await sync_node_ready(kube, config.node)
        except Exception as error:
            log.info("lease not renewed: %s", error)
        await asyncio.sleep(config.lease_interval)


async def sync_node_ready(kube: Kube, node: str) -> None:
    """After a renewal: Ready=True again if the operator marked the node lost while its Lease lapsed."""
    try:
        current = await kube.get(Resource.TMUX_NODES, node)
    except Exception as error:
        if is_not_found(error):
            return  # not registered yet: registration writes Ready
        raise
    conditions = ready_after_renewal(
        (current.get("status") or {}).get("conditions"), datetime.datetime.now(datetime.UTC)
    )
    if conditions is None:
        return
    await kube.patch_status(Resource.TMUX_NODES, node, {"conditions": conditions})
    log.warning("node %s was marked lost while its Lease lapsed; Ready=True again", node)


async def renew_node_lease(kube: Kube, node: str) -> None:
    await kube.renew_lease(
        node_lease_name(node),
        NODE_LEASE_NAMESPACE,
        node,
        LEASE_DURATION_SECONDS,
        datetime.datetime.now(datetime.UTC),
        labels={LABEL_NODE: node},
        field_manager=f"{FIELD_MANAGER}-sidecar",
    )
