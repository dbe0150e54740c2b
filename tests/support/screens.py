"""The real CLIs' captured screens under tests/data/screens/<cli>/<version>, with their manifests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from tmux_orchestrator.api.agent import Activity

SCREENS = Path(__file__).resolve().parents[1] / "data" / "screens"


@dataclass(frozen=True)
class CapturedScreen:
    cli: str  # also the profile's name
    version: str
    file: Path
    activity: Activity  # what a person sees the agent doing on this screen
    scenario: str

    @property
    def id(self) -> str:
        return f"{self.cli}-{self.version}-{self.file.stem}"

    def lines(self) -> tuple[str, ...]:
        return tuple(self.file.read_text(encoding="utf-8").split("\n"))


def captured_screens(root: Path = SCREENS) -> list[CapturedScreen]:
    found = []
    for manifest in sorted(root.glob("*/*/manifest.yaml")):
        cli, version = manifest.parent.parent.name, manifest.parent.name
        for item in yaml.safe_load(manifest.read_text(encoding="utf-8")):
            found.append(
                CapturedScreen(
                    cli, version, manifest.parent / item["file"], Activity(item["activity"]), item["scenario"]
                )
            )
    return found
