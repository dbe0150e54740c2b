"""The fake model server as a real process (`tmux-orchestrator fake-model`) for tests, and a small client."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.processes import BIN
from tmux_orchestrator.realagents.install import AgentBinaries
from tmux_orchestrator.realagents.team import real_cli_member


@dataclass
class FakeModelServer:
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def received(self, *, side: bool = False) -> list[dict[str, Any]]:
        """Requests received so far (the CLIs' own side requests, such as titles, left out unless asked)."""
        items: list[dict[str, Any]] = get_json(f"{self.url}/_fake/received")
        return [item for item in items if side or not item["side"]]

    def set_script(self, script: str) -> None:
        post(f"{self.url}/_fake/script", script.encode())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_fake_model(directory: Path, script: str, *extra: str) -> FakeModelServer:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "script.yaml").write_text(script)
    port_file = directory / "port"
    log_path = directory / "fake-model.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                str(BIN / "tmux-orchestrator"),
                "fake-model",
                *("--script", str(directory / "script.yaml"), "--port-file", str(port_file)),
                *extra,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while not (port_file.exists() and port_file.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"fake model did not start: {log_path.read_text(errors='replace')}")
        time.sleep(0.05)
    return FakeModelServer(process, f"http://127.0.0.1:{int(port_file.read_text())}", log_path)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, body, headers or {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def sse_data(body: bytes) -> list[Any]:
    """The `data:` payloads of a server-sent event stream, parsed as JSON where they are JSON."""
    events = []
    for line in body.decode().splitlines():
        if line.startswith("data: "):
            data = line[len("data: ") :]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def real_cli_members(
    clis: Iterable[str], binaries: AgentBinaries, model: FakeModelServer, root: Path
) -> list[dict[str, Any]]:
    """A developer member per real CLI, each in its own git project and prepared HOME, using `model`."""
    return [
        real_cli_member(
            cli,
            name=cli.removesuffix("-code"),
            role="developer",
            binaries=binaries,
            root=root,
            base_url=model.url,
        )
        for cli in clis
    ]
