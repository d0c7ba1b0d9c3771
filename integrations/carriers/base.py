"""The carrier contract: a Protocol, the normalized result dataclasses, and the per-number error vocabulary."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar, Protocol, Sequence, runtime_checkable

from integrations.status import ShipmentStatus


class TrackingErrorCode:
    """Per-number error codes; a result with an error never stops the other numbers of a batch."""

    NOT_FOUND = "not_found"
    INVALID_NUMBER = "invalid_number"
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    CARRIER_DOWN = "carrier_down"
    BAD_RESPONSE = "bad_response"

    # Errors that say "ask again later" rather than "this number has a problem".
    TRANSIENT = frozenset({RATE_LIMITED, CARRIER_DOWN, BAD_RESPONSE})


@dataclass(frozen=True)
class TrackingError:
    code: str
    message: str
    retry_after: float | None = None  # seconds, when the carrier said so (429 Retry-After)

    @property
    def is_transient(self) -> bool:
        return self.code in TrackingErrorCode.TRANSIENT


@dataclass(frozen=True)
class EstimatedDelivery:
    """A day, or a window; `earliest == latest` for a single date/time."""

    earliest: date | datetime
    latest: date | datetime | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"earliest": self.earliest.isoformat(), "latest": self.latest.isoformat() if self.latest else None}


@dataclass(frozen=True)
class TrackingEvent:
    occurred_at: datetime  # always timezone-aware, carrying the carrier's own offset where it gave one
    status: ShipmentStatus
    code: str | None  # the carrier's raw code, kept for re-mapping
    description: str  # the carrier's raw text
    location: str | None = None
    substatus: str | None = None  # delivered_to / exception reason / carrier delay, see integrations.status
    country: str | None = None  # ISO 3166-1 alpha-2 of the location, when known

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise ValueError("TrackingEvent.occurred_at must be timezone-aware")


@dataclass(frozen=True)
class TrackingResult:
    tracking_number: str
    status: ShipmentStatus = ShipmentStatus.UNKNOWN
    substatus: str | None = None
    events: tuple[TrackingEvent, ...] = ()  # newest first
    estimated_delivery: EstimatedDelivery | None = None
    delivered_to: str | None = None
    tracking_url: str | None = None
    service: str | None = None
    pickup_location: str | None = None
    pickup_deadline: date | datetime | None = None
    error: TrackingError | None = None
    raw: Any = field(default=None, compare=False)  # the carrier's fragment for this number (JSON-able)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Quota:
    """A carrier's documented request limits per credential set (the app enforces them across workers)."""

    per_second: float
    per_day: int | None = None  # resets at midnight UTC


class RequestGate(Protocol):
    """Called by a carrier's transport before every HTTP request; supplied by the app (shared across workers)."""

    def acquire(self) -> None:
        """Return when a request may go out; raise RetryableError(retry_after=...) when the quota is exhausted."""


class OpenGate:
    """No limit: for the CLI parser, tests and the sandbox."""

    def acquire(self) -> None:
        return None


@runtime_checkable
class Carrier(Protocol):
    """One carrier API. `track` does I/O through one transport seam; `parse` is pure."""

    code: ClassVar[str]
    name: ClassVar[str]
    batch_size: ClassVar[int]  # how many numbers one API call can take
    quota: ClassVar[Quota]
    credential_fields: ClassVar[tuple[str, ...]]  # e.g. ("api_key",) or ("client_id", "client_secret"); () if none

    # Constructor convention for every carrier:
    #   __init__(self, *, credentials: Mapping[str, str] | None = None, base_url: str | None = None,
    #            timeout: tuple[float, float] = (3.05, 10.0), gate: RequestGate | None = None)

    def track(self, *, numbers: Sequence[str]) -> list[TrackingResult]:
        """One result per number, in any order; errors are results, never exceptions for the whole batch."""

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        """Turn a raw response body into results; raise ValueError for a body that is not this carrier's format."""


def error_results(numbers: Sequence[str], *, code: str, message: str, retry_after: float | None = None) -> list[TrackingResult]:
    """The same error for every number of a batch (carrier down, auth failed)."""
    err = TrackingError(code=code, message=message, retry_after=retry_after)
    return [TrackingResult(tracking_number=n, error=err) for n in numbers]


def newest_first(events: Sequence[TrackingEvent]) -> tuple[TrackingEvent, ...]:
    return tuple(sorted(events, key=lambda e: e.occurred_at, reverse=True))
