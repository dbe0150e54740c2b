"""AgentMessage: text to type into an agent, delivered and verified by its node agent (DESIGN §3)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field
from pydantic.config import JsonValue

from .common import DNS_LABEL_PATTERN, DNS_SUBDOMAIN_PATTERN, ApiModel, cel


class DeliverWhen(StrEnum):
    WHEN_IDLE = "WhenIdle"
    NOW = "Now"


class MessagePhase(StrEnum):
    PENDING = "Pending"
    DELIVERED = "Delivered"
    FAILED = "Failed"
    EXPIRED = "Expired"


class DeliveryConfirmation(StrEnum):
    """The evidence that the agent took a message (never merely "the screen changed")."""

    BUSY = "Busy"  # the input area no longer held the text and the agent went Busy
    TRANSCRIPT = "Transcript"  # the input area no longer held the text and it entered the transcript
    HOOK = "Hook"  # the CLI's own prompt hook (UserPromptSubmit) reported the text as submitted


class AgentMessageSpec(ApiModel):
    """What to say to whom. Immutable once created."""

    agent: str | None = Field(
        default=None, max_length=253, description="Target Agent name (or team + member)."
    )
    team: str | None = Field(default=None, max_length=253, description="Target team; goes with member.")
    member: str | None = Field(
        default=None,
        pattern=DNS_LABEL_PATTERN,
        max_length=63,
        description="Target member (its ordinal 0 agent).",
    )
    text: str = Field(
        min_length=1, max_length=65536, description="Text typed literally into the agent, then submitted."
    )
    deliver: DeliverWhen = Field(
        default=DeliverWhen.WHEN_IDLE,
        description=(
            "WhenIdle waits until the agent is Idle; Now types at once, except into a dialog waiting for"
            " a choice (WaitingForInput), which the text would answer: it waits until the dialog is gone."
        ),
    )
    ttl_seconds: int = Field(
        default=3600,
        ge=1,
        le=604800,
        description="Undelivered this long after creation (or after deliverAfter) → Expired.",
    )
    from_: str | None = Field(
        default=None,
        alias="from",
        pattern=DNS_SUBDOMAIN_PATTERN,
        max_length=253,
        description="The Agent that sent the message (set by its node agent); empty when a person sent it.",
    )
    deliver_after: str | None = Field(
        default=None,
        description="Held until this time (RFC 3339), then delivered: a scheduled check-in.",
        json_schema_extra={"format": "date-time"},
    )


class AgentMessageStatus(ApiModel):
    """Delivery state, written by the node agent."""

    phase: MessagePhase | None = Field(default=None, description="Pending, Delivered, Failed or Expired.")
    attempts: int | None = Field(default=None, ge=0, description="Delivery attempts so far.")
    delivered_at: str | None = Field(
        default=None,
        description="When the submission was seen on screen.",
        json_schema_extra={"format": "date-time"},
    )
    confirmation: DeliveryConfirmation | None = Field(
        default=None,
        description=(
            "How delivery was confirmed: Busy (the input area no longer held the text and the agent went"
            " Busy) or Transcript (the input area no longer held it and it entered the transcript)."
        ),
    )
    reason: str | None = Field(default=None, description="Why the message failed or expired.")
    agent: str | None = Field(default=None, description="Agent the message was resolved to.")
    sender_verified_at: str | None = Field(
        default=None,
        description=(
            "When the delivering node agent found spec.from running on the node that created the message"
            " (label orchestrator.tmux.dev/from-node), the first time it saw the message. A message so"
            " verified is delivered even if its sender moves to another node before it falls due."
        ),
        json_schema_extra={"format": "date-time"},
    )


_SPEC_RULES: list[JsonValue] = [
    cel(
        "has(self.agent) != (has(self.team) || has(self.member))",
        "set either spec.agent or spec.team with spec.member",
        reason="FieldValueRequired",
    ),
    cel(
        "has(self.team) == has(self.member)",
        "spec.team and spec.member go together",
        reason="FieldValueRequired",
    ),
    cel("self == oldSelf", "spec is immutable; create a new AgentMessage", reason="FieldValueForbidden"),
]


class AgentMessage(ApiModel):
    """A message for an agent; `kubectl get amsg` shows what was said to whom and whether it arrived."""

    spec: AgentMessageSpec = Field(
        description="What to say to whom.", json_schema_extra={"x-kubernetes-validations": _SPEC_RULES}
    )
    status: AgentMessageStatus | None = Field(default=None, description="Delivery state.")
