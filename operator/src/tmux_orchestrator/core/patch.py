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


def status_write(
    reported: Mapping[str, Any] | None, wanted: Mapping[str, Any], *, whole: bool
) -> dict[str, Any] | None:
    """What to write so the server's status (`reported`, as far as we know) becomes `wanted`; None when it
    already is. `whole`: `wanted` is the entire status (fields it lacks are removed); otherwise only the
    fields it names are ours (a None there removes that field)."""
    before = dict(reported or {})
    if not whole:
        before = {key: before[key] for key in wanted if key in before}
        wanted = {key: value for key, value in wanted.items() if value is not None or key in before}
    return merge_patch(before, wanted) or None
