"""Detector profiles: plugins that read an agent CLI's screen, found through Python entry points.

A third party registers a profile in its own package metadata:

    [project.entry-points."tmux_orchestrator.profiles"]
    my-agent = "my_package.profile:MY_AGENT"

where the object is a `DetectorProfile`, or a plain screen reader function
`(lines, process_facts) -> ScreenReading` (it then gets the entry point's name). The built-in profiles are
registered the same way by this project and also known without installed metadata, and their names cannot
be taken over by a plugin.

This package is pure: which plugins are installed is read by the edge module `tmux_sidecar.profile_plugins`
(`load_profile`, `available_profiles`), which hands them to `lookup_profile` here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

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


@dataclass(frozen=True)
class PluginProfile:
    """An installed plugin: its entry point's name, its target (`module:attribute`) and how to load it."""

    name: str
    target: str
    load: Callable[[], object]


def profile_names(plugins: Mapping[str, PluginProfile]) -> list[str]:
    """Names of every profile that `lookup_profile` accepts, sorted."""
    return sorted(set(BUILTIN_PROFILES) | set(plugins))


def lookup_profile(name: str, plugins: Mapping[str, PluginProfile]) -> DetectorProfile:
    """The profile called `name`; UnknownProfileError (listing the available ones) if there is none."""
    builtin = BUILTIN_PROFILES.get(name)
    if builtin is not None:
        return builtin
    plugin = plugins.get(name)
    if plugin is None:
        raise UnknownProfileError(name, profile_names(plugins))
    return _as_profile(plugin, plugin.load())


def _as_profile(plugin: PluginProfile, loaded: object) -> DetectorProfile:
    if isinstance(loaded, DetectorProfile):
        return replace(loaded, name=plugin.name)
    if callable(loaded):
        return DetectorProfile(plugin.name, loaded, getattr(loaded, "__doc__", None) or "")
    raise InvalidProfileError(
        f"entry point {plugin.name!r} ({plugin.target}) is neither a DetectorProfile"
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
    "PluginProfile",
    "UnknownProfileError",
    "lookup_profile",
    "profile_names",
]
