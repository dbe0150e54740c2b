"""How the team's answers read, for people and agents alike: `team` output and MCP tool results (pure)."""

from __future__ import annotations

import datetime
import re
import textwrap
from typing import Any

from .core.clock import format_time

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """`90`, `5s`, `10m`, `1h30m`, `2d` → seconds; ValueError otherwise."""
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        raise ValueError("empty duration")
    total, position = 0.0, 0
    for match in _DURATION.finditer(compact):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(compact) or total <= 0:
        raise ValueError(f"not a duration: {text!r} (examples: 90, 5s, 10m, 1h30m)")
    return total


def in_the_future(now: datetime.datetime, seconds: float) -> str:
    """spec.deliverAfter for a check-in `seconds` from now (whole seconds: RFC 3339 without fractions)."""
    moment = now + datetime.timedelta(seconds=seconds)
    if moment.microsecond:  # rounded up: a check-in never arrives before it was asked for
        moment += datetime.timedelta(microseconds=1_000_000 - moment.microsecond)
    return format_time(moment)


def render_sent(result: dict[str, Any]) -> str:
    when = f" (delivered after {result['deliverAfter']})" if result.get("deliverAfter") else ""
    return "\n".join(f"sent to {item['to']}: agentmessage/{item['message']}{when}" for item in result["sent"])


def render_report(state: str, result: dict[str, Any]) -> str:
    told = result.get("told")
    return f"reported {state}" + (f"; told {told['to']} ({told['message']})" if told else "")


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]
    ]
    return "\n".join(lines)


def _one_line(text: str | None, width: int = 60) -> str:
    return textwrap.shorten(text, width, placeholder="…") if text and text.strip() else "-"


def render_status(result: dict[str, Any]) -> str:
    rows = []
    for agent in result["agents"]:
        report = agent.get("report") or {}
        last = agent.get("lastMessage") or {}
        rows.append(
            [
                agent["agent"] + (" (you)" if agent.get("you") else ""),
                agent["role"],
                agent.get("phase") or "-",
                (agent.get("activity") or "-")
                + (f" ({agent['activitySource'].lower()})" if agent.get("activitySource") else ""),
                agent.get("since") or "-",
                (report.get("state", "-") + (f": {report['note']}" if report.get("note") else "")),
                f"{last['from']}: {last['text']} [{last['phase']}]" if last else "-",
                agent.get("branch") or "-",
                _one_line(agent.get("lastAssistantMessage")),
            ]
        )
    header = [
        "AGENT",
        "ROLE",
        "PHASE",
        "ACTIVITY",
        "SINCE",
        "REPORT",
        "LAST MESSAGE",
        "BRANCH",
        "LAST ANSWER",
    ]
    return f"team {result['team']}\n" + _table(header, rows)


def render_inbox(result: dict[str, Any]) -> str:
    if not result["messages"]:
        return "no messages"
    rows = [
        [
            m["created"],
            m["from"] if m["direction"] == "in" else f"→ {m['to']}",
            m["phase"]
            + (f" (after {m['deliverAfter']})" if m.get("deliverAfter") and m["phase"] == "Pending" else ""),
            " ".join(m["text"].split()),
        ]
        for m in result["messages"]
    ]
    return _table(["TIME", "FROM/TO", "PHASE", "TEXT"], rows)
