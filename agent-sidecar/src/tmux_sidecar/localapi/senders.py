"""Is a new message from an agent really from it: was it created by the node agent of the sender's node?
(edge: Kube)

The admission policy lets a node agent create messages only labelled with its own node (`from-node`);
whether the agent named in spec.from runs on that node is checked here, by the node agent that delivers, the
first time it sees the message (moments after its creation); the verdict is kept in the message's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tmux_orchestrator.kube import Kube, KubeObject, Resource, is_not_found

from .messages import LABEL_FROM_NODE, sender_refusal, sender_to_verify


class SenderCheck:
    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self._verdicts: dict[str, str | None] = {}  # message uid → refusal (None: fine)

    async def refusal(self, message: Mapping[str, Any]) -> str | None:
        """Why the message must not be typed, or None; the API server is asked once per message."""
        meta = message["metadata"]
        sender = sender_to_verify(message)
        if sender is None:
            return None
        uid = str(meta["uid"])
        if uid not in self._verdicts:
            agent: KubeObject | None
            try:
                agent = await self.kube.get(Resource.AGENTS, str(sender), str(meta["namespace"]))
            except Exception as error:
                if not is_not_found(error):
                    raise  # not known yet: asked again on the next pass
                agent = None
            labels = meta.get("labels") or {}
            self._verdicts[uid] = sender_refusal(str(sender), labels.get(LABEL_FROM_NODE), agent)
        return self._verdicts[uid]
