"""What the fake model answers to a prompt: rules matched against the newest user message (pure).

A script is YAML (or JSON):

    default: {text: "OK"}                 # when no rule matches
    rules:
      - when: "slow"                      # a substring of the newest user message (case-sensitive)
        text: "Streaming slowly ..."
        seconds: 30                       # spread the answer over this long (a slow stream)
      - when: "run it"
        tool: {command: "touch approved.txt"}   # a shell/Bash tool call the CLI asks the user to approve
      - when: "write it"
        tool: {path: "notes.txt", content: "hello"}  # a file write (Claude Code: Write; others: shell)
      - when: "ask me"
        tool: {question: "Which database?", options: [Postgres, SQLite]}  # a question to the user
      - when: "tell dev"
        tool: {server: team, name: send_message, input: {target: dev-0, text: hi}}  # an MCP server's tool
      - when: "limit"
        status: 429                       # this status on every try (429, 500, 503, 529 ...)
        times: 3                          # optional: only for the first 3 matching requests

A request whose newest user turn is a tool result gets `after_tool` (default "Done.") so a tool call is
never repeated forever.

A tool given by `name` (with `input`, its arguments) is called as such; with `server` it is that MCP server's
tool, named as each CLI names it (found by running them, see docs/operations.md): Claude Code 2.1.332 calls
`mcp__SERVER__NAME`, Codex 0.171.0 calls `NAME` in the namespace `mcp__SERVER`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import yaml

DEFAULT_TEXT = "OK"
DEFAULT_AFTER_TOOL = "Done."


class ReplyKind(StrEnum):
    TEXT = "text"
    TOOL = "tool"
    ERROR = "error"


@dataclass(frozen=True)
class ToolCall:
    """A command to run, a file to write (`path` set), a question with choices (`question` set), or a tool
    called by `name` with `input` (JSON text), an MCP tool when `server` is set."""

    command: str = ""
    path: str = ""
    content: str = ""
    question: str = ""
    options: tuple[str, ...] = ()
    name: str = ""
    server: str = ""
    input: str = "{}"

    @property
    def shell_command(self) -> str:
        """The call as one shell command, for the CLIs whose only tool is a shell."""
        if self.question:
            return f"echo {self.question!r}"
        if self.path:
            quoted = self.content.replace("'", "'\\''")
            return f"printf '%s\\n' '{quoted}' > {self.path}"
        return self.command


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    text: str = ""
    seconds: float = 0.0  # how long the text takes to stream
    status: int = 200
    tool: ToolCall | None = None


@dataclass(frozen=True)
class Rule:
    when: str
    reply: Reply
    times: int | None = None  # None: every time


@dataclass(frozen=True)
class Script:
    rules: tuple[Rule, ...] = ()
    default: Reply = Reply(ReplyKind.TEXT, DEFAULT_TEXT)
    after_tool: Reply = Reply(ReplyKind.TEXT, DEFAULT_AFTER_TOOL)


@dataclass
class ScriptState:
    """How often each rule has answered (for `times`)."""

    used: dict[int, int] = field(default_factory=dict)


class ScriptError(ValueError):
    """The script file is not a valid script; the message says where."""


def parse_script(text: str) -> Script:
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as error:
        raise ScriptError(f"not YAML or JSON: {error}") from None
    if not isinstance(data, Mapping):
        raise ScriptError("a script is a mapping with `rules` and optionally `default`, `after_tool`")
    unknown = set(data) - {"rules", "default", "after_tool"}
    if unknown:
        raise ScriptError(f"unknown keys {sorted(unknown)}; expected rules, default, after_tool")
    rules_data = data.get("rules") or []
    if not isinstance(rules_data, Sequence) or isinstance(rules_data, str):
        raise ScriptError("`rules` must be a list")
    rules = tuple(_rule(item, index) for index, item in enumerate(rules_data))
    script = Script(rules)
    if "default" in data:
        script = Script(rules, _reply(data["default"], "default"), script.after_tool)
    if "after_tool" in data:
        script = Script(rules, script.default, _reply(data["after_tool"], "after_tool"))
    return script


def _rule(item: Any, index: int) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(item, Mapping) or not isinstance(item.get("when"), str) or not item["when"]:
        raise ScriptError(f"{where}: needs `when`, a non-empty substring of the user's message")
    times = item.get("times")
    if times is not None and (not isinstance(times, int) or times < 1):
        raise ScriptError(f"{where}: `times` must be a positive integer")
    rest = {k: v for k, v in item.items() if k not in ("when", "times")}
    return Rule(item["when"], _reply(rest, where), times)


def _reply(item: Any, where: str) -> Reply:
    if not isinstance(item, Mapping):
        raise ScriptError(f"{where}: a reply is a mapping (text/seconds, tool or status)")
    unknown = set(item) - {"text", "seconds", "tool", "status"}
    if unknown:
        raise ScriptError(f"{where}: unknown keys {sorted(unknown)}")
    seconds = item.get("seconds", 0)
    if not isinstance(seconds, int | float) or seconds < 0:
        raise ScriptError(f"{where}: `seconds` must be a non-negative number")
    if "status" in item:
        status = item["status"]
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise ScriptError(f"{where}: `status` must be an HTTP error status (400-599)")
        return Reply(ReplyKind.ERROR, str(item.get("text", "")), status=status)
    if "tool" in item:
        tool = item["tool"]
        if not isinstance(tool, Mapping) or not (
            tool.get("command") or tool.get("path") or tool.get("question") or tool.get("name")
        ):
            needs = "`command`, `path` (with `content`), `question` or `name` (with `input`)"
            raise ScriptError(f"{where}: `tool` needs {needs}")
        if not isinstance(tool.get("input", {}), Mapping):
            raise ScriptError(f"{where}: a named tool's `input` is a mapping of its arguments")
        options = tool.get("options") or []
        if tool.get("question") and (not isinstance(options, list) or len(options) < 2):
            raise ScriptError(f"{where}: a `question` needs a list of at least two `options`")
        call = ToolCall(
            str(tool.get("command", "")),
            str(tool.get("path", "")),
            str(tool.get("content", "")),
            str(tool.get("question", "")),
            tuple(str(option) for option in options),
            str(tool.get("name", "")),
            str(tool.get("server", "")),
            json.dumps(tool.get("input", {})),
        )
        return Reply(ReplyKind.TOOL, str(item.get("text", "")), float(seconds), tool=call)
    return Reply(ReplyKind.TEXT, str(item.get("text", DEFAULT_TEXT)), float(seconds))


def load_script(path: str) -> Script:
    with open(path, encoding="utf-8") as handle:
        return parse_script(handle.read())


def choose_reply(script: Script, state: ScriptState, prompt: str, after_tool: bool) -> Reply:
    """The reply to a request whose newest user message is `prompt` (a tool result if `after_tool`)."""
    if after_tool:
        return script.after_tool
    for index, rule in enumerate(script.rules):
        if rule.when in prompt and (rule.times is None or state.used.get(index, 0) < rule.times):
            state.used[index] = state.used.get(index, 0) + 1
            return rule.reply
    return script.default


def script_to_json(script: Script) -> str:
    """For logs: the script as the server understood it."""
    return json.dumps(
        {"rules": [{"when": r.when, "kind": r.reply.kind.value, "times": r.times} for r in script.rules]}
    )
