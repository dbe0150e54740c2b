"""Who may read a screen from the node agent: the review bodies sent and how their answers are read."""

from __future__ import annotations

from typing import Any

import pytest

from tmux_sidecar.screen_access import (
    ALLOWED_TTL_SECONDS,
    DENIED_TTL_SECONDS,
    User,
    Verdict,
    VerdictCache,
    access_review,
    access_verdict,
    bearer_token,
    cache_key,
    reviewed_user,
    token_review,
)

HEADERS = [
    ("bearer", "Bearer abc.def", "abc.def"),
    ("scheme-case-insensitive", "bearer abc", "abc"),
    ("spaces-around", "  Bearer   abc  ", "abc"),
    ("missing", None, None),
    ("empty-token", "Bearer ", None),
    ("basic-auth", "Basic dXNlcjpwYXNz", None),
    ("no-scheme", "abc", None),
]


@pytest.mark.parametrize(("header", "token"), [h[1:] for h in HEADERS], ids=[h[0] for h in HEADERS])
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_token_review_carries_the_token() -> None:
    assert token_review("t0k") == {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": "t0k"},
    }


SA_USER = {
    "username": "system:serviceaccount:ops:dashboard",
    "uid": "u-1",
    "groups": ["system:serviceaccounts", "system:authenticated"],
    "extra": {"authentication.kubernetes.io/node-name": ["n1"]},
}
REVIEWS: list[tuple[str, dict[str, Any], User | None]] = [
    (
        "authenticated",
        {"authenticated": True, "user": SA_USER},
        User(
            "system:serviceaccount:ops:dashboard",
            "u-1",
            ("system:serviceaccounts", "system:authenticated"),
            {"authentication.kubernetes.io/node-name": ("n1",)},
        ),
    ),
    ("not-authenticated", {"authenticated": False, "error": "invalid bearer token"}, None),
    ("no-status", {}, None),
    ("authenticated-without-user", {"authenticated": True, "user": {}}, None),
]


@pytest.mark.parametrize(("status", "user"), [r[1:] for r in REVIEWS], ids=[r[0] for r in REVIEWS])
def test_reviewed_user(status: dict[str, Any], user: User | None) -> None:
    assert reviewed_user(status) == user


def test_access_review_asks_for_get_on_the_agents_screen_subresource_with_the_whole_identity() -> None:
    user = User("alice", "u-2", ("devs",), {"scopes": ("a", "b")})
    assert access_review(user, "team-a", "web-dev-0") == {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": "alice",
            "uid": "u-2",
            "groups": ["devs"],
            "extra": {"scopes": ["a", "b"]},
            "resourceAttributes": {
                "group": "orchestrator.tmux.dev",
                "resource": "agents",
                "subresource": "screen",
                "verb": "get",
                "namespace": "team-a",
                "name": "web-dev-0",
            },
        },
    }


VERDICTS = [
    ("allowed", {"allowed": True}, Verdict.ALLOWED),
    ("not-allowed", {"allowed": False, "reason": "no RBAC policy matched"}, Verdict.FORBIDDEN),
    ("denied-wins", {"allowed": True, "denied": True}, Verdict.FORBIDDEN),
    ("empty", {}, Verdict.FORBIDDEN),
]


@pytest.mark.parametrize(("status", "verdict"), [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS])
def test_access_verdict(status: dict[str, Any], verdict: Verdict) -> None:
    assert access_verdict(status) is verdict


def test_verdicts_are_remembered_briefly_refusals_shorter() -> None:
    cache = VerdictCache()
    allowed, refused = cache_key("t1", "ns", "a"), cache_key("t2", "ns", "a")
    cache.put(allowed, Verdict.ALLOWED, now=0)
    cache.put(refused, Verdict.FORBIDDEN, now=0)
    assert cache.get(allowed, DENIED_TTL_SECONDS) is Verdict.ALLOWED
    assert cache.get(refused, DENIED_TTL_SECONDS) is None
    assert cache.get(allowed, ALLOWED_TTL_SECONDS) is None
    assert cache_key("t1", "ns", "a") != cache_key("t1", "ns", "b")
    assert "t1" not in allowed  # tokens are kept only as hashes
