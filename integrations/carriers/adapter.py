"""Shared skeleton of HTTP carriers: the constructor convention and a `track` that never loses a batch."""
from __future__ import annotations

import json

import logging
import re
from dataclasses import replace
from typing import Any, ClassVar, Iterator, Mapping, Sequence

from integrations.carriers.base import (
    Quota,
    RequestGate,
    TrackingError,
    TrackingErrorCode,
    TrackingEvent,
    TrackingResult,
    error_results,
)
from integrations.carriers.transport import DEFAULT_TIMEOUT, OAuthClient, RetryPolicy, Transport
from integrations.errors import PermanentError, RetryableError
from integrations.status import ShipmentStatus

logger = logging.getLogger(__name__)

# After this many consecutive batches failed with "carrier down", the rest of the run is not attempted:
# a dead carrier must not cost (numbers x retries x timeout) of a worker's time.
CIRCUIT_BREAKER_THRESHOLD = 3

# One row of a carrier's code table: the canonical status and its substatus (or None).
Mapped = tuple[ShipmentStatus, "str | None"]


class HttpCarrier:
    """Base for carriers reached over HTTP. Subclasses set the class attributes and implement
    `_fetch_batch` (I/O through `self.transport`) and `parse` (pure)."""

    code: ClassVar[str]
    name: ClassVar[str]
    batch_size: ClassVar[int] = 1
    quota: ClassVar[Quota]
    credential_fields: ClassVar[tuple[str, ...]] = ()
    DEFAULT_BASE_URL: ClassVar[str]
    TRACKING_URL: ClassVar[str]  # "{number}" placeholder
    transport_headers: ClassVar[Mapping[str, str]] = {}
    # Carriers behind OAuth client credentials set TOKEN_PATH; OAUTH_STYLE says where the client id and secret go.
    TOKEN_PATH: ClassVar[str] = ""
    OAUTH_STYLE: ClassVar[str] = "form"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("parse", "parse_webhook"):
            if name in cls.__dict__:
                setattr(cls, name, _shape_guard(cls.__dict__[name], code=getattr(cls, "code", cls.__name__)))

    def __init__(self, *, credentials: Mapping[str, str] | None = None, base_url: str | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT, gate: RequestGate | None = None,
                 retry_policy: RetryPolicy | None = None) -> None:
        self.credentials: dict[str, str] = dict(credentials or {})
        self.base_url = (base_url or self.DEFAULT_BASE_URL).rstrip("/")
        self.transport = Transport(base_url=self.base_url, timeout=timeout, gate=gate, policy=retry_policy,
                                   headers=self.transport_headers, carrier=self.code)

    def __repr__(self) -> str:  # never the credentials
        return f"<{type(self).__name__} {self.base_url}>"

    @classmethod
    def tracking_url(cls, number: str) -> str:
        return cls.TRACKING_URL.format(number=number)

    def _credential(self, name: str) -> str:
        value = self.credentials.get(name)
        if not value:
            raise PermanentError(f"{self.code}: missing credential {name!r}", code="auth")
        return value

    def _oauth(self) -> OAuthClient:
        """The client-credentials token source for this credential set (cached process-wide by OAuthClient)."""
        return OAuthClient(token_path=self.TOKEN_PATH, client_id=self._credential("client_id"),
                           client_secret=self._credential("client_secret"), style=self.OAUTH_STYLE)

    def _tracked(self, number: str, status: ShipmentStatus, substatus: str | None,
                 events: Sequence[TrackingEvent] = (), *, tracking_url: str | None = None,
                 **details: Any) -> TrackingResult:
        """A parsed result with what every carrier derives alike: a delivered parcel's substatus says where it
        was left, and without a link from the carrier the result links to the carrier's own tracking page."""
        return TrackingResult(
            tracking_number=number, status=status, substatus=substatus, events=tuple(events),
            delivered_to=substatus if status is ShipmentStatus.DELIVERED else None,
            tracking_url=tracking_url or (self.tracking_url(number) if number else None), **details)

    # -- tracking -----------------------------------------------------------------------------------------

    def track(self, *, numbers: Sequence[str]) -> list[TrackingResult]:
        wanted = list(dict.fromkeys(n.strip() for n in numbers if n and n.strip()))
        results: list[TrackingResult] = []
        stop: TrackingError | None = None
        down_streak = 0
        for batch in _chunks(wanted, self.batch_size):
            if stop is not None:
                results.extend(error_results(batch, code=stop.code, message=stop.message,
                                             retry_after=stop.retry_after))
                continue
            batch_results = self._track_batch(batch)
            results.extend(batch_results)
            errors = {r.error.code for r in batch_results if r.error is not None}
            if errors and len(errors) == 1 and all(r.error for r in batch_results):
                only = batch_results[0].error
                assert only is not None
                if only.code in (TrackingErrorCode.AUTH, TrackingErrorCode.RATE_LIMITED):
                    stop = only  # the same answer awaits every other batch: do not ask
                elif only.code == TrackingErrorCode.CARRIER_DOWN:
                    down_streak += 1
                    if down_streak >= CIRCUIT_BREAKER_THRESHOLD:
                        stop = only
                    continue
            down_streak = 0
        return results

    def _track_batch(self, batch: list[str]) -> list[TrackingResult]:
        try:
            payloads = self._fetch_batch(batch)
            parsed: list[TrackingResult] = []
            for payload in payloads:
                parsed.extend(self.parse(payload))
        except PermanentError as exc:
            code = TrackingErrorCode.AUTH if exc.code == "auth" else TrackingErrorCode.BAD_RESPONSE
            return error_results(batch, code=code, message=str(exc))
        except RetryableError as exc:
            code = TrackingErrorCode.RATE_LIMITED if "rate limited" in str(exc) or exc.retry_after else \
                TrackingErrorCode.CARRIER_DOWN
            return error_results(batch, code=code, message=str(exc), retry_after=exc.retry_after)
        except ValueError as exc:
            logger.warning("%s: unreadable response for a batch of %d: %s", self.code, len(batch), exc)
            return error_results(batch, code=TrackingErrorCode.BAD_RESPONSE, message=str(exc)[:200])
        return _one_per_number(batch, parsed, carrier=self.code)

    def _fetch_batch(self, batch: list[str]) -> list[bytes | str]:
        """Ask the carrier about `batch`; return raw bodies for `parse`. Per-number HTTP errors that the
        carrier answers with its own error body are returned as bodies, not raised."""
        raise NotImplementedError

    def parse(self, payload: bytes | str) -> list[TrackingResult]:
        raise NotImplementedError


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start:start + size]


def _normalize(number: str) -> str:
    return re.sub(r"[\s-]", "", number).upper()


def _one_per_number(batch: list[str], parsed: list[TrackingResult], *, carrier: str) -> list[TrackingResult]:
    """Exactly one result per asked number, in asking order; numbers the carrier left out are `not_found`."""
    by_number: dict[str, TrackingResult] = {}
    unnamed: list[TrackingResult] = []
    for result in parsed:
        if result.tracking_number:
            by_number.setdefault(_normalize(result.tracking_number), result)
        else:
            unnamed.append(result)
    if not by_number and len(unnamed) == 1 and unnamed[0].error is not None:
        # one error for the whole request (bad request, auth): it is every number's answer
        return [replace(unnamed[0], tracking_number=n) for n in batch]
    out: list[TrackingResult] = []
    for number in batch:
        found = by_number.get(_normalize(number))
        if found is None and len(batch) == 1 and len(parsed) == 1:
            found = parsed[0]  # a one-number answer that names another id (a piece code, an alias)
        if found is None and unnamed and len(batch) == 1:
            found = unnamed[0]
        if found is None:
            found = TrackingResult(tracking_number=number, error=TrackingError(
                code=TrackingErrorCode.NOT_FOUND, message=f"{carrier} returned nothing for this number"))
        if found.tracking_number != number:
            found = _renumber(found, number)
        out.append(found)
    return out


def _renumber(result: TrackingResult, number: str) -> TrackingResult:
    return replace(result, tracking_number=number)


TextRule = tuple["re.Pattern[str]", ShipmentStatus, "str | None"]


def json_object(payload: bytes | str, *, what: str) -> dict[str, Any]:
    """The parsed JSON object of a carrier body; ValueError naming the carrier for anything else."""
    try:
        data = json.loads(payload)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not {what}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"not {what}: expected a JSON object")
    return data


def text_rules(*rules: tuple[str, ShipmentStatus, str | None]) -> tuple[TextRule, ...]:
    """Compile (regex, status, substatus) rules; matched case-insensitively, first match wins."""
    return tuple((re.compile(pattern, re.IGNORECASE), status, sub) for pattern, status, sub in rules)


def match_text(text: str | None, rules: Sequence[TextRule]) -> Mapped | None:
    if not text:
        return None
    for pattern, status, sub in rules:
        if pattern.search(text):
            return status, sub
    return None


def _shape_guard(parse, *, code: str):  # type: ignore[no-untyped-def]
    """A body of the wrong shape is a ValueError whatever the parser tripped over (a missing key, a list where a
    dict was expected, a number too large), so the caller's one `except ValueError` covers every bad answer."""
    import functools

    @functools.wraps(parse)
    def guarded(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            return parse(self, *args, **kwargs)
        except ValueError:
            raise
        except (KeyError, IndexError, TypeError, AttributeError, ArithmeticError, RecursionError) as exc:
            raise ValueError(f"unexpected {code} response shape ({type(exc).__name__})") from exc
    return guarded
