"""A stand-in for the node agent, for operator-only tests: no tmux, no agent processes.

It does through the API exactly what the operator needs from a node agent, and nothing else:
- registers TmuxNode `<node>` (labels, spec.capacity) with a Ready condition in its status;
- renews the coordination.k8s.io/v1 Lease `tmuxnode-<node>` in namespace kube-node-lease, labelled
  orchestrator.tmux.dev/node=<node>, holderIdentity <node>, leaseDurationSeconds 40;
- watches the Agents labelled orchestrator.tmux.dev/node=<node> (server-side selector) and reports each as
  started: status phase Running, ready true, revision = spec.revision, node, startedAt (a new process per
  revision or restartedAt), activity Busy, restartCount 0, a Ready condition; written only on change;
- with --failed NAME, reports that Agent as a node agent does once its circuit breaker gave up (Failed).

Run as a process (the tests SIGKILL it to make a node's Lease expire):
    python stand_in_node.py --kubeconfig K --node N [--label k=v ...] [--capacity C] [--failed AGENT ...]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from tmux_orchestrator.api.constants import API_VERSION, LABEL_NODE
from tmux_orchestrator.core.clock import format_time
from tmux_orchestrator.kube.client import (
    NODE_LEASE_NAMESPACE,
    Kube,
    KubeObject,
    Resource,
    WatchEventType,
    connect,
    is_not_found,
    node_lease_name,
)

LEASE_DURATION_SECONDS = 40
log = logging.getLogger("stand-in-node")


def failed_status(agent: KubeObject, node: str, now: str) -> dict[str, Any]:
    """What a node agent reports once its circuit breaker gave up on an agent that keeps crashing."""
    return {
        "observedGeneration": agent["metadata"].get("generation"),
        "phase": "Failed",
        "ready": False,
        "restartCount": 5,
        "lastExitCode": 1,
        "lastCrashReason": "Exited",
        "lastCrashMessage": "stand-in: exited with status 1",
        "revision": agent["spec"]["revision"],
        "node": node,
        "startedAt": now,
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "Failed", "lastTransitionTime": now},
            {"type": "Stalled", "status": "True", "reason": "TooManyRestarts", "lastTransitionTime": now},
        ],
    }


def desired_status(agent: KubeObject, node: str, now: str) -> dict[str, Any]:
    """The status a healthy node agent reports once the agent's process runs its current spec: the same
    process (same startedAt) as long as revision, restartedAt and node are those already reported."""
    spec, status = agent["spec"], agent.get("status") or {}
    same_process = (status.get("revision"), status.get("restartedAt"), status.get("node")) == (
        spec["revision"],
        spec.get("restartedAt"),
        node,
    )
    started = status["startedAt"] if same_process and status.get("startedAt") else now
    generation = agent["metadata"].get("generation")
    return {
        "observedGeneration": generation,
        "phase": "Running",
        "activity": "Busy",
        "ready": True,
        "restartCount": 0,
        "revision": spec["revision"],
        "node": node,
        "startedAt": started,
        "lastActivityTime": started,
        "restartedAt": spec.get("restartedAt"),
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "Running",
                "message": "stand-in node agent",
                "lastTransitionTime": started,
                "observedGeneration": generation,
            }
        ],
    }


class StandInNode:
    def __init__(
        self, kube: Kube, node: str, labels: dict[str, str], capacity: int, renew: float, failed: set[str]
    ) -> None:
        self.kube = kube
        self.node = node
        self.labels = labels
        self.capacity = capacity
        self.renew_seconds = renew
        self.failed = failed

    async def run(self) -> None:
        await self.register()
        await asyncio.gather(self.renew_forever(), self.report_agents())

    async def register(self) -> None:
        body = {
            "apiVersion": API_VERSION,
            "kind": "TmuxNode",
            "metadata": {"name": self.node, "labels": {**self.labels, LABEL_NODE: self.node}},
            "spec": {"capacity": self.capacity},
        }
        try:
            await self.kube.create(Resource.TMUX_NODES, body)
        except Exception as error:
            if getattr(error, "status", None) != 409:
                raise
            await self.kube.patch(
                Resource.TMUX_NODES, self.node, {"metadata": body["metadata"], "spec": body["spec"]}
            )
        now = format_time(datetime.now(UTC))
        ready = {"type": "Ready", "status": "True", "reason": "TmuxAnswers", "lastTransitionTime": now}
        await self.kube.patch_status(
            Resource.TMUX_NODES, self.node, {"tmuxVersion": "stand-in", "conditions": [ready]}
        )

    async def renew_forever(self) -> None:
        while True:
            try:
                await self.renew()
            except Exception as error:  # a frozen or restarting API server: renew at the next tick
                log.warning("Lease not renewed: %s", error)
            await asyncio.sleep(self.renew_seconds)

    async def renew(self) -> None:
        await self.kube.renew_lease(
            node_lease_name(self.node),
            NODE_LEASE_NAMESPACE,
            self.node,
            LEASE_DURATION_SECONDS,
            datetime.now(UTC),
            labels={LABEL_NODE: self.node},
            field_manager="stand-in-node",
        )

    async def report_agents(self) -> None:
        async for event in self.kube.watch(Resource.AGENTS, label_selector=f"{LABEL_NODE}={self.node}"):
            agents = event.objects if event.type is WatchEventType.RESYNC else (event.object,)
            if event.type is WatchEventType.DELETED:
                continue
            for agent in agents:
                if agent is not None:
                    await self.report(agent)

    async def report(self, agent: KubeObject) -> None:
        meta = agent["metadata"]
        if meta.get("deletionTimestamp") or agent["spec"].get("nodeName") != self.node:
            return
        now = format_time(datetime.now(UTC))
        current = agent.get("status") or {}
        if meta["name"] in self.failed:
            if current.get("phase") == "Failed":
                return
            wanted = failed_status(agent, self.node, now)
        else:
            wanted = desired_status(agent, self.node, now)
            if all(current.get(key) == value for key, value in wanted.items() if value is not None):
                return  # status writes only on change
        try:
            await self.kube.patch_status(Resource.AGENTS, meta["name"], wanted, meta["namespace"])
        except Exception as error:
            if not is_not_found(error):
                log.warning("status of %s/%s not written: %s", meta["namespace"], meta["name"], error)
            return
        log.info(
            "reported %s/%s %s at revision %s",
            meta["namespace"],
            meta["name"],
            wanted["phase"],
            wanted["revision"],
        )


async def main(args: argparse.Namespace) -> None:
    labels = dict(item.split("=", 1) for item in args.label)
    async with await connect(args.kubeconfig) as kube:
        node = StandInNode(kube, args.node, labels, args.capacity, args.renew_seconds, set(args.failed))
        await node.run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--node", required=True)
    parser.add_argument("--label", action="append", default=[], help="TmuxNode label k=v")
    parser.add_argument("--capacity", type=int, default=100)
    parser.add_argument("--renew-seconds", type=float, default=2.0)
    parser.add_argument("--failed", action="append", default=[], help="report this Agent as Failed")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s stand-in %(levelname)s %(message)s")
    asyncio.run(main(parser.parse_args()))
