"""JSON merge patches (RFC 7386) between two wire dicts: only what changed, null for what was removed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch turning `old` into `new`. Lists and scalars are replaced whole, as RFC 7386 does;
    an empty result means nothing changed."""
    patch: dict[str, Any] = {key: None for key in sorted(old.keys() - new.keys())}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            nested = merge_patch(before, value)
            if nested:
                patch[key] = nested
        elif key not in old or before != value:
            patch[key] = value
    return patch
