"""Fixtures for the ESP adapter tests: a fake Klaviyo, a signed-webhook receiver and event factories."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any, Iterator

import pytest

from integrations.esp.base import Esp, EspEvent, Profile, SendOutcome
from tests.fakes.klaviyo import FakeKlaviyo

_ids = itertools.count(1)


@pytest.fixture
def fake_klaviyo() -> Iterator[FakeKlaviyo]:
    with FakeKlaviyo() as fake:
        yield fake


def _make_event(
    *,
    unique_id: str | None = None,
    metric: str = "Order Shipped",
    email: str | None = "ada@example.com",
    phone: str | None = "+4915123456789",
    backfill: bool = False,
    properties: dict[str, Any] | None = None,
) -> EspEvent:
    number = next(_ids)
    return EspEvent(
        unique_id=unique_id or f"store-1:shipment-{number}:{metric}",
        metric=metric,
        time=datetime(2025, 6, 2, 9, 30, 15, 250000, tzinfo=timezone.utc),
        properties=properties if properties is not None else {
            "order_number": f"#10{number}",
            "order_total": 59.9,
            "currency": "EUR",
            "carrier": "dhl",
            "tracking_number": f"00340434161094{number:06d}",
            "tracking_page_url": f"https://track.example.com/s/{number}",
            "line_items": [{"title": "Rain jacket", "sku": "RJ-1", "quantity": 1, "price": 59.9,
                            "image_url": "https://cdn.example.com/rj.jpg"}],
        },
        profile=Profile(email=email, phone_number=phone, external_id=f"shopify:store-1:customer-{number}",
                        first_name="Ada", last_name="Lovelace", locale="de-DE"),
        backfill=backfill,
    )


def _deliver(esp: Esp, events: list[EspEvent], *, rounds: int = 12) -> dict[str, SendOutcome]:
    """What the outbox does, minus the waiting: resend whatever came back as "retry" until it settles."""
    final: dict[str, SendOutcome] = {}
    pending = list(events)
    for _ in range(rounds):
        if not pending:
            break
        outcomes = esp.send(events=pending)
        assert [o.unique_id for o in outcomes] == [e.unique_id for e in pending], "one outcome per event, in order"
        retry = []
        for event, outcome in zip(pending, outcomes):
            assert sum([outcome.accepted, outcome.permanent, outcome.auth_failed]) <= 1, outcome
            if outcome.accepted or outcome.permanent or outcome.auth_failed:
                final[event.unique_id] = outcome
            else:
                retry.append(event)
        pending = retry
    assert not pending, f"still retrying after {rounds} rounds: {[e.unique_id for e in pending]}"
    return final


@pytest.fixture
def make_event() -> Any:
    """Factory for realistic EspEvents; every call gets a new unique_id unless one is given."""
    return _make_event


@pytest.fixture
def deliver() -> Any:
    """A retry loop standing in for the outbox: returns the final outcome per unique_id."""
    return _deliver
