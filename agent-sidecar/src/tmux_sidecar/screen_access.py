"""Who may read an agent's screen from the node agent (pure), checked as kube-rbac-proxy does.

The caller's bearer token goes to the API server in a TokenReview (authentication), then the user it names
goes into a SubjectAccessReview for the virtual subresource `agents/screen`, verb `get`, of that Agent
(authorization). Nothing here talks to the API server: these functions build the review bodies and read
their answers; node.screens sends them. Answers are cached briefly so a page refreshing a screen every
second does not cost two API calls a second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from tmux_orchestrator.api.constants import GROUP

SCREEN_RESOURCE = "agents"
SCREEN_SUBRESOURCE = "screen"
SCREEN_VERB = "get"
ALLOWED_TTL_SECONDS = 10.0
DENIED_TTL_SECONDS = 2.0
_CACHE_LIMIT = 1024


class Verdict(Enum):
    """The answer to one request, with its HTTP status."""

    ALLOWED = 200
    UNAUTHENTICATED = 401
    FORBIDDEN = 403


@dataclass(frozen=True)
class User:
    """An authenticated user as a TokenReview names it."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when there is none."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_review(token: str) -> dict[str, Any]:
    return {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}


def reviewed_user(status: Mapping[str, Any]) -> User | None:
    """The user of a TokenReview's status; None unless the token authenticated."""
    user = status.get("user") or {}
    if not status.get("authenticated") or not user.get("username"):
        return None
    extra = {str(key): tuple(map(str, values or ())) for key, values in (user.get("extra") or {}).items()}
    return User(
        username=str(user["username"]),
        uid=str(user.get("uid") or ""),
        groups=tuple(str(group) for group in user.get("groups") or ()),
        extra=extra,
    )


def access_review(user: User, namespace: str, name: str) -> dict[str, Any]:
    """A SubjectAccessReview: may `user` get the screen of Agent namespace/name?"""
    spec: dict[str, Any] = {
        "user": user.username,
        "groups": list(user.groups),
        "resourceAttributes": {
            "group": GROUP,
            "resource": SCREEN_RESOURCE,
            "subresource": SCREEN_SUBRESOURCE,
            "verb": SCREEN_VERB,
            "namespace": namespace,
            "name": name,
        },
    }
    if user.uid:
        spec["uid"] = user.uid
    if user.extra:
        spec["extra"] = {key: list(values) for key, values in user.extra.items()}
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}


def access_verdict(status: Mapping[str, Any]) -> Verdict:
    """Only an explicit `allowed: true` (and no `denied`) lets the caller in."""
    return Verdict.ALLOWED if status.get("allowed") and not status.get("denied") else Verdict.FORBIDDEN


def cache_key(token: str, namespace: str, name: str) -> str:
    """Tokens are kept only as hashes."""
    return hashlib.sha256(f"{token}\0{namespace}\0{name}".encode()).hexdigest()


class VerdictCache:
    """Recent verdicts by `cache_key`: allowed ones for ALLOWED_TTL_SECONDS, refusals for less (a fresh
    RoleBinding should take effect quickly). `now` is passed in (monotonic seconds)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Verdict, float]] = {}

    def get(self, key: str, now: float) -> Verdict | None:
        entry = self._entries.get(key)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def put(self, key: str, verdict: Verdict, now: float) -> None:
        if len(self._entries) >= _CACHE_LIMIT:
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
            if len(self._entries) >= _CACHE_LIMIT:
                self._entries.clear()
        ttl = ALLOWED_TTL_SECONDS if verdict is Verdict.ALLOWED else DENIED_TTL_SECONDS
        self._entries[key] = (verdict, now + ttl)
