"""Detector profiles: plugins that read an agent CLI's screen, found through Python entry points.

A third party registers a profile in its own package metadata:

    [project.entry-points."tmux_orchestrator.profiles"]
    my-agent = "my_package.profile:MY_AGENT"

where the object is a `DetectorProfile`, or a plain screen reader function
`(lines, process_facts) -> ScreenReading` (it then gets the entry point's name). The built-in profiles are
registered the same way by this project and also known without installed metadata, and their names cannot
be taken over by a plugin.
"""

from __future__ import annotations

from dataclasses import replace
from importlib.metadata import EntryPoint, entry_points

from tmux_sidecar.classification import DetectorProfile

from .aider import AIDER
from .claude_code import CLAUDE_CODE
from .codex import CODEX
from .shell import SHELL

ENTRY_POINT_GROUP = "tmux_orchestrator.profiles"
BUILTIN_PROFILES: dict[str, DetectorProfile] = {p.name: p for p in (CLAUDE_CODE, CODEX, AIDER, SHELL)}


class UnknownProfileError(LookupError):
    """No built-in profile or installed plugin has this name."""

    def __init__(self, name: str, available: list[str]) -> None:
        super().__init__(f"unknown detector profile {name!r}; available profiles: {', '.join(available)}")
        self.name = name
        self.available = available


class InvalidProfileError(TypeError):
    """An entry point resolved to something that is not a profile."""


def available_profiles() -> list[str]:
    """Names of every profile that `load_profile` accepts, sorted."""
    return sorted(set(BUILTIN_PROFILES) | {ep.name for ep in _plugin_entry_points()})


def load_profile(name: str) -> DetectorProfile:
    """The profile called `name`; UnknownProfileError (listing the available ones) if there is none."""
    builtin = BUILTIN_PROFILES.get(name)
    if builtin is not None:
        return builtin
    for entry_point in _plugin_entry_points():
        if entry_point.name == name:
            return _as_profile(entry_point)
    raise UnknownProfileError(name, available_profiles())


def _plugin_entry_points() -> list[EntryPoint]:
    return list(entry_points(group=ENTRY_POINT_GROUP))


def _as_profile(entry_point: EntryPoint) -> DetectorProfile:
    loaded = entry_point.load()
    if isinstance(loaded, DetectorProfile):
        return replace(loaded, name=entry_point.name)
    if callable(loaded):
        return DetectorProfile(entry_point.name, loaded, getattr(loaded, "__doc__", None) or "")
    raise InvalidProfileError(
        f"entry point {entry_point.name!r} ({entry_point.value}) is neither a DetectorProfile"
        " nor a screen reader function"
    )


__all__ = [
    "AIDER",
    "BUILTIN_PROFILES",
    "CLAUDE_CODE",
    "CODEX",
    "ENTRY_POINT_GROUP",
    "SHELL",
    "InvalidProfileError",
    "UnknownProfileError",
    "available_profiles",
    "load_profile",
]
