"""Leader election over a coordination.k8s.io Lease: of the operator's replicas exactly one is active.

The decisions are core.leadership's (pure); this module reads and writes the Lease and keeps the time. A
standby only reads the Lease (every retry_seconds): it writes nothing until it takes over. The holder
renews every retry_seconds; `leading` turns False once it could not renew for renew_deadline_seconds,
and `hold` then raises LeadershipLost, whose handling is to stop everything and exit (a restarted process
starts again as a standby, with nothing in memory from its time as the leader).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from datetime import UTC, datetime
from typing import Any, Final

from tmux_orchestrator.core.leadership import (
    LeaseAction,
    LeaseRecord,
    LeaseTiming,
    Sighting,
    decide_lease,
    held_lease_spec,
    next_sighting,
    released_lease_spec,
)
from tmux_orchestrator.kube.client import Kube, describe_error, is_conflict

log = logging.getLogger(__name__)

_JITTER: Final = 0.2
"""Standbys look at the Lease at slightly different moments, so they do not all try to take it at once."""


class LeadershipLost(Exception):
    """The Lease could not be renewed in time, or another replica holds it now."""


class LeaderElector:
    def __init__(
        self, kube: Kube, namespace: str, name: str, identity: str, timing: LeaseTiming | None = None
    ) -> None:
        self.kube, self.namespace, self.name, self.identity = kube, namespace, name, identity
        self.timing = timing or LeaseTiming()
        self._sighting: Sighting | None = None
        self._renewed_at: float | None = None
        """Monotonic time at which the last successful write was *sent* (the conservative end)."""

    @property
    def leading(self) -> bool:
        """We hold the Lease and renewed it recently enough that no standby may have taken it over."""
        return (
            self._renewed_at is not None
            and time.monotonic() - self._renewed_at < self.timing.renew_deadline_seconds
        )

    async def acquire(self) -> None:
        """Return once we hold the Lease; until then, a standby that only reads."""
        log.info("standby: waiting for Lease %s/%s (as %s)", self.namespace, self.name, self.identity)
        while not await self._attempt(self._call_timeout()):
            await asyncio.sleep(self.timing.retry_seconds * (1 + random.uniform(0, _JITTER)))
        log.info("leading: holding Lease %s/%s as %s", self.namespace, self.name, self.identity)

    async def hold(self) -> None:
        """Renew forever; raise LeadershipLost when that failed for the renew deadline or someone else
        holds the Lease."""
        while True:
            await asyncio.sleep(self.timing.retry_seconds)
            if not self.leading:
                break
            assert self._renewed_at is not None
            left = self.timing.renew_deadline_seconds - (time.monotonic() - self._renewed_at)
            await self._attempt(min(self._call_timeout(), max(left, 0.1)))
            if self._sighting is not None and self._sighting.record.holder != self.identity:
                self._renewed_at = None
                raise LeadershipLost(f"Lease {self.namespace}/{self.name} is held by another replica")
            if not self.leading:
                break
        raise LeadershipLost(
            f"could not renew Lease {self.namespace}/{self.name} for "
            f"{self.timing.renew_deadline_seconds:g} s: stopped acting before a standby may take over"
        )

    async def release(self) -> None:
        """Give the Lease up on a graceful stop, so a standby takes over at once (best effort)."""
        if not self.leading or self._sighting is None:
            return
        self._renewed_at = None
        body = self._body(released_lease_spec(self._sighting.record, datetime.now(UTC)))
        try:
            async with asyncio.timeout(self._call_timeout()):
                await self.kube.replace_lease(self.name, self.namespace, body)
            log.info("released Lease %s/%s", self.namespace, self.name)
        except Exception as error:  # the standby then waits for the Lease to expire: slower, still safe
            log.warning("could not release Lease %s/%s: %s", self.namespace, self.name, describe_error(error))

    def _call_timeout(self) -> float:
        return self.timing.retry_seconds * 2

    async def _attempt(self, timeout: float) -> bool:
        """One look at the Lease and, if the rules say so, one write. True when we hold it afterwards."""
        try:
            async with asyncio.timeout(timeout):
                return await self._read_and_decide()
        except Exception as error:  # an API server that is down, slow or refusing: try again later
            if is_conflict(error):
                log.info("Lease %s/%s changed under us; looking again", self.namespace, self.name)
            else:
                log.warning("Lease %s/%s: %s", self.namespace, self.name, describe_error(error))
            return False

    async def _read_and_decide(self) -> bool:
        sent = time.monotonic()
        lease = await self.kube.read_lease(self.name, self.namespace)
        self._sighting = (
            None if lease is None else next_sighting(self._sighting, LeaseRecord.from_object(lease), sent)
        )
        action = decide_lease(self.identity, self._sighting, sent, self.timing)
        if action is LeaseAction.WAIT:
            return False
        record = None if self._sighting is None else self._sighting.record
        spec = held_lease_spec(self.identity, record, action, datetime.now(UTC), self.timing)
        sent = time.monotonic()
        if action is LeaseAction.CREATE:
            written = await self.kube.create_lease(self.namespace, self._body(spec))
        else:
            written = await self.kube.replace_lease(self.name, self.namespace, self._body(spec))
        self._sighting = Sighting(LeaseRecord.from_object(written), sent)
        self._renewed_at = sent
        if action is not LeaseAction.RENEW:
            log.info("Lease %s/%s: %s by %s", self.namespace, self.name, action.value, self.identity)
        return True

    def _body(self, spec: dict[str, Any]) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        if self._sighting is not None:  # compare-and-swap: 409 if it moved since we read it
            metadata["resourceVersion"] = self._sighting.record.resource_version
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": spec,
        }
