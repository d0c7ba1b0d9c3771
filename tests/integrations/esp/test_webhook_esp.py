"""SignedWebhookEsp against a loopback receiver that verifies the signature the way merchants are told to."""
from __future__ import annotations

import json
import time
from typing import Any, Iterator

import pytest

from integrations.esp.base import Esp
from integrations.esp.webhook import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignedWebhookEsp,
    sign,
    verify_signature,
)
from tests.fakes.http import FakeService, Request, Response, route

SECRET = "whsec_test_2f1c"


class Receiver(FakeService):
    """A merchant endpoint: rejects bad signatures with 401, deduplicates on the event id header."""

    def __init__(self) -> None:
        super().__init__()
        self.received: dict[str, dict[str, Any]] = {}
        self.deliveries = 0

    @route("POST", "/hooks/parcels")
    def hook(self, request: Request) -> Response:
        if not verify_signature(secret=SECRET, body=request.body, timestamp=request.header(TIMESTAMP_HEADER),
                                signature=request.header(SIGNATURE_HEADER)):
            return Response.json({"error": "bad signature"}, status=401)
        self.deliveries += 1
        self.received.setdefault(request.header(EVENT_ID_HEADER) or "", json.loads(request.body))
        return Response(status=204)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as fake:
        yield fake


def esp_for(receiver: Receiver, *, secret: str = SECRET, timeout: float = 2.0) -> SignedWebhookEsp:
    return SignedWebhookEsp(url=f"{receiver.base_url}/hooks/parcels", secret=secret, timeout=timeout)


def test_satisfies_the_esp_protocol(receiver: Receiver) -> None:
    esp = esp_for(receiver)
    assert isinstance(esp, Esp) and esp.code == "webhook"
    assert SECRET not in repr(esp)


def test_event_is_posted_signed_with_its_id(receiver: Receiver, make_event: Any) -> None:
    event = make_event(backfill=True)
    [outcome] = esp_for(receiver).send(events=[event])

    assert outcome.accepted
    [request] = receiver.requests
    assert request.header(EVENT_ID_HEADER) == event.unique_id
    assert request.header("content-type") == "application/json"
    assert request.header(SIGNATURE_HEADER, "").startswith("sha256=")
    body = receiver.received[event.unique_id]
    assert body["unique_id"] == event.unique_id and body["metric"] == "Order Shipped"
    assert body["time"] == "2025-06-02T09:30:15.250000+00:00" and body["backfill"] is True
    assert body["profile"]["email"] == "ada@example.com" and body["profile"]["locale"] == "de-DE"
    assert body["properties"]["tracking_number"] == event.properties["tracking_number"]


def test_wrong_secret_is_refused_and_pauses_the_connection(receiver: Receiver, make_event: Any) -> None:
    [outcome] = esp_for(receiver, secret="something-else").send(events=[make_event()])
    assert outcome.auth_failed and not outcome.accepted
    assert not receiver.received


@pytest.mark.parametrize(("status", "expect"), [
    (500, "retry"), (503, "retry"), (408, "retry"), (429, "retry"), (400, "permanent"), (404, "permanent"),
    (410, "permanent"), (302, "permanent"),
])
def test_outcomes_by_status(receiver: Receiver, make_event: Any, status: int, expect: str) -> None:
    headers = {"Retry-After": "30"} if status == 429 else {"Location": "https://elsewhere.example"}
    receiver.fail_next(Response.text("nope", status=status, headers=headers))
    [outcome] = esp_for(receiver).send(events=[make_event()])
    assert not outcome.accepted
    if expect == "retry":
        assert not outcome.permanent and outcome.retry_after == (30.0 if status == 429 else None)
    else:
        assert outcome.permanent and str(status) in (outcome.error or "")


@pytest.mark.parametrize("fault", [Response(status=200, delay=1.0), Response(drop=True)], ids=["timeout", "drop"])
def test_timeouts_and_dropped_connections_retry_without_duplicates(
    receiver: Receiver, make_event: Any, deliver: Any, fault: Response
) -> None:
    events = [make_event() for _ in range(3)]
    receiver.fail_next(fault)
    esp = esp_for(receiver, timeout=0.4)
    first = esp.send(events=events)
    assert not first[0].accepted and not first[0].permanent and first[0].retry_after is None
    final = deliver(esp, events)
    assert all(o.accepted for o in final.values())
    assert set(receiver.received) == {e.unique_id for e in events}


def test_verify_signature_rejects_tampering_replays_and_garbage() -> None:
    body = b'{"unique_id":"u1"}'
    now = int(time.time())
    signature = sign(secret=SECRET, timestamp=str(now), body=body)
    assert verify_signature(secret=SECRET, body=body, timestamp=str(now), signature=signature)
    assert not verify_signature(secret=SECRET, body=body + b" ", timestamp=str(now), signature=signature)
    assert not verify_signature(secret="other", body=body, timestamp=str(now), signature=signature)
    # the timestamp is signed: moving it forward breaks the signature, an old one is out of tolerance
    assert not verify_signature(secret=SECRET, body=body, timestamp=str(now + 1), signature=signature)
    old = str(now - 3600)
    assert not verify_signature(secret=SECRET, body=body, timestamp=old,
                                signature=sign(secret=SECRET, timestamp=old, body=body))
    assert not verify_signature(secret=SECRET, body=body, timestamp="yesterday", signature=signature)
    assert not verify_signature(secret=SECRET, body=body, timestamp=None, signature=None)


def test_signature_format_is_documented_hex() -> None:
    value = sign(secret="k", timestamp="1700000000", body=b"{}")
    assert value.startswith("sha256=") and len(value) == len("sha256=") + 64
    int(value.removeprefix("sha256="), 16)
