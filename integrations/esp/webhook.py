"""Signed webhook output: each event POSTed as JSON to a merchant URL (Zapier, Postscript, Attentive, own code).

Signature scheme, for receivers:

    X-Parcelwise-Timestamp: 1717171717                     (Unix seconds when sent)
    X-Parcelwise-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
    X-Parcelwise-Event-Id:  <unique_id>                    (the same on every retry: deduplicate on it)

The timestamp is inside the signed string so a captured request cannot be replayed later with a new timestamp;
receivers reject timestamps older than a few minutes (`verify_signature` allows 5 by default). Compute the HMAC
over the raw body bytes exactly as received, before any JSON parsing.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any, ClassVar, Sequence

import requests

from integrations.esp.base import EspEvent, SendOutcome
from integrations.esp.jsonsafe import json_safe, utc_iso
from integrations.http_headers import parse_retry_after

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Parcelwise-Signature"
TIMESTAMP_HEADER = "X-Parcelwise-Timestamp"
EVENT_ID_HEADER = "X-Parcelwise-Event-Id"
DEFAULT_TOLERANCE_SECONDS = 300
USER_AGENT = "Parcelwise-Webhook/1"


def event_payload(event: EspEvent) -> dict[str, Any]:
    """The JSON document a receiver gets: the same fields the other ESP outputs send."""
    profile = event.profile
    return {
        "unique_id": event.unique_id,
        "metric": event.metric,
        "time": utc_iso(event.time),
        "backfill": event.backfill,
        "properties": {str(key): json_safe(value) for key, value in event.properties.items()},
        "profile": {
            "email": profile.email,
            "phone_number": profile.phone_number,
            "external_id": profile.external_id,
            "first_name": profile.first_name,
            "last_name": profile.last_name,
            "locale": profile.locale,
        },
    }


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    """The X-Parcelwise-Signature value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(
    *,
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when `signature` matches `body` and `timestamp` is recent; for receivers and tests."""
    if not timestamp or not signature:
        return False
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - sent) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret=secret, timestamp=timestamp, body=body), signature)


class SignedWebhookEsp:
    """POSTs each event to one merchant URL, signed with the connection's secret."""

    code: ClassVar[str] = "webhook"
    max_batch: ClassVar[int] = 1  # one event per request: receivers (Zapier & co.) expect one object per call

    def __init__(self, *, url: str, secret: str, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the webhook URL must be http(s)")
        if not secret:
            raise ValueError("a signing secret is required")
        self._url = url
        self._secret = secret
        self._timeout = float(timeout)
        self._session = session or requests.Session()

    def __repr__(self) -> str:  # never show the secret
        return f"SignedWebhookEsp(url={self._url!r})"

    def send(self, *, events: Sequence[EspEvent]) -> list[SendOutcome]:
        return [self._send_one(event) for event in events]

    def _send_one(self, event: EspEvent) -> SendOutcome:
        body = json.dumps(event_payload(event), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret=self._secret, timestamp=timestamp, body=body),
            EVENT_ID_HEADER: event.unique_id,
        }
        try:
            # No redirects: following one would turn the POST into a GET or send the event somewhere unexpected.
            response = self._session.post(self._url, data=body, headers=headers, timeout=self._timeout,
                                          allow_redirects=False)
        except requests.Timeout:
            log.warning("webhook %s for %s timed out", self._url, event.unique_id)
            return SendOutcome(unique_id=event.unique_id, error="the receiver did not answer in time")
        except requests.RequestException as exc:
            log.warning("webhook %s for %s failed: %s", self._url, event.unique_id, type(exc).__name__)
            return SendOutcome(unique_id=event.unique_id, error=f"could not reach the receiver: {type(exc).__name__}")
        return _outcome(event, response)


def _outcome(event: EspEvent, response: requests.Response) -> SendOutcome:
    status = response.status_code
    if 200 <= status < 300:
        return SendOutcome.ok(event.unique_id)
    reason = f"HTTP {status}: {response.text[:200].strip()}".strip().rstrip(":")
    log.warning("webhook receiver answered %s for %s", status, event.unique_id)
    if status == 429:
        return SendOutcome(unique_id=event.unique_id, retry_after=parse_retry_after(response.headers.get("Retry-After")),
                           error=reason)
    if status >= 500 or status == 408:
        return SendOutcome(unique_id=event.unique_id, error=reason)
    if status in (401, 403):
        # The receiver refused the signature or credentials: pause the connection, the merchant has to fix it.
        return SendOutcome(unique_id=event.unique_id, auth_failed=True, error=reason)
    return SendOutcome(unique_id=event.unique_id, permanent=True, error=reason)
