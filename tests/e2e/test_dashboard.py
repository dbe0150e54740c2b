"""The dashboard in a real browser (Debian's chromium through Playwright) against the whole system: the real
operator and node agent, the demo team of fake agents, and `tmux-orchestrator dashboard` running as a
ServiceAccount with a TokenRequest token. Screenshots of every page go to tmp (or docs/images/ with
DASHBOARD_SCREENSHOTS=1, which is how the README's pictures are made)."""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from support.browser import chromium
from support.dashboard import (
    ACTION_RULES,
    SCREEN_RULE,
    VIEWER_RULES,
    delete_test_roles,
    service_account_with_rules,
    start_dashboard,
    token_kubeconfig,
)
from support.e2e import REPO, System, demo_team, events, wait_team_ready
from support.kube import Kubectl, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(240)]
DEMO_AGENTS = ["demo-dev-0", "demo-dev-1", "demo-pm-0", "demo-qa-0"]
LIVE_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1360, "height": 860})
    yield context.new_page()
    context.close()


@pytest.fixture
def roles(kubectl: Kubectl, namespace: str) -> Iterator[None]:
    yield
    delete_test_roles(kubectl, namespace)


def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    folder = REPO / "docs" / "images" if os.environ.get("DASHBOARD_SCREENSHOTS") else tmp_path
    page.screenshot(path=str(folder / f"dashboard-{name}.png"), full_page=True)


def test_pages_follow_the_fleet_live_and_show_screens_and_timelines(
    system: System, kubectl: Kubectl, roles: None, page: Page, tmp_path: Path
) -> None:
    kube = system.kube
    kube.apply(demo_team(system.pool))
    wait_team_ready(kube, "demo", timeout=120)
    token = service_account_with_rules(
        kubectl, system.namespace, "dashboard", [*VIEWER_RULES, SCREEN_RULE, *ACTION_RULES]
    )
    config = token_kubeconfig(kubectl, token, tmp_path / "dashboard.kubeconfig")
    dashboard, url = start_dashboard(config, tmp_path, "--namespace", system.namespace, "--actions")
    try:
        # Fleet: the demo team with READY, phase, its rollout bar and its node.
        page.goto(f"{url}/")
        team_row = page.locator('tr.team[data-team="demo"]')
        expect(team_row.locator(".ready")).to_have_text("4/4", timeout=LIVE_TIMEOUT_MS)
        expect(team_row).to_contain_text("Running")
        expect(team_row).to_contain_text(system.nodes[0].name)
        expect(team_row.locator(".progress")).to_have_attribute("aria-valuenow", "100")
        screenshot(page, "fleet", tmp_path)

        # Team: kill an agent; the open page turns it Crashed and back to Running without a reload.
        page.goto(f"{url}/teams/{system.namespace}/demo")
        phase = page.locator('tr.agent[data-agent="demo-dev-0"] .phase')
        expect(phase).to_have_text("Running", timeout=LIVE_TIMEOUT_MS)
        page.evaluate("window.notReloaded = true")
        pid = kube.get("agent", "demo-dev-0")["status"]["pid"]
        os.kill(pid, signal.SIGKILL)
        expect(phase).to_have_text("Crashed", timeout=LIVE_TIMEOUT_MS)
        expect(phase).to_have_text("Running", timeout=LIVE_TIMEOUT_MS)
        expect(page.locator('tr.agent[data-agent="demo-dev-0"] .restarts')).to_have_text("1")
        assert page.evaluate("window.notReloaded") is True

        # Send (the dashboard runs with --actions): the text arrives as an AgentMessage exactly as typed,
        # shows as the PM's last message, and the action is audited as an Event.
        text = 'Status report, please: what\'s left? "quotes" & <tags> stay as typed'
        page.locator("form.send select").select_option("pm")
        page.locator("form.send textarea").fill(text)
        page.locator("form.send button").click()
        expect(page.locator(".action-result")).to_contain_text("created")
        # The demo team's own messages (the PM's tasks, the reports) name their sender; a person's do not.
        messages = wait_for(
            lambda: [m for m in kube.get_all("agentmessages") if not m["spec"].get("from")],
            message="the AgentMessage sent",
        )
        assert [m["spec"]["text"] for m in messages] == [text]
        expect(page.locator('tr.agent[data-agent="demo-pm-0"]')).to_contain_text(text[:60])
        audit = wait_for(lambda: events(kube, "DashboardSend"), message="the Event auditing the send")
        assert audit[0]["regarding"]["name"] == "demo" and messages[0]["metadata"]["name"] in audit[0]["note"]
        screenshot(page, "team", tmp_path)

        # Agent: its current screen, fetched through the node agent, shows what the fake agent printed;
        # the crash is in its restart history.
        page.goto(f"{url}/agents/{system.namespace}/demo-dev-0")
        expect(page.locator("#screen")).to_contain_text("Welcome to Developer!", timeout=LIVE_TIMEOUT_MS)
        expect(page.locator("#live .facts")).to_contain_text("Running")
        expect(page.locator("table.restarts tbody tr")).to_have_count(1)
        screenshot(page, "agent", tmp_path)

        # Timeline: bands for every agent, and the crash of demo-dev-0 among them.
        page.goto(f"{url}/timeline/{system.namespace}/demo?minutes=1")
        for agent in DEMO_AGENTS:
            expect(page.locator(f'.track[data-agent="{agent}"] .band').first).to_be_visible()
        expect(page.locator('.track[data-agent="demo-dev-0"] .band-crashed')).to_have_count(1)
        screenshot(page, "timeline", tmp_path)
    finally:
        dashboard.stop()
        print(f"--- dashboard log ---\n{dashboard.log()[-4000:]}")
    assert "Traceback" not in dashboard.log(), dashboard.log()[-4000:]


def get_screen(endpoint: str, namespace: str, agent: str, token: str | None) -> tuple[int, str]:
    request = urllib.request.Request(f"{endpoint}/namespaces/{namespace}/agents/{agent}/screen")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_screen_endpoint_serves_only_callers_allowed_to_get_agents_screen(
    system: System, kubectl: Kubectl, roles: None
) -> None:
    kube = system.kube
    kube.apply(demo_team(system.pool))
    wait_team_ready(kube, "demo", timeout=120)
    node = kubectl.get("tmuxnode", system.nodes[0].name)
    endpoint = node["status"]["screenEndpoint"]
    allowed = service_account_with_rules(kubectl, system.namespace, "screen-reader", [SCREEN_RULE])
    denied = service_account_with_rules(kubectl, system.namespace, "no-screens", VIEWER_RULES)

    assert get_screen(endpoint, system.namespace, "demo-pm-0", None)[0] == 401
    assert get_screen(endpoint, system.namespace, "demo-pm-0", "not-a-token")[0] == 401
    assert get_screen(endpoint, system.namespace, "demo-pm-0", denied)[0] == 403
    _, body = wait_for(
        lambda: (r := get_screen(endpoint, system.namespace, "demo-pm-0", allowed))[0] == 200 and r,
        message="the screen served to a caller with get agents/screen",
    )
    screen = json.loads(body)
    assert any("Welcome to PM!" in line for line in screen["lines"]), screen
    assert screen["pane"] == kube.get("agent", "demo-pm-0")["status"]["paneId"]
    # The permission is for agents/screen of any name: another agent of the team is served too, one
    # that does not exist is not found.
    assert get_screen(endpoint, system.namespace, "demo-qa-0", allowed)[0] == 200
    assert get_screen(endpoint, system.namespace, "demo-nobody-0", allowed)[0] == 404


def test_dashboard_without_actions_is_read_only(
    system: System, kubectl: Kubectl, roles: None, page: Page, tmp_path: Path
) -> None:
    kube = system.kube
    kube.apply(demo_team(system.pool))
    token = service_account_with_rules(kubectl, system.namespace, "viewer", VIEWER_RULES)
    config = token_kubeconfig(kubectl, token, tmp_path / "viewer.kubeconfig")
    dashboard, url = start_dashboard(config, tmp_path, "--namespace", system.namespace)
    try:
        page.goto(f"{url}/teams/{system.namespace}/demo")
        expect(page.locator('tr.agent[data-agent="demo-pm-0"]')).to_be_visible(timeout=LIVE_TIMEOUT_MS)
        assert page.locator("button[data-action], form.send").count() == 0
        reply = page.request.post(
            f"{url}/api/namespaces/{system.namespace}/teams/demo/actions/restart", data={"x": 1}
        )
        assert reply.status == 403 and "read-only" in reply.json()["error"]
        # Without get on agents/screen the node agent refuses the dashboard, and the page says so.
        page.goto(f"{url}/agents/{system.namespace}/demo-pm-0")
        expect(page.locator("#screen-status")).to_contain_text("forbidden", timeout=LIVE_TIMEOUT_MS)
    finally:
        dashboard.stop()
        print(f"--- dashboard log ---\n{dashboard.log()[-4000:]}")
    team = kube.get("agentteam", "demo")
    assert "orchestrator.tmux.dev/restartedAt" not in (team["metadata"].get("annotations") or {})
