"""The node agent's screen endpoint: `GET /namespaces/{namespace}/agents/{name}/screen` answers with the
agent's current screen, captured from tmux at that moment, to callers the API server vouches for.

Every request is checked like kube-rbac-proxy checks one (tmux_sidecar.screen_access): no bearer token →
401; a token the API server does not authenticate (TokenReview) → 401; a user without `get` on the virtual
subresource `agents/screen` of that Agent (SubjectAccessReview) → 403. The dashboard calls it with its
ServiceAccount token; its address is advertised in the TmuxNode's status.screenEndpoint.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tmux_orchestrator.asgi import socket_url
from tmux_orchestrator.kube import Kube
from tmux_orchestrator.kube.client import describe_error
from tmux_sidecar.screen_access import (
    Verdict,
    VerdictCache,
    access_review,
    access_verdict,
    bearer_token,
    cache_key,
    reviewed_user,
    token_review,
)
from tmux_sidecar.tmux.control import TmuxError

if TYPE_CHECKING:
    from .loop import NodeAgent

log = logging.getLogger(__name__)

SCREEN_PATH = "/namespaces/{namespace}/agents/{name}/screen"


class ScreenAccess:
    """Reviews callers through the API server, remembering recent verdicts."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.cache = VerdictCache()

    async def check(self, authorization: str | None, namespace: str, name: str) -> Verdict:
        token = bearer_token(authorization)
        if token is None:
            return Verdict.UNAUTHENTICATED
        key = cache_key(token, namespace, name)
        cached = self.cache.get(key, time.monotonic())
        if cached is not None:
            return cached
        user = reviewed_user(await self.kube.review_token(token_review(token)))
        if user is None:
            verdict = Verdict.UNAUTHENTICATED
        else:
            verdict = access_verdict(await self.kube.review_access(access_review(user, namespace, name)))
            if verdict is Verdict.FORBIDDEN:
                log.info("screen of %s/%s refused to %s", namespace, name, user.username)
        self.cache.put(key, verdict, time.monotonic())
        return verdict


def screen_url(sock: socket.socket, advertise: str | None) -> str:
    """The URL other hosts reach the endpoint at: the advertised host, else the listen address unless it is
    a wildcard, else this host's name."""
    address = str(sock.getsockname()[0])
    wildcard = address in ("0.0.0.0", "::")
    return socket_url(sock, advertise or (socket.gethostname() if wildcard else None))


def screen_app(kube: Kube, node_agent: NodeAgent) -> Starlette:
    access = ScreenAccess(kube)

    async def screen(request: Request) -> Response:
        namespace = request.path_params["namespace"]
        name = request.path_params["name"]
        try:
            verdict = await access.check(request.headers.get("authorization"), namespace, name)
        except Exception as error:  # the API server cannot be asked: refuse, and say why
            log.warning("screen access review failed: %s", describe_error(error))
            return PlainTextResponse("cannot review the caller's access now\n", status_code=503)
        if verdict is not Verdict.ALLOWED:
            headers = {"WWW-Authenticate": "Bearer"} if verdict is Verdict.UNAUTHENTICATED else None
            return PlainTextResponse(f"{verdict.name.lower()}\n", status_code=verdict.value, headers=headers)
        record = next(
            (r for r in node_agent.agents.values() if r.namespace == namespace and r.name == name), None
        )
        client = node_agent.tmux
        if record is None or record.pane_id is None:
            return PlainTextResponse(f"no agent {namespace}/{name} on this node\n", status_code=404)
        if client is None:
            return PlainTextResponse("tmux is not connected\n", status_code=503)
        try:
            lines = await client.capture_pane(record.pane_id)
        except TmuxError as error:
            return PlainTextResponse(f"pane {record.pane_id} cannot be captured: {error}\n", status_code=404)
        return JSONResponse(
            {"namespace": namespace, "agent": name, "pane": record.pane_id, "lines": lines, "at": time.time()}
        )

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)  # nothing secret in them

    return Starlette(
        routes=[Route(SCREEN_PATH, screen), Route("/healthz", healthz), Route("/metrics", metrics)]
    )
