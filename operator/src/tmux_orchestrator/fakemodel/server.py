"""The HTTP side of the fake model: a small asyncio HTTP/1.1 server on loopback.

Routes: POST /v1/messages and /v1/messages/count_tokens (Anthropic), POST /v1/responses (OpenAI
Responses), POST /v1/chat/completions (OpenAI Chat), GET /v1/models; for tests, GET /_fake/received (every
request so far, JSON) and POST /_fake/script (replace the script; the body is the script's YAML or JSON).
A path prefix before /v1 is ignored, so any base URL ending in /v1 or not works.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from . import anthropic, openai_chat, openai_responses
from .recording import Recording
from .script import Reply, ReplyKind, Script, ScriptError, ScriptState, choose_reply, parse_script
from .wire import Answer, Prompt, json_answer

LOOPBACK = "127.0.0.1"
_MAX_BODY = 64 * 1024 * 1024
# A CLI's own side requests (titles, summaries) get a quick answer whatever the script says.
SIDE_REPLY = Reply(ReplyKind.TEXT, "Fake session")

Api = tuple[Callable[[dict[str, Any]], Prompt], Callable[[Reply, Prompt], Answer]]
_APIS: dict[str, Api] = {
    "/v1/messages": (anthropic.read_prompt, anthropic.answer),
    "/v1/responses": (openai_responses.read_prompt, openai_responses.answer),
    "/v1/chat/completions": (openai_chat.read_prompt, openai_chat.answer),
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeModel:
    """The server's state: the script, how often rules fired, and what was received."""

    def __init__(
        self,
        script: Script,
        recording: Recording,
        log: Callable[[str], None] | None = None,
        dump_dir: Path | None = None,
    ) -> None:
        self.script = script
        self.dump_dir = dump_dir
        self.state = ScriptState()
        self.recording = recording
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))

    def route(self, request: Request) -> Answer:
        path = _api_path(request.path)
        if request.method == "GET" and path == "/_fake/received":
            return json_answer(200, [item.to_json() for item in self.recording.items])
        if request.method == "POST" and path == "/_fake/script":
            try:
                self.script = parse_script(request.body.decode())
            except (ScriptError, UnicodeDecodeError) as error:
                return json_answer(400, {"error": str(error)})
            self.state = ScriptState()
            return json_answer(200, {"rules": len(self.script.rules)})
        if request.method == "GET" and path == "/v1/models":
            return json_answer(200, {"object": "list", "data": [], "models": []})
        if request.method != "POST":
            return json_answer(404, {"error": f"no route for {request.method} {request.path}"})
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return json_answer(400, {"error": "the body is not JSON"})
        if not isinstance(body, dict):
            return json_answer(400, {"error": "the body is not a JSON object"})
        if path == "/v1/messages/count_tokens":
            return anthropic.count_tokens(body)
        api = _APIS.get(path)
        if api is None:
            self.log(f"fake-model: no route for POST {request.path}")
            return json_answer(404, {"error": f"no route for POST {request.path}"})
        read_prompt, answer = api
        if self.dump_dir is not None:
            number = len(self.recording.items) + 1
            (self.dump_dir / f"{number:04d}.json").write_text(json.dumps(body, indent=1, ensure_ascii=False))
        prompt = read_prompt(body)
        if prompt.side:
            reply = SIDE_REPLY
        else:
            reply = choose_reply(self.script, self.state, prompt.text, prompt.after_tool)
        label = f"error {reply.status}" if reply.kind is ReplyKind.ERROR else reply.kind.value
        label = f"side {label}" if prompt.side else label
        self.recording.add(prompt, request.path, label)
        self.log(f"fake-model: {prompt.api} {prompt.model} -> {label}: {prompt.text[:80]!r}")
        return answer(reply, prompt)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                response = self.route(request)
                keep_alive = await _write_answer(writer, response)
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()


def _api_path(path: str) -> str:
    """`/any/prefix/v1/messages?beta=true` → `/v1/messages`."""
    path = path.split("?", 1)[0].rstrip("/")
    index = path.find("/v1/")
    return path[index:] if index >= 0 else path


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        length = int(headers.get("content-length", "0"))
        if length > _MAX_BODY:
            raise ValueError("body too large")
        body = await reader.readexactly(length)
    return Request(method, path, headers, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def _write_answer(writer: asyncio.StreamWriter, answer: Answer) -> bool:
    """Write one response; a stream ends the connection (no length is known up front)."""
    reason = HTTPStatus(answer.status).phrase if answer.status in HTTPStatus._value2member_map_ else "Status"
    head = [f"HTTP/1.1 {answer.status} {reason}", *(f"{k}: {v}" for k, v in answer.headers)]
    if answer.streaming:
        head.append("Connection: close")
    else:
        head.append(f"Content-Length: {len(answer.body)}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    if not answer.streaming:
        writer.write(answer.body)
        await writer.drain()
        return True
    for chunk in answer.chunks:
        if chunk.delay:
            await asyncio.sleep(chunk.delay)
        writer.write(chunk.data)
        await writer.drain()
    return False


async def serve(model: FakeModel, port: int, ready: Callable[[int], None] | None = None) -> None:
    server = await asyncio.start_server(model.handle, LOOPBACK, port)
    bound = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready(bound)
    async with server:
        await server.serve_forever()


def run_server(
    script: Script,
    port: int,
    record: Path | None,
    port_file: Path | None = None,
    dump_dir: Path | None = None,
) -> None:
    """Serve until interrupted; prints the base URL (and writes the port to `port_file`) once listening."""
    model = FakeModel(script, Recording(record), dump_dir=dump_dir)

    def ready(bound: int) -> None:
        if port_file is not None:
            port_file.write_text(f"{bound}\n")
        print(f"http://{LOOPBACK}:{bound}", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(model, port, ready))


__all__ = ["FakeModel", "Reply", "ReplyKind", "Request", "run_server", "serve"]
