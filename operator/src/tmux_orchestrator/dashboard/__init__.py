"""The web dashboard: the fleet, each team, each agent's screen and a timeline, live in the browser.

fleet     one set of list+watch streams into caches, and the activity history (edge)
timeline  activity samples into bands (pure)
views     HTML of every page and live region (pure)
actions   what the write actions send, and their audit notes (pure)
app       the Starlette app: pages, Server-Sent Events, the screen proxy, actions (edge)
server    runs it all inside the operator or `tmux-orchestrator dashboard` (edge)
"""

from __future__ import annotations

from .app import DashboardOptions
from .server import run_dashboard, start_dashboard

__all__ = ["DashboardOptions", "run_dashboard", "start_dashboard"]
