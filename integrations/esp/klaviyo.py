"""Klaviyo as an ESP: parcel events through the official SDK, one by one or as bulk create jobs."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Callable, ClassVar, Mapping, Sequence

import urllib3
from klaviyo_api import KlaviyoAPI
from openapi_client.api_arg_options import USE_DICTIONARY_FOR_RESPONSE_DATA
from openapi_client.exceptions import ApiException
from openapi_client.models.event_create_query_v2 import EventCreateQueryV2
from pydantic import ValidationError

from integrations.errors import PermanentError, RetryableError
from integrations.esp.base import EspEvent, Profile, SendOutcome
from integrations.esp.jsonsafe import json_safe, utc_iso
from integrations.esp.klaviyo_oauth import DEFAULT_SCOPES as REQUIRED_SCOPES
from integrations.esp.phone import to_e164
from integrations.http_headers import parse_retry_after

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://a.klaviyo.com"
# The API revision the installed klaviyo-api (25.0.0) models are generated for. Sent on every request; bump it only
# together with the SDK (a test checks they agree).
REVISION = "2026-10-15"
MAX_BULK_EVENTS = 1000  # documented limit of POST /api/event-bulk-create-jobs
MAX_BULK_PAYLOAD_BYTES = 5 * 1024 * 1024  # documented limit of the same endpoint
_BULK_PAYLOAD_BUDGET = MAX_BULK_PAYLOAD_BYTES - 512 * 1024  # head-room for the envelope and JSON spacing


@dataclass(frozen=True)
class RateLimit:
    """A Klaviyo per-account limit: a short burst window and a steady one (both enforced)."""

    burst_per_second: int
    steady_per_minute: int


# Klaviyo's documented per-account limits (API reference, revision above). The app's limiter stays under them;
# OAuth apps get their own quota per account, so the same numbers apply per connection.
CREATE_EVENT_LIMIT = RateLimit(burst_per_second=350, steady_per_minute=3500)  # POST /api/events
BULK_CREATE_EVENTS_LIMIT = RateLimit(burst_per_second=10, steady_per_minute=150)  # POST /api/event-bulk-create-jobs
GET_ACCOUNTS_LIMIT = RateLimit(burst_per_second=1, steady_per_minute=15)  # GET /api/accounts
# Endpoint names passed to the gate, and the limit each one is held to.
CREATE_EVENT = "create_event"
BULK_CREATE_EVENTS = "bulk_create_events"
ENDPOINT_LIMITS: dict[str, RateLimit] = {CREATE_EVENT: CREATE_EVENT_LIMIT, BULK_CREATE_EVENTS: BULK_CREATE_EVENTS_LIMIT}

_BULK_ENTRY_POINTER = re.compile(r"^/data/attributes/events-bulk-create/data/(\d+)(?:/|$)")
_PUBLIC_KEY = re.compile(r"^[A-Za-z0-9]{6}$")
# Statuses after which a bulk request is searched for its bad events instead of failing the whole batch.
_SPLIT_STATUSES = frozenset({400, 413, 422})
_RETRY_STATUSES = frozenset({408, 409, 425, 429})
_TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, OSError)


@dataclass(frozen=True)
class KlaviyoAccount:
    """What GET /api/accounts tells us about the connected account (shown to the merchant)."""

    id: str
    name: str
    public_api_key: str | None = None
    test_account: bool = False


class InvalidEvent(ValueError):
    """The event cannot be sent as it is; retrying will not help."""


class KlaviyoEsp:
    """Sends EspEvents to one Klaviyo account with a private API key or an OAuth access token."""

    code: ClassVar[str] = "klaviyo"
    max_batch: ClassVar[int] = MAX_BULK_EVENTS

    def __init__(
        self,
        *,
        api_key: str | None = None,
        access_token: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 10.0,
        gate: Callable[[str], None] | None = None,
    ) -> None:
        self._client = _sdk_client(api_key=api_key, access_token=access_token, base_url=base_url)
        self._events_api = self._client.Events
        self._timeout = float(timeout)
        self._base_url = base_url
        # Called with the endpoint name before every request; raises RetryableError(retry_after=...) when the
        # account's shared rate limit is used up, so the events wait in the outbox instead of earning a 429.
        self._gate = gate

    def __repr__(self) -> str:  # never show the credential
        return f"KlaviyoEsp(base_url={self._base_url!r})"

    def account(self) -> KlaviyoAccount:
        """The connected account; raises PermanentError(code="auth_failed" / "missing_scopes") or RetryableError."""
        return _get_account(self._client, timeout=self._timeout)

    def send(self, *, events: Sequence[EspEvent]) -> list[SendOutcome]:
        outcomes: dict[str, SendOutcome] = {}
        ready: list[EspEvent] = []
        profiles: dict[str, dict[str, Any]] = {}  # Klaviyo profile attributes per unique_id, built once
        seen: set[str] = set()
        for event in events:
            # Klaviyo fails a whole bulk request when a unique_id repeats in it; the second copy shares the outcome.
            if event.unique_id in seen:
                continue
            seen.add(event.unique_id)
            try:
                profiles[event.unique_id] = _checked_profile(event)
            except InvalidEvent as exc:
                log.warning("klaviyo event %s not sendable: %s", event.unique_id, exc)
                outcomes[event.unique_id] = _failed(event, str(exc))
                continue
            ready.append(event)
        if len(ready) == 1:
            self._send_one(ready[0], profiles[ready[0].unique_id], outcomes)
        elif ready:
            entries = {event.unique_id: bulk_entry(event, profiles[event.unique_id]) for event in ready}
            stop: SendOutcome | None = None
            for chunk in _chunks(ready, entries):
                if stop is not None:
                    # Throttled or refused: the next chunks would get the same answer; do not hammer the account.
                    outcomes.update({event.unique_id: replace(stop, unique_id=event.unique_id) for event in chunk})
                    continue
                self._send_bulk(chunk, entries, outcomes)
                last = outcomes[chunk[-1].unique_id]
                if last.auth_failed or last.retry_after is not None:
                    stop = last
        return [outcomes[event.unique_id] for event in events]

    # --- transport -----------------------------------------------------------------------------------------------

    def _pass_gate(self, endpoint: str) -> None:
        if self._gate is not None:
            self._gate(endpoint)

    def _send_one(self, event: EspEvent, profile: dict[str, Any], outcomes: dict[str, SendOutcome]) -> None:
        try:
            body = EventCreateQueryV2.model_validate(create_event_body(event, profile))
        except (ValidationError, InvalidEvent) as exc:
            outcomes[event.unique_id] = _failed(event, f"invalid event: {exc}")
            return
        try:
            self._pass_gate(CREATE_EVENT)
            self._events_api.create_event(body, _request_timeout=self._timeout)
        except RetryableError as exc:
            outcomes[event.unique_id] = _retry(event, str(exc), exc.retry_after)
        except ApiException as exc:
            outcome = _outcome_for_error(event, exc)
            log.warning("klaviyo create_event %s: HTTP %s %s", event.unique_id, exc.status, outcome.error)
            outcomes[event.unique_id] = outcome
        except _TRANSPORT_ERRORS as exc:
            log.warning("klaviyo create_event %s: %s", event.unique_id, _transport_reason(exc))
            outcomes[event.unique_id] = _retry(event, _transport_reason(exc), None)
        else:
            outcomes[event.unique_id] = SendOutcome.ok(event.unique_id)

    def _send_bulk(
        self, events: list[EspEvent], entries: dict[str, dict[str, Any]], outcomes: dict[str, SendOutcome]
    ) -> None:
        if len(events) == 1:
            # One event left: the single endpoint gives its exact error and does not need a job.
            self._send_one(events[0], _entry_profile(entries[events[0].unique_id]), outcomes)
            return
        body = bulk_job_body([entries[event.unique_id] for event in events])
        try:
            self._pass_gate(BULK_CREATE_EVENTS)
            self._post_bulk_job(body)
        except RetryableError as exc:
            for event in events:
                outcomes[event.unique_id] = _retry(event, str(exc), exc.retry_after)
        except ApiException as exc:
            if exc.status in _SPLIT_STATUSES:
                self._isolate_bad_events(events, entries, exc, outcomes)
                return
            log.warning("klaviyo bulk of %d events: HTTP %s", len(events), exc.status)
            for event in events:
                outcomes[event.unique_id] = _outcome_for_error(event, exc)
        except _TRANSPORT_ERRORS as exc:
            reason = _transport_reason(exc)
            log.warning("klaviyo bulk of %d events: %s", len(events), reason)
            for event in events:
                outcomes[event.unique_id] = _retry(event, reason, None)
        else:
            for event in events:
                outcomes[event.unique_id] = SendOutcome.ok(event.unique_id)

    def _post_bulk_job(self, body: dict[str, Any]) -> None:
        """POST /api/event-bulk-create-jobs through the SDK's own client (auth, host, revision, errors).

        The SDK's typed models validate and re-serialize every field of every event in Python, which costs more
        than the whole rest of delivery at 1,000 events a job; the bodies here are built by `bulk_job_body` to
        the same JSON:API shape, so they go to the SDK's client as plain JSON.
        """
        api_client = self._client.api_client
        request = api_client.param_serialize(
            method="POST", resource_path="/api/event-bulk-create-jobs", body=body,
            header_params={"Content-Type": JSON_API, "Accept": JSON_API, "revision": REVISION},
            auth_settings=["Klaviyo-API-Key", "OAuth"])
        response = api_client.call_api(*request, _request_timeout=self._timeout)
        response.read()
        # Raises the SDK's ApiException for 4xx/5xx, exactly as the typed call would.
        api_client.response_deserialize(response_data=response, response_types_map=_BULK_RESPONSE_TYPES)

    def _isolate_bad_events(
        self,
        events: list[EspEvent],
        entries: dict[str, dict[str, Any]],
        exc: ApiException,
        outcomes: dict[str, SendOutcome],
    ) -> None:
        """A bulk job is all-or-nothing; fail only the events Klaviyo pointed at and send the rest again."""
        errors = _errors(exc.body)
        bad: dict[int, list[str]] = {}
        for error in errors:
            match = _BULK_ENTRY_POINTER.match(str((error.get("source") or {}).get("pointer") or ""))
            if match and int(match.group(1)) < len(events):
                bad.setdefault(int(match.group(1)), []).append(_error_text(error))
        if bad:
            for index, details in bad.items():
                event = events[index]
                log.warning("klaviyo rejected event %s in a bulk job: %s", event.unique_id, "; ".join(details))
                outcomes[event.unique_id] = _failed(event, "; ".join(details))
            rest = [event for index, event in enumerate(events) if index not in bad]
            if rest:
                self._send_bulk(rest, entries, outcomes)
            return
        # No usable pointer: halve the batch, so one bad event costs about log2(n) extra requests, not the batch.
        log.info("klaviyo bulk of %d events rejected without a pointer (%s); splitting",
                 len(events), _errors_text(errors) or exc.status)
        middle = len(events) // 2
        self._send_bulk(events[:middle], entries, outcomes)
        self._send_bulk(events[middle:], entries, outcomes)


JSON_API = "application/vnd.api+json"
_BULK_RESPONSE_TYPES: dict[str, str | None] = {"202": None, "4XX": "GetAccounts4XXResponse", "5XX": "GetAccounts4XXResponse"}


# --- request bodies (Klaviyo JSON:API) ----------------------------------------------------------------------------


def create_event_body(event: EspEvent, profile: dict[str, Any]) -> dict[str, Any]:
    """The body of POST /api/events for one event; `profile` comes from `_checked_profile`."""
    attributes = _event_attributes(event)
    attributes["profile"] = {"data": {"type": "profile", "attributes": profile}}
    return {"data": {"type": "event", "attributes": attributes}}


def bulk_entry(event: EspEvent, profile: dict[str, Any]) -> dict[str, Any]:
    """One entry of a bulk create job. One event per entry, so an error pointer names exactly one event."""
    return {
        "type": "event-bulk-create",
        "attributes": {
            "backfill": event.backfill,
            "profile": {"data": {"type": "profile", "attributes": profile}},
            "events": {"data": [{"type": "event", "attributes": _event_attributes(event)}]},
        },
    }


def _entry_profile(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The profile attributes inside a `bulk_entry`, to send its event on its own."""
    return entry["attributes"]["profile"]["data"]["attributes"]


def bulk_job_body(entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The body of POST /api/event-bulk-create-jobs (up to MAX_BULK_EVENTS entries)."""
    return {
        "data": {
            "type": "event-bulk-create-job",
            "attributes": {"events-bulk-create": {"data": list(entries)}},
        }
    }


def _event_attributes(event: EspEvent) -> dict[str, Any]:
    properties = {str(key): json_safe(value) for key, value in event.properties.items()}
    # Stale news: Klaviyo's `backfill` attribute records the event on the timeline without triggering flows (the
    # revision above documents it on both event endpoints). The same flag goes into the properties too, so it is
    # visible on the timeline and usable as a flow filter ("backfill is false") should a flow ever see one.
    properties["backfill"] = event.backfill
    attributes: dict[str, Any] = {
        "properties": properties,
        "time": utc_iso(event.time, seconds=True),
        "unique_id": event.unique_id,
        "backfill": event.backfill,
        "metric": {"data": {"type": "metric", "attributes": {"name": event.metric}}},
    }
    value = properties.get("order_total")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # `value` is what Klaviyo sums in revenue reports and offers as "event value" in flows and segments.
        attributes["value"] = value
        currency = properties.get("currency")
        if isinstance(currency, str) and len(currency) == 3:
            attributes["value_currency"] = currency.upper()
    return attributes


def _profile_attributes(profile: Profile) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if profile.email:
        attributes["email"] = profile.email.strip()
    if profile.phone_number:
        # Klaviyo rejects the whole event for a phone it cannot read; a bad phone is dropped, the event still goes.
        phone = to_e164(profile.phone_number)
        if phone:
            attributes["phone_number"] = phone
        else:
            log.info("dropping a phone number that is not E.164 from a Klaviyo profile")
    if profile.external_id:
        attributes["external_id"] = profile.external_id
    if profile.first_name:
        attributes["first_name"] = profile.first_name
    if profile.last_name:
        attributes["last_name"] = profile.last_name
    if profile.locale:
        # A custom profile property, not the `locale` attribute: that one must be a strict BCP 47 tag and a shop's
        # "de" or "en_US" would get the whole event rejected.
        attributes["properties"] = {"locale": profile.locale}
    return attributes


def _checked_profile(event: EspEvent) -> dict[str, Any]:
    """The event's profile attributes for Klaviyo; raises InvalidEvent when Klaviyo would refuse the event."""
    profile = _profile_attributes(event.profile)  # after dropping a phone number Klaviyo could not read
    if not any(profile.get(key) for key in ("email", "phone_number", "external_id")):
        raise InvalidEvent("the profile has no email, valid phone number or external_id; Klaviyo needs one of them")
    if not event.metric or len(event.metric) >= 128:
        raise InvalidEvent("the metric name must be 1 to 127 characters")
    if not isinstance(event.time, datetime):
        raise InvalidEvent("the event time is not a datetime")
    return profile


def _chunks(events: list[EspEvent], entries: Mapping[str, Mapping[str, Any]]) -> list[list[EspEvent]]:
    """Split into bulk requests of at most MAX_BULK_EVENTS events and about MAX_BULK_PAYLOAD_BYTES."""
    chunks: list[list[EspEvent]] = []
    current: list[EspEvent] = []
    size = 0
    for event in events:
        entry_size = len(json.dumps(entries[event.unique_id], separators=(",", ":")))
        if current and (len(current) >= MAX_BULK_EVENTS or size + entry_size > _BULK_PAYLOAD_BUDGET):
            chunks.append(current)
            current, size = [], 0
        current.append(event)
        size += entry_size + 1
    if current:
        chunks.append(current)
    return chunks


# --- outcomes ------------------------------------------------------------------------------------------------------


def _failed(event: EspEvent, error: str) -> SendOutcome:
    return SendOutcome(unique_id=event.unique_id, permanent=True, error=error)


def _retry(event: EspEvent, error: str, retry_after: float | None) -> SendOutcome:
    # retry_after=None: no hint from Klaviyo, the caller's exponential backoff decides when.
    return SendOutcome(unique_id=event.unique_id, retry_after=retry_after, error=error)


def _outcome_for_error(event: EspEvent, exc: ApiException) -> SendOutcome:
    status = exc.status or 0
    detail = _errors_text(_errors(exc.body)) or f"HTTP {status}"
    if status in (401, 403):
        return SendOutcome(unique_id=event.unique_id, auth_failed=True, error=_auth_message(status, detail))
    if status in _RETRY_STATUSES or status >= 500 or status == 0:
        retry_after = parse_retry_after((exc.headers or {}).get("Retry-After")) if status == 429 else None
        return _retry(event, f"HTTP {status}: {detail}" if status else detail, retry_after)
    return _failed(event, detail)


def _auth_message(status: int, detail: str) -> str:
    if status == 401:
        return f"Klaviyo refused the credentials ({detail}); reconnect the account"
    return (f"Klaviyo denied access ({detail}); the key or app needs the scopes "
            f"{' and '.join(REQUIRED_SCOPES)}")


def _errors(body: str | bytes | None) -> list[dict[str, Any]]:
    """The JSON:API `errors` list of an error answer, or [] when the body is not one."""
    if not body:
        return []
    try:
        parsed = json.loads(body)
    except (TypeError, ValueError):
        return []
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    return [error for error in errors if isinstance(error, dict)] if isinstance(errors, list) else []


def _error_text(error: Mapping[str, Any]) -> str:
    return str(error.get("detail") or error.get("title") or error.get("code") or "rejected")


def _errors_text(errors: list[dict[str, Any]]) -> str:
    return "; ".join(dict.fromkeys(_error_text(error) for error in errors))


def _transport_reason(exc: BaseException) -> str:
    if isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return "timed out waiting for Klaviyo"
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return f"could not reach Klaviyo: {type(exc.reason).__name__}"
    return f"connection to Klaviyo failed: {type(exc).__name__}"


# --- connecting ----------------------------------------------------------------------------------------------------


def _sdk_client(*, api_key: str | None, access_token: str | None, base_url: str) -> KlaviyoAPI:
    if bool(api_key) == bool(access_token):
        raise ValueError("pass exactly one of api_key or access_token")
    # max_retries=0: the SDK would otherwise sleep and retry 429/5xx inside the call, holding a worker; the outbox
    # owns retries and can wait without blocking anyone. The SDK sends "Authorization: Klaviyo-API-Key <key>" or,
    # given access_token, "Authorization: Bearer <token>".
    client = KlaviyoAPI(api_key=api_key or "", access_token=access_token or None, test_host=base_url.rstrip("/"),
                        max_retries=0)
    client.api_client.default_headers["revision"] = REVISION
    return client


def validate_private_key(
    *, api_key: str, base_url: str = DEFAULT_BASE_URL, timeout: float = 10.0
) -> KlaviyoAccount:
    """Check a pasted key before storing it; raise PermanentError with a message for the merchant, or RetryableError.

    PermanentError codes: "public_key", "not_private_key", "auth_failed", "missing_scopes".
    """
    key = (api_key or "").strip()
    if _PUBLIC_KEY.match(key):
        raise PermanentError(
            "This is your public site ID; paste a private API key starting pk_ from Settings > API keys.",
            code="public_key",
        )
    if not key.startswith("pk_") or len(key) < 10:
        raise PermanentError(
            "This does not look like a Klaviyo private API key; paste a key starting pk_ from Settings > API keys.",
            code="not_private_key",
        )
    client = _sdk_client(api_key=key, access_token=None, base_url=base_url)
    return _get_account(client, timeout=float(timeout))


def _get_account(client: KlaviyoAPI, *, timeout: float) -> KlaviyoAccount:
    try:
        answer = client.Accounts.get_accounts(_request_timeout=timeout,
                                              options={USE_DICTIONARY_FOR_RESPONSE_DATA: True})
    except ApiException as exc:
        detail = _errors_text(_errors(exc.body)) or f"HTTP {exc.status}"
        if exc.status == 401 or (exc.status == 400 and "authenticat" in detail.lower()):
            raise PermanentError(
                "Klaviyo does not recognise this key: check you copied the whole private API key "
                f"(Settings > API keys) of the right account. ({detail})",
                code="auth_failed",
            ) from None
        if exc.status == 403:
            raise PermanentError(
                f"This key lacks permissions: give it {' and '.join(REQUIRED_SCOPES)} "
                f"(Settings > API keys > edit the key). ({detail})",
                code="missing_scopes",
            ) from None
        if exc.status == 429 or (exc.status or 0) >= 500 or exc.status == 0:
            retry_after = parse_retry_after((exc.headers or {}).get("Retry-After")) if exc.status == 429 else None
            raise RetryableError(f"Klaviyo is unavailable (HTTP {exc.status}); try again shortly",
                                 retry_after=retry_after) from None
        raise PermanentError(f"Klaviyo rejected the check: {detail}", code="permanent") from None
    except _TRANSPORT_ERRORS as exc:
        raise RetryableError(f"{_transport_reason(exc)}; try again shortly") from None
    return _parse_account(answer)


def _parse_account(answer: Any) -> KlaviyoAccount:
    data = answer.get("data") if isinstance(answer, dict) else None
    first = data[0] if isinstance(data, list) and data else data
    if not isinstance(first, dict) or not first.get("id"):
        raise PermanentError("Klaviyo answered without an account", code="permanent")
    attributes = first.get("attributes") or {}
    contact = attributes.get("contact_information") or {}
    name = contact.get("organization_name") or contact.get("default_sender_name") or str(first["id"])
    return KlaviyoAccount(
        id=str(first["id"]),
        name=str(name),
        public_api_key=attributes.get("public_api_key"),
        test_account=bool(attributes.get("test_account", False)),
    )
