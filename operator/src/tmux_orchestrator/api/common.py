"""Shared building blocks of the API models: base model, conditions, env vars."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
# An object name (metadata.name of most kinds): DNS labels joined by dots.
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
# Kubernetes accepts any C identifier as an env var name; we do the same.
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# tmux treats ':' and '.' as target separators, so they never appear in a session name.
SESSION_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_-]*$"


def k8s_extensions(**extensions: Any) -> JsonDict:
    """Schema keywords that only Kubernetes understands, kept verbatim in the generated CRD."""
    return dict(extensions)


def cel(rule: str, message: str, field_path: str | None = None, reason: str | None = None) -> JsonDict:
    """One `x-kubernetes-validations` entry; the message must say which field is wrong and why."""
    entry: JsonDict = {"rule": rule, "message": message}
    if field_path is not None:
        entry["fieldPath"] = field_path
    if reason is not None:
        entry["reason"] = reason
    return entry


class ApiModel(BaseModel):
    """Base of every API model: camelCase on the wire, snake_case in Python, immutable values.

    Unknown fields are ignored when *reading* objects so an older process can read a newer object; the CRD
    schema itself (no preserve-unknown-fields) is what rejects unknown fields from users.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        extra="ignore",
        use_enum_values=False,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict Kubernetes expects: camelCase keys, unset optional fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


DnsLabel = Annotated[str, Field(pattern=DNS_LABEL_PATTERN, min_length=1, max_length=63)]


class Condition(ApiModel):
    """A standard Kubernetes condition (metav1.Condition)."""

    type: str = Field(description="Type of condition in CamelCase, e.g. Ready.", max_length=316)
    status: ConditionStatus = Field(description="Status of the condition: True, False or Unknown.")
    observed_generation: int | None = Field(
        default=None, ge=0, description="The .metadata.generation the condition was computed from."
    )
    last_transition_time: str | None = Field(
        default=None,
        description="When the condition last changed status (RFC 3339).",
        json_schema_extra={"format": "date-time"},
    )
    reason: str | None = Field(
        default=None,
        max_length=1024,
        description="Machine-readable CamelCase reason for the last transition.",
    )
    message: str | None = Field(default=None, max_length=32768, description="Human-readable details.")


CONDITIONS_LIST = k8s_extensions(
    **{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]}, maxItems=32
)


class EnvVar(ApiModel):
    """An environment variable set in the agent's pane."""

    name: str = Field(
        pattern=ENV_NAME_PATTERN, max_length=256, description="Variable name, a C identifier (e.g. FOO_BAR)."
    )
    value: str = Field(default="", max_length=32768, description="Variable value, passed literally.")


ENV_LIST = k8s_extensions(
    **{"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]}, maxItems=128
)
