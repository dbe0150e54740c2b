"""The dashboard's web app (edge): pages, their live regions over Server-Sent Events, the screen proxy and,
when enabled, the team actions.

Pages never make the browser poll the API server: every open page holds one event stream from this
server, which re-renders the page's live region from the Fleet caches when they change and pushes it if it
differs from what the page has. Screens come from the node agent of the agent's node, called with the
dashboard's ServiceAccount token (the node agent reviews it with the API server).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tmux_orchestrator.api.constants import API_VERSION, GROUP
from tmux_orchestrator.core.clock import format_micro_time
from tmux_orchestrator.kube.client import Kube, KubeObject, Resource, describe_error
from tmux_orchestrator.kube.events import event_body, reporting_instance
from tmux_orchestrator.plugin_view import control_patch

from . import views
from .actions import ActionError, audit_note, send_body
from .fleet import Fleet
from .timeline import build_bands, crash_periods

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
_IDLE_RENDER_SECONDS = 5.0  # ages and timeline bands move on without any change
_COALESCE_SECONDS = 0.1  # one push for a burst of changes
_SCREEN_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class DashboardOptions:
    actions: bool = False
    """promote, abort, restart and send (each audited as an Event); read-only without."""
    screen_token_file: str | None = None
    """Bearer token for the node agents' screen endpoints; default: the kubeconfig's or in-cluster token."""


def sse(event: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: {event}\n{lines}\n"


class Dashboard:
    def __init__(self, kube: Kube, fleet: Fleet, options: DashboardOptions | None = None) -> None:
        self.kube = kube
        self.fleet = fleet
        self.options = options or DashboardOptions()
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    # -- live regions -------------------------------------------------------------------------------------

    def fleet_live(self) -> str:
        return views.fleet_live(list(self.fleet.teams), list(self.fleet.nodes), time.time())

    def team_live(self, namespace: str, name: str) -> str:
        agents = self.fleet.agents_of(namespace, name)
        last = {}
        for agent in agents:
            agent_name = agent["metadata"]["name"]
            messages = self.fleet.messages_to(namespace, agent_name)
            if messages:
                last[agent_name] = messages[0]
        return views.team_live(self.fleet.team(namespace, name), agents, last, time.time())

    def agent_live(self, namespace: str, name: str) -> str:
        now = time.time()
        return views.agent_live(
            self.fleet.agent(namespace, name),
            self.fleet.messages_to(namespace, name),
            self.fleet.messages_from(namespace, name),
            self.fleet.events_about(namespace, "Agent", name),
            crash_periods(self.fleet.history.samples(namespace, name), now),
            now,
        )

    def timeline_live(self, namespace: str, name: str, minutes: int) -> str:
        now, window = time.time(), minutes * 60.0
        agents = sorted(a["metadata"]["name"] for a in self.fleet.agents_of(namespace, name))
        samples = self.fleet.history.samples
        rows = [(agent, build_bands(samples(namespace, agent), now, window)) for agent in agents]
        return views.timeline_live(self.fleet.team(namespace, name), rows, now, window)

    async def stream(self, render: Callable[[], str]) -> AsyncIterator[str]:
        with self.fleet.subscribe() as wake:
            sent = None
            yield "retry: 1000\n\n"
            while True:
                html = render()
                if html != sent:
                    yield sse("live", html)
                    sent = html
                else:
                    yield ": still here\n\n"  # a dead connection shows up as a failed write
                try:
                    # asyncio.timeout, not wait_for: Python 3.11's wait_for may lose a cancellation (a closed
                    # stream) that lands with its timeout (see controller/workqueue.py).
                    async with asyncio.timeout(_IDLE_RENDER_SECONDS):
                        await wake.wait()
                    await asyncio.sleep(_COALESCE_SECONDS)
                except TimeoutError:
                    pass
                wake.clear()

    # -- screens ------------------------------------------------------------------------------------------

    async def _token(self) -> str | None:
        if self.options.screen_token_file:
            return Path(self.options.screen_token_file).read_text().strip() or None
        configuration = self.kube.api_client.configuration
        header = await configuration.get_api_key_with_prefix("BearerToken")  # refreshes a rotated token
        _, _, token = str(header or "").rpartition(" ")
        return token or None

    async def screen(self, namespace: str, name: str) -> Response:
        agent = self.fleet.agent(namespace, name)
        if agent is None:
            return _error(404, f"no agent {namespace}/{name}")
        node_name = (agent.get("spec") or {}).get("nodeName")
        node = self.fleet.node(str(node_name)) if node_name else None
        endpoint = ((node or {}).get("status") or {}).get("screenEndpoint")
        if not endpoint:
            return _error(
                503, f"node {node_name or '(none)'} serves no screens (node agent without --screen-port)"
            )
        token = await self._token()
        if token is None:
            return _error(503, "the dashboard has no token to show the node agent")
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=_SCREEN_TIMEOUT_SECONDS))
        url = f"{str(endpoint).rstrip('/')}/namespaces/{namespace}/agents/{name}/screen"
        try:
            async with self._http.get(url, headers={"Authorization": f"Bearer {token}"}) as reply:
                body = await reply.read()
                if reply.status != 200:
                    return _error(reply.status, f"node {node_name}: {body.decode(errors='replace').strip()}")
                return Response(body, media_type="application/json")
        except (aiohttp.ClientError, TimeoutError) as error:
            return _error(
                502, f"node {node_name} at {endpoint} does not answer: {error or type(error).__name__}"
            )

    # -- actions ------------------------------------------------------------------------------------------

    async def act(self, request: Request, namespace: str, name: str, verb: str) -> Response:
        if not self.options.actions:
            return _error(403, "the dashboard is read-only (start it with --dashboard-actions)")
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _error(415, "actions are JSON requests")  # a cross-site form post cannot be one
        team = self.fleet.team(namespace, name)
        if team is None:
            return _error(404, f"no team {namespace}/{name}")
        who = request.headers.get("x-forwarded-user") or (request.client.host if request.client else "?")
        now = datetime.datetime.now(datetime.UTC)
        try:
            if verb == "send":
                payload = await request.json()
                body = send_body(team, self.fleet.agents_of(namespace, name), payload)
                created = await self.kube.create(Resource.AGENT_MESSAGES, body, namespace)
                done = f"agentmessage {created['metadata']['name']} created"
            elif verb in views.ACTIONS:
                nonce = format_micro_time(now)
                await self.kube.patch(Resource.AGENT_TEAMS, name, control_patch(verb, nonce), namespace)
                done = f"{verb} requested ({nonce})"
            else:
                return _error(404, f"unknown action {verb!r}")
        except ActionError as error:
            return _error(400, str(error))
        except ValueError as error:
            return _error(400, f"bad request: {error}")
        except Exception as error:
            return _error(502, describe_error(error))
        regarding = {"apiVersion": API_VERSION, "kind": "AgentTeam", "metadata": team["metadata"]}
        event = event_body(
            regarding,
            name=f"{name}.dashboard-{verb}.{now:%Y%m%d%H%M%S%f}",
            type_="Normal",
            reason=f"Dashboard{verb.capitalize()}",
            note=audit_note(verb, who, done),
            action=verb.capitalize(),
            controller=f"{GROUP}/dashboard",
            component="tmux-orchestrator-dashboard",
            instance=reporting_instance(),
            now=now,
        )
        try:  # audited synchronously: the answer says done only once the Event is written (or failed)
            await self.kube.create_event(namespace, event)
        except Exception as error:
            log.warning(
                "audit event for %s of %s/%s not posted: %s", verb, namespace, name, describe_error(error)
            )
        return JSONResponse({"ok": True, "message": done})

    # -- the app ------------------------------------------------------------------------------------------

    def app(self) -> Starlette:
        def names(request: Request) -> tuple[str, str]:
            return request.path_params["namespace"], request.path_params["name"]

        async def fleet_page(request: Request) -> Response:
            body = "<h1>Fleet</h1>" + views.live_region(self.fleet_live())
            return HTMLResponse(views.page("Fleet", body, live="/live/fleet"))

        async def team_page(request: Request) -> Response:
            namespace, name = names(request)
            team = self.fleet.team(namespace, name)
            members = [m["name"] for m in ((team or {}).get("spec") or {}).get("members") or []]
            header = views.team_header(
                team or {"metadata": {"namespace": namespace, "name": name}}, members, self.options.actions
            )
            body = header + views.live_region(self.team_live(namespace, name))
            crumbs = [("fleet", "/"), (f"{namespace}/{name}", views.team_url(namespace, name))]
            live = f"/live/teams/{views._seg(namespace)}/{views._seg(name)}"
            return HTMLResponse(views.page(f"Team {name}", body, crumbs=crumbs, live=live))

        async def agent_page(request: Request) -> Response:
            namespace, name = names(request)
            agent = self.fleet.agent(namespace, name)
            team = str(((agent or {}).get("spec") or {}).get("teamRef", {}).get("name") or "")
            crumbs = [("fleet", "/")]
            if team:
                crumbs.append((f"{namespace}/{team}", views.team_url(namespace, team)))
            crumbs.append((name, views.agent_url(namespace, name)))
            body = views.agent_header(agent, namespace, name) + views.live_region(
                self.agent_live(namespace, name)
            )
            live = f"/live/agents/{views._seg(namespace)}/{views._seg(name)}"
            return HTMLResponse(views.page(f"Agent {name}", body, crumbs=crumbs, live=live))

        async def timeline_page(request: Request) -> Response:
            namespace, name = names(request)
            minutes = views.timeline_minutes(request.query_params.get("minutes"))
            crumbs = [("fleet", "/"), (f"{namespace}/{name}", views.team_url(namespace, name))]
            body = views.timeline_header(namespace, name, minutes) + views.live_region(
                self.timeline_live(namespace, name, minutes)
            )
            live = f"/live/timeline/{views._seg(namespace)}/{views._seg(name)}?minutes={minutes}"
            return HTMLResponse(views.page(f"Timeline {name}", body, crumbs=crumbs, live=live))

        def live(render: Callable[[Request], str]) -> Callable[[Request], Any]:
            async def endpoint(request: Request) -> Response:
                return StreamingResponse(
                    self.stream(lambda: render(request)),
                    media_type="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
                )

            return endpoint

        async def screen(request: Request) -> Response:
            return await self.screen(*names(request))

        async def action(request: Request) -> Response:
            return await self.act(request, *names(request), request.path_params["verb"])

        async def healthz(_: Request) -> Response:
            synced = self.fleet.synced
            return PlainTextResponse("ok\n" if synced else "syncing\n", status_code=200 if synced else 503)

        return Starlette(
            routes=[
                Route("/", fleet_page),
                Route("/teams/{namespace}/{name}", team_page),
                Route("/agents/{namespace}/{name}", agent_page),
                Route("/timeline/{namespace}/{name}", timeline_page),
                Route("/live/fleet", live(lambda _: self.fleet_live())),
                Route("/live/teams/{namespace}/{name}", live(lambda r: self.team_live(*names(r)))),
                Route("/live/agents/{namespace}/{name}", live(lambda r: self.agent_live(*names(r)))),
                Route(
                    "/live/timeline/{namespace}/{name}",
                    live(
                        lambda r: self.timeline_live(
                            *names(r), views.timeline_minutes(r.query_params.get("minutes"))
                        )
                    ),
                ),
                Route("/api/namespaces/{namespace}/agents/{name}/screen", screen),
                Route("/api/namespaces/{namespace}/teams/{name}/actions/{verb}", action, methods=["POST"]),
                Route("/healthz", healthz),
                Mount("/static", StaticFiles(directory=STATIC), name="static"),
            ]
        )


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


__all__ = ["Dashboard", "DashboardOptions", "KubeObject"]
