"""Outbox to fake Klaviyo through the real delivery step: faults lose nothing and duplicate nothing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.models import EspConnection, OutboxItem
from app.services.delivery import deliver_due
from app.services.esp_connections import connect_klaviyo_key
from app.services.outbox import enqueue
from app.services.ratelimit import SharedRateLimiter, take
from integrations.errors import RetryableError
from integrations.esp.base import EspEvent, Profile
from tests.app.esp_fixtures import app_config, fake_klaviyo  # noqa: F401
from tests.app.factories import hours, make_order, make_shipment, make_store
from tests.fakes.klaviyo import PRIVATE_KEY


def make_event(unique_id: str) -> EspEvent:
    return EspEvent(unique_id=unique_id, metric="Order Shipped", time=datetime(2026, 11, 23, tzinfo=timezone.utc),
                    properties={"order_number": "#1"}, profile=Profile(email="a@example.com"))


def _outbox(session, runtime, clock, n: int, *, bad: int | None = None):
    store = make_store(session)
    keys = []
    for i in range(n):
        order = make_order(session, store, number=f"#{2000 + i}", placed_at=clock.now - hours(3),
                           email="broken@" if i == bad else f"c{i}@example.com")
        shipment = make_shipment(session, store, order, number=f"JJD{i:010d}", shipped_at=clock.now - hours(1))
        keys.append(enqueue(session, store=store, order=order, shipment=shipment, trigger="Order Shipped",
                            occurred_at=clock.now - hours(1), now=clock.now, app_url=runtime.app_url).key)
    connect_klaviyo_key(session, store=store, key=PRIVATE_KEY, runtime=runtime)
    session.commit()
    return store, keys


def _run(session, runtime, clock, *, rounds: int = 10) -> dict[str, int]:
    totals: dict[str, int] = {}
    for _ in range(rounds):
        counts = deliver_due(session, esp_for=runtime.esp, now=clock.now, limit=500)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        clock.advance(hours=2)  # past any Retry-After and backoff
    return totals


def test_faults_lose_nothing_and_duplicate_nothing(session, runtime, clock, fake_klaviyo):
    _, keys = _outbox(session, runtime, clock, 40)
    fake_klaviyo.inject("429", retry_after="30")
    fake_klaviyo.inject("500")
    fake_klaviyo.inject("drop")  # Klaviyo stored the batch, the answer never came
    fake_klaviyo.inject("500")
    totals = _run(session, runtime, clock)
    assert totals["failed"] == 0 and totals["sent"] == 40
    assert set(fake_klaviyo.events) == set(keys)  # zero lost, and nothing else arrived
    assert {e["metric"] for e in fake_klaviyo.events.values()} == {"Order Shipped"}
    assert {row.state for row in session.scalars(select(OutboxItem))} == {"sent"}
    assert len(fake_klaviyo.event_requests()) == 5  # four faults, then one bulk request for all 40


def test_retry_after_is_honoured(session, runtime, clock, fake_klaviyo):
    _outbox(session, runtime, clock, 3)
    fake_klaviyo.inject("429", retry_after="120")
    assert deliver_due(session, esp_for=runtime.esp, now=clock.now)["retry"] == 3
    row = session.scalars(select(OutboxItem)).first()
    assert (row.next_attempt_at - clock.now).total_seconds() == 120


def test_bulk_batch_with_one_bad_event(session, runtime, clock, fake_klaviyo):
    _, keys = _outbox(session, runtime, clock, 12, bad=5)
    totals = _run(session, runtime, clock, rounds=2)
    assert totals["sent"] == 11 and totals["failed"] == 1
    failed = session.scalar(select(OutboxItem).where(OutboxItem.state == "failed"))
    assert failed.key == keys[5] and "email" in failed.last_error.lower()
    assert set(fake_klaviyo.events) == set(keys) - {keys[5]}


def test_401_pauses_and_reconnecting_resumes(session, runtime, clock, fake_klaviyo):
    store, keys = _outbox(session, runtime, clock, 4)
    fake_klaviyo.private_keys.pop(PRIVATE_KEY)  # the merchant revoked the key in Klaviyo
    deliver_due(session, esp_for=runtime.esp, now=clock.now)
    connection = session.scalar(select(EspConnection))
    assert connection.status == "paused" and "reconnect" in connection.paused_reason
    clock.advance(hours=2)
    assert deliver_due(session, esp_for=runtime.esp, now=clock.now)["held"] == 4
    new_key = "pk_test_new_0123456789abcdef01234567"
    fake_klaviyo.private_keys[new_key] = {"accounts:read", "events:write"}
    connect_klaviyo_key(session, store=store, key=new_key, runtime=runtime)
    session.commit()
    assert deliver_due(session, esp_for=runtime.esp, now=clock.now)["sent"] == 4  # due at once, no waiting
    assert set(fake_klaviyo.events) == set(keys)


def test_shared_limiter_holds_the_account_to_its_burst(runtime, clock):
    waits: list[float] = []
    gate = SharedRateLimiter(runtime.db.engine, clock=clock, max_wait=0.5, sleep=waits.append).gate("klaviyo:acct:key")
    for _ in range(10):
        gate("bulk_create_events")  # 10 per second allowed
    try:
        gate("bulk_create_events")
    except RetryableError as exc:
        assert 0 < exc.retry_after <= 1.0
    else:
        raise AssertionError("the 11th bulk request in one second must wait")
    clock.advance(seconds=1)
    gate("bulk_create_events")


def test_throttled_events_wait_in_the_outbox(session, runtime, clock, fake_klaviyo):
    _outbox(session, runtime, clock, 2)
    clock.advance(seconds=30)
    for _ in range(150):  # other workers used up this minute's bulk quota for the account
        take(runtime.db.engine, key=f"klaviyo:{fake_klaviyo.account_id}:key:bulk_create_events:m", limit=150,
             length=timedelta(minutes=1), now=clock.now)
    counts = deliver_due(session, esp_for=runtime.esp, now=clock.now)
    assert counts["retry"] == 2 and not fake_klaviyo.event_requests()
    row = session.scalars(select(OutboxItem)).first()
    assert (row.next_attempt_at - clock.now).total_seconds() == 30  # until the minute window ends
