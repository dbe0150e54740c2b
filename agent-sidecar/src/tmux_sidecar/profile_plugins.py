"""Detector profiles by name, built-in or installed as plugins (edge: reads the installed packages'
entry points; the lookup itself is `profiles.lookup_profile`, pure)."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from tmux_sidecar.classification import DetectorProfile
from tmux_sidecar.profiles import (
    BUILTIN_PROFILES,
    ENTRY_POINT_GROUP,
    InvalidProfileError,
    PluginProfile,
    UnknownProfileError,
    lookup_profile,
    profile_names,
)

log = logging.getLogger(__name__)

FALLBACK_PROFILE = "shell"


def installed_plugins() -> dict[str, PluginProfile]:
    """Every profile registered under the entry point group (the first of each name wins)."""
    plugins: dict[str, PluginProfile] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        plugins.setdefault(
            entry_point.name, PluginProfile(entry_point.name, entry_point.value, entry_point.load)
        )
    return plugins


def available_profiles() -> list[str]:
    """Names of every profile that `load_profile` accepts, sorted."""
    return profile_names(installed_plugins())


def load_profile(name: str) -> DetectorProfile:
    """The profile called `name`; UnknownProfileError (listing the available ones) if there is none."""
    builtin = BUILTIN_PROFILES.get(name)
    if builtin is not None:
        return builtin  # no scan of installed packages for a built-in name
    return lookup_profile(name, installed_plugins())


def load_profile_or_fallback(name: str) -> DetectorProfile:
    """The profile called `name`, else the plain shell profile (an agent with a typo still gets watched)."""
    try:
        return load_profile(name)
    except UnknownProfileError:
        return BUILTIN_PROFILES[FALLBACK_PROFILE]
    except InvalidProfileError as error:
        log.warning("%s; reading the screen as %s", error, FALLBACK_PROFILE)
        return BUILTIN_PROFILES[FALLBACK_PROFILE]
