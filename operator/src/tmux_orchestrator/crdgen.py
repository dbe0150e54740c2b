"""Generate the CustomResourceDefinitions from the API models (the models are the single source of truth).

Pure: models in, plain dicts out. `tmux-orchestrator crds` prints them; `make crds` writes crds/*.yaml and CI
fails when the committed files drift from what this module generates.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.config import JsonDict

from .api import GROUP, VERSION, Agent, AgentMessage, AgentTeam, TmuxNode
from .api.common import cel

JsonSchema = dict[str, Any]

_DROP_KEYS = frozenset({"title"})


@dataclass(frozen=True)
class PrinterColumn:
    name: str
    json_path: str
    type: str = "string"
    description: str = ""
    priority: int = 0

    def to_wire(self) -> dict[str, Any]:
        column: dict[str, Any] = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.description:
            column["description"] = self.description
        if self.priority:
            column["priority"] = self.priority
        return column


@dataclass(frozen=True)
class CrdDefinition:
    """Everything about one kind that is not in its model."""

    kind: str
    plural: str
    short_names: tuple[str, ...]
    model: type[BaseModel]
    namespaced: bool = True
    printer_columns: tuple[PrinterColumn, ...] = ()
    selectable_fields: tuple[str, ...] = ()
    root_rules: tuple[JsonDict, ...] = ()
    spec_required: bool = True
    categories: tuple[str, ...] = ("tmux-orchestrator",)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def name(self) -> str:
        return f"{self.plural}.{GROUP}"


def _age() -> PrinterColumn:
    return PrinterColumn("Age", ".metadata.creationTimestamp", "date")


def _condition(type_: str, part: str = "status") -> str:
    return f'.status.conditions[?(@.type=="{type_}")].{part}'


DEFINITIONS: tuple[CrdDefinition, ...] = (
    CrdDefinition(
        kind="AgentTeam",
        plural="agentteams",
        short_names=("at",),
        model=AgentTeam,
        printer_columns=(
            PrinterColumn("Ready", ".status.ready", description="Ready agents / declared agents."),
            PrinterColumn("Phase", ".status.phase"),
            PrinterColumn("Stage", ".status.rollout.stage", description="Current rollout step."),
            PrinterColumn("Node", ".status.node"),
            _age(),
            PrinterColumn(
                "Stable-Revision",
                ".status.stableRevision",
                description="Last fully rolled-out template revision.",
                priority=1,
            ),
            PrinterColumn(
                "Target-Revision",
                ".status.currentRevision",
                description="Template revision the spec declares (rolled out, or rolled back from).",
                priority=1,
            ),
            PrinterColumn("Message", _condition("Ready", "message"), priority=1),
        ),
        root_rules=(
            cel(
                "self.metadata.name.size() <= 63",
                "metadata.name must be at most 63 characters: it is used as a label value",
                reason="FieldValueInvalid",
            ),
        ),
    ),
    CrdDefinition(
        kind="Agent",
        plural="agents",
        short_names=("ag",),
        model=Agent,
        printer_columns=(
            PrinterColumn("Node", ".spec.nodeName"),
            PrinterColumn("Role", ".spec.role"),
            PrinterColumn("Phase", ".status.phase"),
            PrinterColumn("Activity", ".status.activity"),
            PrinterColumn(
                "Report", ".status.report.state", description="The agent's own report of its work."
            ),
            PrinterColumn("Restarts", ".status.restartCount", "integer"),
            PrinterColumn("Revision", ".status.revision"),
            _age(),
            PrinterColumn("Pane", ".status.paneId", priority=1),
            PrinterColumn(
                "Reason", ".status.lastCrashReason", description="Why the last process ended.", priority=1
            ),
            PrinterColumn(
                "Branch", ".status.workspace.branch", description="Branch the agent works on.", priority=1
            ),
            PrinterColumn(
                "Ahead",
                ".status.workspace.aheadOfBase",
                "integer",
                description="Commits on its branch that the base branch does not have.",
                priority=1,
            ),
        ),
        selectable_fields=(".spec.nodeName", ".spec.teamRef.name"),
    ),
    CrdDefinition(
        kind="TmuxNode",
        plural="tmuxnodes",
        short_names=("tn",),
        model=TmuxNode,
        namespaced=False,
        spec_required=False,
        printer_columns=(
            PrinterColumn("Ready", _condition("Ready")),
            PrinterColumn("Agents", ".status.agents", "integer"),
            PrinterColumn("Capacity", ".spec.capacity", "integer"),
            PrinterColumn("Tmux", ".status.tmuxVersion"),
            _age(),
            PrinterColumn("Reason", _condition("Ready", "reason"), priority=1),
        ),
    ),
    CrdDefinition(
        kind="AgentMessage",
        plural="agentmessages",
        short_names=("amsg",),
        model=AgentMessage,
        printer_columns=(
            PrinterColumn("Agent", ".status.agent"),
            PrinterColumn("From", ".spec.from", description="Sending agent; empty when a person sent it."),
            PrinterColumn("Phase", ".status.phase"),
            PrinterColumn("Attempts", ".status.attempts", "integer"),
            _age(),
            PrinterColumn("Reason", ".status.reason", priority=1),
            PrinterColumn("Confirmation", ".status.confirmation", priority=1),
        ),
        selectable_fields=(".spec.agent", ".spec.from"),
    ),
)


def _field_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """Wire defaults of fields built by a default_factory, which pydantic leaves out of its JSON schema."""
    defaults: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.default_factory is None:
            continue
        value = info.default_factory()  # type: ignore[call-arg]
        wire_name = info.alias or name
        if isinstance(value, BaseModel):
            # The whole default object: the server validates a default (CEL rules included) as written.
            defaults[wire_name] = value.model_dump(mode="json", by_alias=True, exclude_none=True)
        elif isinstance(value, list):
            defaults[wire_name] = [
                item.model_dump(mode="json", by_alias=True, exclude_none=True)
                if isinstance(item, BaseModel)
                else item
                for item in value
            ]
    return defaults


def _models_by_title(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every model reachable from `model`, keyed by the name pydantic gives its schema definition."""
    found: dict[str, type[BaseModel]] = {}
    pending: list[type[BaseModel]] = [model]
    while pending:
        current = pending.pop()
        if current.__name__ in found:
            continue
        found[current.__name__] = current
        for info in current.model_fields.values():
            for candidate in _nested_models(info.annotation):
                pending.append(candidate)
    return found


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in getattr(annotation, "__args__", ()) for model in _nested_models(arg)]


_FIRST_KEYS = ("type", "description")


def _ordered(node: JsonSchema) -> JsonSchema:
    """Stable, readable key order: type and description first, the rest alphabetically."""
    first = {key: node[key] for key in _FIRST_KEYS if key in node}
    return first | {key: node[key] for key in sorted(node) if key not in first}


def structural_schema(model: type[BaseModel]) -> JsonSchema:
    """The model as a Kubernetes structural OpenAPI v3 schema: refs inlined, nullables flattened."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    definitions: dict[str, JsonSchema] = raw.pop("$defs", {})
    models = _models_by_title(model)

    def resolve(node: Any, owner: str | None) -> Any:
        if isinstance(node, list):
            return [resolve(item, owner) for item in node]
        if not isinstance(node, dict):
            return node
        node = dict(node)
        if "$ref" in node:
            name = node.pop("$ref").rsplit("/", 1)[-1]
            merged = copy.deepcopy(definitions[name])
            merged.update(node)  # the field's own description wins over the class docstring
            return resolve(merged, name)
        if "allOf" in node and len(node["allOf"]) == 1:
            inner = node.pop("allOf")[0]
            return resolve({**inner, **node}, owner)
        if "anyOf" in node:
            branches = [b for b in node["anyOf"] if b.get("type") != "null"]
            if len(branches) == 1:
                node.pop("anyOf")
                return resolve({**branches[0], **node}, owner)
        if node.get("default", 0) is None:
            node.pop("default")
        out: JsonSchema = {}
        for key, value in node.items():
            if key in _DROP_KEYS:
                continue
            if key == "properties":
                out[key] = {prop: resolve(schema, None) for prop, schema in value.items()}
            elif isinstance(value, dict | list):
                out[key] = resolve(value, owner)
            else:
                out[key] = value
        if "properties" in out and owner in models:
            for prop, default in _field_defaults(models[owner]).items():
                out["properties"][prop].setdefault("default", default)
        return _ordered(out)

    return dict(resolve(raw, model.__name__))


def build_crd(definition: CrdDefinition) -> dict[str, Any]:
    """One CustomResourceDefinition as a plain dict."""
    schema = structural_schema(definition.model)
    properties = schema["properties"]
    root: JsonSchema = {
        "type": "object",
        "description": schema.get("description", ""),
        "properties": {
            "apiVersion": {"type": "string", "description": "API version: " + f"{GROUP}/{VERSION}."},
            "kind": {"type": "string", "description": f"Kind: {definition.kind}."},
            "metadata": {"type": "object"},
            **properties,
        },
    }
    if definition.spec_required:
        root["required"] = ["spec"]
    if definition.root_rules:
        root["x-kubernetes-validations"] = list(definition.root_rules)
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": root},
        "subresources": {"status": {}},
        "additionalPrinterColumns": [column.to_wire() for column in definition.printer_columns],
    }
    if definition.selectable_fields:
        version["selectableFields"] = [{"jsonPath": path} for path in definition.selectable_fields]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": definition.name, "labels": {"app.kubernetes.io/part-of": "tmux-orchestrator"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced" if definition.namespaced else "Cluster",
            "names": {
                "kind": definition.kind,
                "listKind": f"{definition.kind}List",
                "plural": definition.plural,
                "singular": definition.singular,
                "shortNames": list(definition.short_names),
                "categories": list(definition.categories),
            },
            "versions": [version],
        },
    }


def all_crds(definitions: Sequence[CrdDefinition] = DEFINITIONS) -> list[dict[str, Any]]:
    return [build_crd(definition) for definition in definitions]


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


class _CrdDumper(yaml.SafeDumper):
    pass


_CrdDumper.add_representer(str, _str_presenter)


def to_yaml(document: Mapping[str, Any]) -> str:
    return yaml.dump(dict(document), Dumper=_CrdDumper, sort_keys=False, width=120, allow_unicode=True)


def crd_files(definitions: Sequence[CrdDefinition] = DEFINITIONS) -> dict[str, str]:
    """File name → YAML text, as `make crds` writes them under crds/."""
    return {f"{d.plural}.{GROUP}.yaml": to_yaml(build_crd(d)) for d in definitions}


def render_all(render: Callable[[Mapping[str, Any]], str] = to_yaml) -> str:
    return "---\n".join(render(crd) for crd in all_crds())
