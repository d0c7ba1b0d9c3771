"""The ESP contract: what one event looks like on the way out, and what the ESP answered for it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, Sequence, runtime_checkable


@dataclass(frozen=True)
class Profile:
    email: str | None = None
    phone_number: str | None = None  # E.164 or None
    external_id: str | None = None  # "{platform}:{store}:{customer}"
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None = None


@dataclass(frozen=True)
class EspEvent:
    unique_id: str  # the outbox key; the ESP deduplicates on it, so a retry never double-sends
    metric: str  # a name from the trigger catalog (DESIGN.md section 4)
    time: datetime  # when it happened at the carrier/store, timezone-aware
    properties: dict[str, Any]
    profile: Profile
    backfill: bool = False  # stale news: record on the timeline, fire no flows


@dataclass(frozen=True)
class SendOutcome:
    """The ESP's answer for one event. Exactly one of: accepted, retry, failed."""

    unique_id: str
    accepted: bool = False
    retry_after: float | None = None  # set when the event should be tried again later (429, 5xx, timeout)
    error: str | None = None  # the ESP's reason, shown in the event log
    permanent: bool = False  # validation error: retrying the same event will not help
    auth_failed: bool = False  # 401/403: pause the connection and tell the merchant
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def ok(cls, unique_id: str) -> "SendOutcome":
        return cls(unique_id=unique_id, accepted=True)


@runtime_checkable
class Esp(Protocol):
    code: ClassVar[str]
    max_batch: ClassVar[int]

    def send(self, *, events: Sequence[EspEvent]) -> list[SendOutcome]:
        """One outcome per event; never raises for a single bad event."""
