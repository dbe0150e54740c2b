"""The dashboard's HTML, rendered on the server from plain objects (pure; `now` is epoch seconds).

Each page is a static frame (`page`) around a live region: the region's HTML comes from one of the
`*_live` functions, and the server pushes a fresh rendering of it over Server-Sent Events whenever the
watched objects change (dashboard.app). Text from objects is always escaped.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from tmux_orchestrator.api.constants import LABEL_MEMBER, LABEL_ROLE

from .timeline import WINDOW_SECONDS, Band, BandState

KubeObject = Mapping[str, Any]
BAND_LABELS = {
    BandState.BUSY: "busy",
    BandState.IDLE: "idle",
    BandState.WAITING: "waiting for input",
    BandState.RATE_LIMITED: "rate-limited",
    BandState.CRASHED: "crashed",
    BandState.OTHER: "starting / unknown",
}
ACTIONS = ("promote", "abort", "restart")


def e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _seg(value: str) -> str:
    return quote(value, safe="")


def team_url(namespace: str, name: str) -> str:
    return f"/teams/{_seg(namespace)}/{_seg(name)}"


def agent_url(namespace: str, name: str) -> str:
    return f"/agents/{_seg(namespace)}/{_seg(name)}"


def timeline_url(namespace: str, name: str) -> str:
    return f"/timeline/{_seg(namespace)}/{_seg(name)}"


def _meta(obj: KubeObject) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _status(obj: KubeObject | None) -> Mapping[str, Any]:
    return (obj or {}).get("status") or {}


def _epoch(text: object) -> float | None:
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def age(text: object, now: float) -> str:
    """`12s`, `5m`, `3h`, `2d` since an RFC 3339 time (empty when unknown)."""
    moment = _epoch(text)
    if moment is None:
        return ""
    seconds = max(0, int(now - moment))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def badge(value: object, kind: str = "phase") -> str:
    text = str(value or "—")
    return f'<span class="badge {kind}-{e(text.lower())}">{e(text)}</span>'


def page(title: str, body: str, *, crumbs: Sequence[tuple[str, str]] = (), live: str | None = None) -> str:
    """A whole page: `body` inside the frame; `live` is the Server-Sent Events URL of its live region."""
    trail = " / ".join(f'<a href="{e(href)}">{e(text)}</a>' for text, href in crumbs)
    live_attribute = f' data-live="{e(live)}"' if live else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · tmux-orchestrator</title>
<link rel="stylesheet" href="/static/dashboard.css"><script src="/static/dashboard.js" defer></script></head>
<body{live_attribute}><header><a class="brand" href="/">tmux-orchestrator</a><nav>{trail}</nav>
<span id="connection" class="connection" title="live updates">connecting…</span></header>
<main>{body}</main></body></html>
"""


def live_region(html: str) -> str:
    return f'<div id="live">{html}</div>'


def progress(done: int, total: int, label: str) -> str:
    percent = 0 if total <= 0 else round(100 * min(done, total) / total)
    return (
        f'<div class="progress" role="progressbar" aria-valuenow="{percent}" aria-valuemin="0" '
        f'aria-valuemax="100" title="{e(label)}"><div class="bar" style="width:{percent}%"></div>'
        f"<span>{e(label)}</span></div>"
    )


def rollout_progress(team: KubeObject) -> str:
    """Agents on the current template revision out of all, with the rollout stage."""
    status = _status(team)
    replicas = int(status.get("replicas") or 0)
    updated = int(status.get("updatedReplicas") or 0)
    rollout = status.get("rollout") or {}
    stage = rollout.get("stage")
    label = f"{updated}/{replicas} updated" + (f" · {stage} {rollout.get('weight', '')}%" if stage else "")
    return progress(updated, replicas, label)


def _table(headers: Iterable[str], rows: Iterable[str], empty: str, css: str = "") -> str:
    body = "".join(rows)
    if not body:
        return f'<p class="empty">{e(empty)}</p>'
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# -- fleet ---------------------------------------------------------------------------------------------------


def fleet_live(teams: Sequence[KubeObject], nodes: Sequence[KubeObject], now: float) -> str:
    team_rows = []
    for team in sorted(teams, key=lambda t: (_meta(t).get("namespace", ""), _meta(t).get("name", ""))):
        meta, status = _meta(team), _status(team)
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        team_rows.append(
            f'<tr class="team" data-team="{e(name)}"><td>{e(namespace)}</td>'
            f'<td><a href="{e(team_url(namespace, name))}">{e(name)}</a></td>'
            f'<td class="ready">{e(status.get("ready") or "0/0")}</td><td>{badge(status.get("phase"))}</td>'
            f"<td>{rollout_progress(team)}</td><td>{e(status.get('node') or '')}</td>"
            f"<td>{e(age(meta.get('creationTimestamp'), now))}</td>"
            f'<td><a href="{e(timeline_url(namespace, name))}">timeline</a></td></tr>'
        )
    node_rows = []
    for node in sorted(nodes, key=lambda n: str(_meta(n).get("name"))):
        meta, status = _meta(node), _status(node)
        conditions: list[Mapping[str, Any]] = list(status.get("conditions") or [])
        ready: Mapping[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
        capacity = (node.get("spec") or {}).get("capacity")
        node_rows.append(
            f"<tr><td>{e(meta.get('name'))}</td><td>{badge(ready.get('status') or 'Unknown', 'ready')}</td>"
            f"<td>{e(status.get('agents') or 0)}/{e(capacity if capacity is not None else '∞')}</td>"
            f"<td>{e(status.get('hostname') or '')}</td><td>{e(status.get('tmuxVersion') or '')}</td>"
            f"<td>{'yes' if status.get('screenEndpoint') else 'no'}</td></tr>"
        )
    return (
        "<h2>Teams</h2>"
        + _table(
            ("Namespace", "Team", "Ready", "Phase", "Rollout", "Node", "Age", ""),
            team_rows,
            "No AgentTeams yet: kubectl apply -f examples/demo-team.yaml",
            "teams",
        )
        + "<h2>Nodes</h2>"
        + _table(
            ("Node", "Ready", "Agents", "Host", "tmux", "Screens"),
            node_rows,
            "No TmuxNodes registered",
            "nodes",
        )
    )


# -- team ----------------------------------------------------------------------------------------------------


def _report(status: Mapping[str, Any]) -> str:
    report = status.get("report") or {}
    if not report:
        return ""
    note = f" — {report['note']}" if report.get("note") else ""
    return f"{badge(report.get('state'), 'report')}{e(note)}"


def _last_message(message: KubeObject | None, now: float) -> str:
    if message is None:
        return ""
    text = str((message.get("spec") or {}).get("text") or "")
    short = text if len(text) <= 80 else text[:79] + "…"
    when = age(_meta(message).get("creationTimestamp"), now)
    phase = badge(_status(message).get("phase") or "Pending", "message")
    return f'{phase} <span class="text">{e(short)}</span> <small>{e(when)}</small>'


def team_header(team: KubeObject, members: Sequence[str], actions: bool) -> str:
    meta = _meta(team)
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    links = f'<p><a href="{e(timeline_url(namespace, name))}">Activity timeline (last hour)</a></p>'
    if not actions:
        return f"<h1>Team {e(name)} <small>{e(namespace)}</small></h1>{links}"
    buttons = "".join(
        f'<button type="button" data-action="{verb}" data-team="{e(name)}" data-namespace="{e(namespace)}">'
        f"{verb.capitalize()}</button>"
        for verb in ACTIONS
    )
    options = "".join(f'<option value="{e(m)}">{e(m)}</option>' for m in members)
    send = (
        f'<form class="send" data-namespace="{e(namespace)}" data-team="{e(name)}">'
        f'<select name="member">{options}</select><textarea name="text" rows="1" required '
        f'placeholder="Message to type into the member\'s agent"></textarea><button>Send</button></form>'
    )
    return (
        f"<h1>Team {e(name)} <small>{e(namespace)}</small></h1>{links}"
        f'<div class="actions">{buttons}{send}<span class="action-result" role="status"></span></div>'
    )


def team_live(
    team: KubeObject | None,
    agents: Sequence[KubeObject],
    last_messages: Mapping[str, KubeObject],
    now: float,
) -> str:
    if team is None:
        return '<p class="empty">This team does not exist (any more).</p>'
    status = _status(team)
    summary = (
        f'<div class="summary"><span>Ready <b class="ready">{e(status.get("ready") or "0/0")}</b></span>'
        f"<span>Phase {badge(status.get('phase'))}</span>"
        f"<span>Node <b>{e(status.get('node') or '—')}</b></span>"
        f"<span>Revision <code>{e(status.get('currentRevision') or '')}</code></span>"
        f'<span class="grow">{rollout_progress(team)}</span></div>'
    )
    message = (status.get("rollout") or {}).get("message")
    rows = []
    for agent in sorted(agents, key=lambda a: str(_meta(a).get("name"))):
        meta, spec, agent_status = _meta(agent), agent.get("spec") or {}, _status(agent)
        labels = meta.get("labels") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        rows.append(
            f'<tr class="agent" data-agent="{e(name)}">'
            f'<td><a href="{e(agent_url(namespace, name))}">{e(name)}</a></td>'
            f"<td>{e(spec.get('member') or labels.get(LABEL_MEMBER))}</td>"
            f"<td>{e(spec.get('role') or labels.get(LABEL_ROLE))}</td>"
            f'<td class="phase">{badge(agent_status.get("phase") or "Pending")}</td>'
            f'<td class="activity">{badge(agent_status.get("activity") or "Unknown", "activity")}</td>'
            f'<td class="restarts">{e(agent_status.get("restartCount") or 0)}</td>'
            f"<td>{_report(agent_status)}</td><td>{_last_message(last_messages.get(name), now)}</td>"
            f"<td>{e(age(agent_status.get('lastActivityTime'), now))}</td></tr>"
        )
    return (
        summary
        + (f'<p class="message">{e(message)}</p>' if message else "")
        + _table(
            ("Agent", "Member", "Role", "Phase", "Activity", "Restarts", "Report", "Last message", "Active"),
            rows,
            "No agents yet.",
            "agents",
        )
    )


# -- agent ---------------------------------------------------------------------------------------------------


def agent_header(agent: KubeObject | None, namespace: str, name: str) -> str:
    team = str(((agent or {}).get("spec") or {}).get("teamRef", {}).get("name") or "")
    team_link = f' of <a href="{e(team_url(namespace, team))}">{e(team)}</a>' if team else ""
    return (
        f"<h1>Agent {e(name)} <small>{e(namespace)}{team_link}</small></h1>"
        f'<section class="screen"><h2>Screen <small id="screen-status"></small></h2>'
        f'<pre id="screen" data-src="/api/namespaces/{_seg(namespace)}/agents/{_seg(name)}/screen">'
        f"loading…</pre></section>"
    )


def _message_rows(messages: Sequence[KubeObject], now: float, other: str) -> list[str]:
    rows = []
    for message in messages[:50]:
        spec, status = message.get("spec") or {}, _status(message)
        peer = spec.get(other) or spec.get("agent") or spec.get("member") or ""
        if isinstance(peer, dict):
            peer = peer.get("agent") or peer.get("name") or ""
        rows.append(
            f"<tr><td>{e(age(_meta(message).get('creationTimestamp'), now))}</td><td>{e(peer)}</td>"
            f"<td>{badge(status.get('phase') or 'Pending', 'message')}</td>"
            f'<td class="text"><pre>{e(spec.get("text"))}</pre></td></tr>'
        )
    return rows


def _event_rows(events: Sequence[KubeObject], now: float) -> list[str]:
    rows = []
    for event in events[:50]:
        # core/v1 Events as our processes post them (and `kubectl describe` reads them).
        times = int(event.get("count") or 1)
        count = f" (x{times})" if times > 1 else ""
        when = event_time(event)
        rows.append(
            f"<tr><td>{e(age(when, now))}</td><td>{badge(event.get('type'), 'event')}</td>"
            f"<td>{e(event.get('reason'))}{e(count)}</td><td>{e(event.get('message'))}</td></tr>"
        )
    return rows


def event_time(event: KubeObject) -> str:
    """When a core/v1 Event last happened."""
    return str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or (event.get("series") or {}).get("lastObservedTime")
        or _meta(event).get("creationTimestamp")
        or ""
    )


def agent_live(  # noqa: PLR0917 - one list per section of the page
    agent: KubeObject | None,
    messages_in: Sequence[KubeObject],
    messages_out: Sequence[KubeObject],
    events: Sequence[KubeObject],
    crashes: Sequence[Band],
    now: float,
) -> str:
    if agent is None:
        return '<p class="empty">This agent does not exist (any more).</p>'
    status, spec = _status(agent), agent.get("spec") or {}
    facts = [
        ("Phase", badge(status.get("phase") or "Pending")),
        ("Activity", badge(status.get("activity") or "Unknown", "activity")),
        ("Ready", e(status.get("ready", False))),
        ("Restarts", f'<span class="restarts">{e(status.get("restartCount") or 0)}</span>'),
        ("Last exit code", e(status.get("lastExitCode", "—"))),
        ("Node", e(spec.get("nodeName") or "—")),
        ("Pane / pid", f"{e(status.get('paneId') or '—')} / {e(status.get('pid') or '—')}"),
        ("Revision", f"<code>{e(status.get('revision') or spec.get('revision') or '')}</code>"),
        ("Started", e(age(status.get("startedAt"), now) + " ago" if status.get("startedAt") else "—")),
        ("Report", _report(status) or "—"),
    ]
    summary = "".join(f"<div><dt>{label}</dt><dd>{value}</dd></div>" for label, value in facts)
    crash_reason = status.get("lastCrashReason")
    restart_rows = [
        f"<tr><td>{e(_clock(band.start))}</td><td>{e(_duration(band.seconds))}</td></tr>"
        for band in reversed(crashes)
    ]
    return (
        f'<dl class="facts">{summary}</dl>'
        + (f'<p class="crash">Last crash: <code>{e(crash_reason)}</code></p>' if crash_reason else "")
        + '<div class="columns"><section><h2>Messages in</h2>'
        + _table(
            ("Age", "From", "Phase", "Text"), _message_rows(messages_in, now, "from"), "None.", "messages"
        )
        + "</section><section><h2>Messages out</h2>"
        + _table(
            ("Age", "To", "Phase", "Text"), _message_rows(messages_out, now, "agent"), "None.", "messages"
        )
        + "</section></div><section><h2>Restart history</h2>"
        + _table(
            ("Crashed at", "Down for"),
            restart_rows,
            "No crash seen since the dashboard started.",
            "restarts",
        )
        + "</section><section><h2>Events</h2>"
        + _table(("Age", "Type", "Reason", "Message"), _event_rows(events, now), "No events.", "events")
        + "</section>"
    )


def _clock(moment: float) -> str:
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).strftime("%H:%M:%S")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.0f}m"


# -- timeline ------------------------------------------------------------------------------------------------

TIMELINE_MINUTES = (1, 5, 15, 60)
"""Zooms of the timeline; the hour is the default and what the server keeps."""


def timeline_minutes(text: str | None) -> int:
    """The zoom asked for in `?minutes=`; anything else is the whole hour."""
    return int(text) if text and text.isdigit() and int(text) in TIMELINE_MINUTES else TIMELINE_MINUTES[-1]


def timeline_header(namespace: str, name: str, minutes: int) -> str:
    zooms = " · ".join(
        f"<b>{m} min</b>"
        if m == minutes
        else f'<a href="{e(timeline_url(namespace, name))}?minutes={m}">{m} min</a>'
        for m in TIMELINE_MINUTES
    )
    return f'<h1>Timeline of {e(name)} <small>last {minutes} minutes</small></h1><p class="zoom">{zooms}</p>'


def timeline_live(
    team: KubeObject | None,
    rows: Sequence[tuple[str, Sequence[Band]]],
    now: float,
    window: float = WINDOW_SECONDS,
) -> str:
    if team is None:
        return '<p class="empty">This team does not exist (any more).</p>'
    namespace = str(_meta(team).get("namespace") or "")
    start = now - window
    lines = []
    for name, bands in rows:
        spans = "".join(
            f'<div class="band band-{band.state.value}" data-state="{band.state.value}" '
            f'style="left:{100 * (band.start - start) / window:.3f}%;'
            f'width:{100 * band.seconds / window:.3f}%" title="{e(BAND_LABELS[band.state])} from '
            f'{_clock(band.start)} for {_duration(band.seconds)}"></div>'
            for band in bands
        )
        lines.append(
            f'<div class="track" data-agent="{e(name)}">'
            f'<a class="label" href="{e(agent_url(namespace, name))}">'
            f'{e(name)}</a><div class="lane">{spans}</div></div>'
        )
    legend = "".join(
        f'<span><i class="band-{state.value}"></i>{e(label)}</span>' for state, label in BAND_LABELS.items()
    )
    step = max(60.0, window / 6)
    ticks = "".join(
        f'<span style="left:{100 * (offset * step) / window:.3f}%">{_clock(start + offset * step)}</span>'
        for offset in range(int(window // step) + 1)
    )
    if not lines:
        return '<p class="empty">No agents.</p>'
    return (
        f'<div class="legend">{legend}</div><div class="timeline">{"".join(lines)}'
        '<div class="track axis"><span class="label"></span>'
        f'<div class="lane ticks">{ticks}</div></div></div>'
        "<p><small>Recorded by this dashboard from the watch stream since it started "
        "(kept one hour).</small></p>"
    )
