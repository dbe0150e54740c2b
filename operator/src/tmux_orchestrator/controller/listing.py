"""The kinds the operator watches through kopf, and full listings of them through our client (edge).

kopf's watch streams feed the caches. Listings are the workaround for its one defect that matters here
(docs/architecture.md, "kopf, the operator's one watch stack"): after a watch gap that ends in a relist,
kopf never drops an object deleted during the gap. A listing replaces a cache's content (`replace_all`):
the first one seeds a cache before any pass reads it (synced), later ones (periodic, and soon after kopf
relisted) drop what the watch missed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tmux_orchestrator.api.constants import GROUP, LABEL_NODE, LABEL_TEAM, VERSION
from tmux_orchestrator.kube.client import NODE_LEASE_NAMESPACE, Kube, ListResult, Resource

from .cache import ObjectCache
from .observe import ClusterCaches

Lister = Callable[[str | None], Awaitable[ListResult]]
"""Lists one scope: a namespace, or None for all namespaces (or a cluster-scoped kind)."""


@dataclass(frozen=True)
class WatchedKind:
    """One kind kopf watches into a cache, with the same server-side selectors as its listing."""

    name: str
    """The cache's kind (ObjectCache.kind); also the relist queue's key."""
    group: str
    version: str
    plural: str
    label_selector: str | None = None
    field_selector: str | None = None
    in_served_namespaces: bool = True
    """Namespaced and limited to the namespaces served; False: cluster-scoped, or node Leases (all of them,
    in kube-node-lease)."""


TEAMS = WatchedKind("AgentTeam", GROUP, VERSION, Resource.AGENT_TEAMS.value)
AGENTS = WatchedKind("Agent", GROUP, VERSION, Resource.AGENTS.value)
NODES = WatchedKind("TmuxNode", GROUP, VERSION, Resource.TMUX_NODES.value, in_served_namespaces=False)
LEASES = WatchedKind(
    "Lease",
    "coordination.k8s.io",
    "v1",
    "leases",
    label_selector=LABEL_NODE,
    field_selector=f"metadata.namespace={NODE_LEASE_NAMESPACE}",
    in_served_namespaces=False,
)
REVISIONS = WatchedKind("ControllerRevision", "apps", "v1", "controllerrevisions", label_selector=LABEL_TEAM)
MESSAGES = WatchedKind("AgentMessage", GROUP, VERSION, Resource.AGENT_MESSAGES.value)
WATCHED_KINDS = (TEAMS, AGENTS, NODES, LEASES, REVISIONS, MESSAGES)


@dataclass(frozen=True)
class CacheListing:
    kind: WatchedKind
    cache: ObjectCache
    lister: Lister
    scopes: tuple[str | None, ...]


def cache_listings(kube: Kube, caches: ClusterCaches, namespaces: tuple[str, ...]) -> dict[str, CacheListing]:
    """Per kind name: how to list it into its cache, one listing per served namespace (or one for all)."""
    served: tuple[str | None, ...] = namespaces or (None,)

    def custom(resource: Resource) -> Lister:
        return lambda scope: kube.list(resource, scope)

    def leases(_: str | None) -> Awaitable[ListResult]:
        return kube.list_leases(NODE_LEASE_NAMESPACE, label_selector=LEASES.label_selector)

    def revisions(scope: str | None) -> Awaitable[ListResult]:
        return kube.list_controller_revisions(scope, label_selector=REVISIONS.label_selector)

    listings = (
        CacheListing(TEAMS, caches.teams, custom(Resource.AGENT_TEAMS), served),
        CacheListing(AGENTS, caches.agents, custom(Resource.AGENTS), served),
        CacheListing(NODES, caches.nodes, custom(Resource.TMUX_NODES), (None,)),
        CacheListing(LEASES, caches.leases, leases, (None,)),
        CacheListing(REVISIONS, caches.revisions, revisions, served),
        CacheListing(MESSAGES, caches.messages, custom(Resource.AGENT_MESSAGES), served),
    )
    for listing in listings:
        assert listing.cache.kind == listing.kind.name, listing
        listing.cache.expect_scopes(listing.scopes)
    return {listing.kind.name: listing for listing in listings}


async def sync_cache(listing: CacheListing) -> None:
    """List every scope of one kind and replace the cache's content with it."""
    for scope in listing.scopes:
        items, version = await listing.lister(scope)
        listing.cache.replace_all(items, scope, version)
