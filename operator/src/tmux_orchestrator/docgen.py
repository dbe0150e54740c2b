"""Generate the API reference (docs/api.md) from the API models, through the CRDs they generate.

Pure: the CRD definitions in, Markdown out. Reading the structural schemas that `crdgen` builds (rather than
the models directly) documents exactly what the API server enforces: types, defaults written out in full,
OpenAPI bounds and patterns, list semantics and CEL rules. `tmux-orchestrator docs` prints or writes it;
the tests fail when the committed docs/api.md drifts from the models.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .api import GROUP, VERSION
from .crdgen import DEFINITIONS, CrdDefinition, JsonSchema, build_crd

_STANDARD_FIELDS = frozenset({"apiVersion", "kind", "metadata"})


@dataclass(frozen=True)
class FieldDoc:
    """One row of a kind's field table."""

    path: str
    type: str
    default: str
    validation: str
    description: str


def _code(value: Any) -> str:
    # An empty string shows as "" (an empty code span would not render at all).
    text = value if isinstance(value, str) and value else json.dumps(value, separators=(", ", ": "))
    # Inline code cannot hold a backtick delimiter of the same length: widen it when the text has one.
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    """Table cells hold one line and no unescaped pipe."""
    return " ".join(text.split()).replace("|", "\\|")


def _type_of(schema: JsonSchema) -> str:
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {_type_of(schema['additionalProperties'])}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return kind


def _range(low: Any, high: Any, unit: str = "") -> str | None:
    if low is None and high is None:
        return None
    if low is not None and high is not None:
        return f"{low}..{high}{unit}"
    return f"≥ {low}{unit}" if low is not None else f"≤ {high}{unit}"


def _validation(schema: JsonSchema, required: bool) -> str:
    rules: list[str | None] = [
        "required" if required else None,
        "one of " + ", ".join(_code(v) for v in schema["enum"]) if "enum" in schema else None,
        _range(schema.get("minimum"), schema.get("maximum")),
        _range(schema.get("minLength"), schema.get("maxLength"), " characters"),
        f"pattern {_code(schema['pattern'])}" if "pattern" in schema else None,
        _range(schema.get("minItems"), schema.get("maxItems"), " items"),
        _range(None, schema.get("maxProperties"), " entries"),
    ]
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "map":
        keys = ", ".join(_code(k) for k in schema.get("x-kubernetes-list-map-keys", []))
        rules.append(f"unique by {keys} (merged by key)")
    elif list_type == "set":
        rules.append("unique items")
    rules.extend(
        f"{rule['message']} ({_code(rule['rule'])})" for rule in schema.get("x-kubernetes-validations", [])
    )
    return "; ".join(rule for rule in rules if rule)


def _fields(schema: JsonSchema, prefix: str, required: Sequence[str] = ()) -> Iterator[FieldDoc]:
    """Every property below `schema`, depth first in declaration order; list items as `path[]`."""
    for name, child in schema.get("properties", {}).items():
        if not prefix and name in _STANDARD_FIELDS:
            continue
        path = f"{prefix}.{name}" if prefix else name
        yield FieldDoc(
            path=path,
            type=_type_of(child),
            default=_code(child["default"]) if "default" in child else "",
            validation=_validation(child, name in required),
            description=str(child.get("description", "")),
        )
        yield from _nested(child, path)


def _nested(schema: JsonSchema, path: str) -> Iterator[FieldDoc]:
    if schema.get("type") == "array":
        yield from _nested(schema.get("items", {}), f"{path}[]")
    elif "properties" in schema:
        yield from _fields(schema, path, schema.get("required", ()))
    elif isinstance(schema.get("additionalProperties"), dict):
        yield from _nested(schema["additionalProperties"], f"{path}.<key>")


def kind_fields(definition: CrdDefinition) -> list[FieldDoc]:
    root = build_crd(definition)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return list(_fields(root, "", root.get("required", ())))


def _anchor(kind: str) -> str:
    return kind.lower()


def _columns(definition: CrdDefinition) -> str:
    shown = [column.name.upper() for column in definition.printer_columns if not column.priority]
    wide = [column.name.upper() for column in definition.printer_columns if column.priority]
    text = "`kubectl get` columns " + ", ".join(shown)
    return text + (f", with `-o wide` also {', '.join(wide)}" if wide else "")


def _kind_section(definition: CrdDefinition) -> list[str]:
    root: Mapping[str, Any] = build_crd(definition)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    scope = "namespaced" if definition.namespaced else "cluster-scoped"
    short = ", ".join(_code(name) for name in definition.short_names)
    lines = [
        f"## {definition.kind}",
        "",
        str(root.get("description", "")),
        "",
        f"- Resource {_code(definition.plural)} ({scope}), short names {short}; {_columns(definition)}.",
    ]
    if definition.selectable_fields:
        selectable = ", ".join(_code(path.lstrip(".")) for path in definition.selectable_fields)
        lines.append(f"- Field selectors (`kubectl get --field-selector`): {selectable}.")
    for rule in root.get("x-kubernetes-validations", []):
        lines.append(f"- Object rule: {rule['message']} ({_code(rule['rule'])}).")
    lines += [
        "",
        "| Field | Type | Default | Validation | Description |",
        "|---|---|---|---|---|",
    ]
    lines += [
        "| "
        + " | ".join(_cell(cell) for cell in (_code(f.path), f.type, f.default, f.validation, f.description))
        + " |"
        for f in kind_fields(definition)
    ]
    return [*lines, ""]


def render_api_reference(definitions: Sequence[CrdDefinition] = DEFINITIONS) -> str:
    """docs/api.md: every field of every kind with its type, default, validation and description."""
    lines = [
        "# API reference",
        "",
        "<!-- Generated from the API models by `tmux-orchestrator docs -o docs/api.md` (`make docs`). "
        "Do not edit. -->",
        "",
        f"Group {_code(GROUP)}, version {_code(VERSION)}: `apiVersion: {GROUP}/{VERSION}`. The API server "
        "enforces every rule below itself (OpenAPI schema and CEL in the CRDs); unknown fields are rejected "
        "and defaults are filled in on write, so `kubectl get -o yaml` shows the effective values. "
        "Paths use `[]` for the items of a list and `<key>` for the values of a map.",
        "",
        *(f"- [{d.kind}](#{_anchor(d.kind)})" for d in definitions),
        "",
    ]
    for definition in definitions:
        lines += _kind_section(definition)
    return "\n".join(lines).rstrip("\n") + "\n"
