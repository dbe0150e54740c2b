"""The fake model server, over real HTTP on loopback: what each API answers for each kind of script rule,
and that every prompt it receives is recorded exactly."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.fakemodel import FakeModelServer, get_json, post, sse_data, start_fake_model
from support.processes import BIN

SCRIPT = """\
rules:
  - when: "slow"
    text: "one two three four five six"
    seconds: 2
  - when: "run it"
    tool: {command: "touch approved.txt"}
  - when: "write it"
    tool: {path: "notes.txt", content: "hello"}
  - when: "ask me"
    tool: {question: "Which database?", options: [Postgres, SQLite]}
  - when: "tell dev"
    tool: {server: team, name: send_message, input: {target: dev-0, text: "build is green"}}
  - when: "limit"
    status: 429
  - when: "broken"
    status: 500
  - when: "twice"
    status: 529
    times: 2
default: {text: "OK, done."}
"""


@pytest.fixture
def model(tmp_path: Path) -> Iterator[FakeModelServer]:
    server = start_fake_model(tmp_path, SCRIPT, "--record", str(tmp_path / "received.jsonl"))
    yield server
    server.stop()


def anthropic(model: FakeModelServer, text: str, *, tools: tuple[str, ...] = ("Bash",)) -> tuple[int, bytes]:
    body = {
        "model": "claude-test",
        "stream": True,
        "max_tokens": 100,
        "tools": [{"name": name, "input_schema": {"type": "object"}} for name in tools],
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "<system-reminder>x"}, {"type": "text", "text": text}],
            }
        ],
    }
    return post(f"{model.url}/v1/messages?beta=true", json.dumps(body).encode())


def anthropic_text(body: bytes) -> str:
    return "".join(
        e["delta"]["text"]
        for e in sse_data(body)
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta"
    )


def test_anthropic_messages_stream_a_quick_answer(model: FakeModelServer) -> None:
    status, body = anthropic(model, "hello")
    events = sse_data(body)
    assert status == 200
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    assert anthropic_text(body) == "OK, done."
    assert [e["delta"]["stop_reason"] for e in events if e["type"] == "message_delta"] == ["end_turn"]


def test_a_slow_stream_is_spread_over_its_seconds(model: FakeModelServer) -> None:
    started = time.monotonic()
    status, body = anthropic(model, "go slow")
    assert status == 200 and anthropic_text(body) == "one two three four five six"
    assert time.monotonic() - started >= 1.5  # a lower bound only: a busy machine can only make it slower


def anthropic_tool_use(body: bytes) -> tuple[str, dict[str, object]]:
    """The one tool_use of an Anthropic stream: the tool's name and its arguments."""
    (start,) = [
        e
        for e in sse_data(body)
        if e["type"] == "content_block_start" and e["content_block"]["type"] == "tool_use"
    ]
    arguments = "".join(
        e["delta"]["partial_json"]
        for e in sse_data(body)
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    )
    return start["content_block"]["name"], json.loads(arguments)


def test_anthropic_tool_calls_are_bash_or_write_as_offered(model: FakeModelServer) -> None:
    _, body = anthropic(model, "please run it")
    name, arguments = anthropic_tool_use(body)
    assert (name, arguments["command"]) == ("Bash", "touch approved.txt")
    assert [e["delta"]["stop_reason"] for e in sse_data(body) if e["type"] == "message_delta"] == ["tool_use"]
    _, body = anthropic(model, "now write it", tools=("Bash", "Write"))
    assert anthropic_tool_use(body)[0] == "Write"


def test_an_mcp_tool_is_called_as_claude_code_names_it(model: FakeModelServer) -> None:
    _, body = anthropic(model, "tell dev-0", tools=("Bash", "ToolSearch"))  # MCP tools are deferred
    assert anthropic_tool_use(body) == (
        "mcp__team__send_message",
        {"target": "dev-0", "text": "build is green"},
    )


def test_an_mcp_tool_is_called_in_its_namespace_as_codex_names_it(model: FakeModelServer) -> None:
    body = {
        "model": "gpt-test",
        "stream": True,
        "tools": [{"type": "namespace", "name": "mcp__team", "tools": [{"name": "send_message"}]}],
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "tell dev"}]}
        ],
    }
    _, answer = post(f"{model.url}/v1/responses", json.dumps(body).encode())
    (call,) = [e["item"] for e in sse_data(answer) if e["type"] == "response.output_item.done"]
    assert (call["type"], call["namespace"], call["name"]) == ("function_call", "mcp__team", "send_message")
    assert json.loads(call["arguments"]) == {"target": "dev-0", "text": "build is green"}


def test_a_tool_result_gets_the_after_tool_answer_not_the_tool_again(model: FakeModelServer) -> None:
    body = {
        "model": "m",
        "stream": True,
        "tools": [{"name": "Bash"}],
        "messages": [
            {"role": "user", "content": "please run it"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]},
        ],
    }
    _, answer = post(f"{model.url}/v1/messages", json.dumps(body).encode())
    assert anthropic_text(answer) == "Done."


@pytest.mark.parametrize(
    ("text", "status", "kind"), [("limit", 429, "rate_limit_error"), ("broken", 500, "api_error")]
)
def test_error_statuses_on_every_try(model: FakeModelServer, text: str, status: int, kind: str) -> None:
    for _ in range(3):
        code, body = anthropic(model, text)
        assert (code, json.loads(body)["error"]["type"]) == (status, kind)


def test_times_limits_a_rule_to_its_first_matches(model: FakeModelServer) -> None:
    codes = [anthropic(model, "twice")[0] for _ in range(3)]
    assert codes == [529, 529, 200]


def test_openai_responses_text_and_shell_call(model: FakeModelServer) -> None:
    def ask(items: list[dict[str, object]]) -> list[dict[str, object]]:
        body = {
            "model": "gpt-test",
            "stream": True,
            "tools": [{"type": "function", "name": "exec_command"}],
            "input": items,
        }
        status, answer = post(f"{model.url}/v1/responses", json.dumps(body).encode())
        assert status == 200
        return sse_data(answer)

    user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}
    events = ask([user])
    assert events[-1]["type"] == "response.completed"
    assert (
        "".join(str(e["delta"]) for e in events if e["type"] == "response.output_text.delta") == "OK, done."
    )
    run = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "run it"}]}
    (call,) = [e["item"] for e in ask([run]) if e["type"] == "response.output_item.done"]
    assert isinstance(call, dict) and call["name"] == "exec_command"
    assert json.loads(str(call["arguments"]))["cmd"] == "touch approved.txt"
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "done"}
    events = ask([run, call, output])
    assert "".join(str(e["delta"]) for e in events if e["type"] == "response.output_text.delta") == "Done."


def test_chat_completions_stream_and_shell_block(model: FakeModelServer) -> None:
    def ask(text: str) -> str:
        body = {
            "model": "fake",
            "stream": True,
            "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": text}],
        }
        status, answer = post(f"{model.url}/v1/chat/completions", json.dumps(body).encode())
        events = sse_data(answer)
        assert status == 200 and events[-1] == "[DONE]"
        return "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1])

    assert ask("hello") == "OK, done."
    assert "```bash\ntouch approved.txt\n```" in ask("run it")
    code, body = post(
        f"{model.url}/v1/chat/completions",
        json.dumps({"model": "f", "messages": [{"role": "user", "content": "limit"}]}).encode(),
    )
    assert code == 429 and json.loads(body)["error"]["code"] == "rate_limit_exceeded"


def test_every_prompt_is_recorded_exactly(model: FakeModelServer, tmp_path: Path) -> None:
    text = 'say "hi" $(whoami) `id` #{pane} — ünïcödé\nsecond line'
    anthropic(model, text)
    anthropic(model, "title please", tools=())  # a request without tools: the CLI's own side request
    received = model.received()
    assert [(r["api"], r["text"], r["side"]) for r in received] == [("anthropic-messages", text, False)]
    assert [r["text"] for r in model.received(side=True)] == [text, "title please"]
    lines = [json.loads(line) for line in (tmp_path / "received.jsonl").read_text().splitlines()]
    assert [line["text"] for line in lines] == [text, "title please"]


def test_the_script_can_be_replaced_and_a_bad_one_is_refused(model: FakeModelServer) -> None:
    code, body = post(f"{model.url}/_fake/script", b"rules: [{when: ''}]")
    assert code == 400 and b"when" in body
    assert anthropic(model, "limit")[0] == 429  # the old script still answers
    model.set_script("rules: []\ndefault: {text: changed}\n")
    assert anthropic_text(anthropic(model, "limit")[1]) == "changed"


@pytest.mark.parametrize(
    ("script", "error"),
    [
        ("rules:\n  - when: x\n    status: 700\n", "rules[0]: `status` must be an HTTP error status"),
        (
            "rules:\n  - when: x\n    tool: {question: Which one}\n",
            "rules[0]: a `question` needs a list of at least",
        ),
        ("rules: [{text: no when}]\n", "rules[0]: needs `when`"),
        (
            "rules:\n  - when: x\n    tool: {name: send_message, input: [dev-0]}\n",
            "rules[0]: a named tool's `input` is a mapping of its arguments",
        ),
        ("nonsense: 1\n", "unknown keys ['nonsense']"),
    ],
)
def test_a_bad_script_file_is_a_clear_error(tmp_path: Path, script: str, error: str) -> None:
    (tmp_path / "bad.yaml").write_text(script)
    result = subprocess.run(
        [str(BIN / "tmux-orchestrator"), "fake-model", "--script", str(tmp_path / "bad.yaml")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert error in result.stderr


def test_unknown_routes_answer_404_and_the_server_keeps_serving(model: FakeModelServer) -> None:
    code, _ = post(f"{model.url}/v1/unknown", b"{}")
    assert code == 404
    code, _ = post(f"{model.url}/v1/messages", b"not json")
    assert code == 400
    assert get_json(f"{model.url}/v1/models")["object"] == "list"
