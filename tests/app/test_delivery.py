"""The delivery step: retry later on 429/5xx, fail visibly on validation errors, pause on auth, replay, no double send."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import EspConnection, OutboxItem
from app.services.delivery import deliver_due
from app.services.outbox import enqueue, replay
from integrations.esp.base import SendOutcome
from tests.app.esp_doubles import ScriptedEsp
from tests.app.factories import hours, make_order, make_shipment, make_store


def _rows(session, clock, n=3):
    store = make_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(2))
    items = []
    for i in range(n):
        shipment = make_shipment(session, store, order, number=f"N{i}", shipped_at=clock.now - hours(1))
        items.append(enqueue(session, store=store, order=order, shipment=shipment, trigger="Order Shipped",
                             occurred_at=shipment.shipped_at, now=clock.now, app_url="https://x.test"))
    session.commit()
    return store, items


def test_accepted_rows_are_sent_once(session, clock):
    _, items = _rows(session, clock)
    esp = ScriptedEsp()
    assert deliver_due(session, esp_for=lambda c: esp, now=clock.now)["sent"] == 3
    assert deliver_due(session, esp_for=lambda c: esp, now=clock.now + hours(1))["sent"] == 0
    assert sorted(esp.accepted) == sorted(i.key for i in items)
    assert {i.delivered_via for i in session.scalars(select(OutboxItem))} == {"console"}


def test_rate_limited_rows_wait_for_retry_after_then_go(session, clock):
    _rows(session, clock, n=2)
    limited = ScriptedEsp(lambda e: SendOutcome(unique_id=e.unique_id, retry_after=30, error="429 Too Many Requests"))
    counts = deliver_due(session, esp_for=lambda c: limited, now=clock.now)
    assert counts["retry"] == 2
    ok = ScriptedEsp()
    assert deliver_due(session, esp_for=lambda c: ok, now=clock.now + timedelta(seconds=29))["sent"] == 0
    assert deliver_due(session, esp_for=lambda c: ok, now=clock.now + timedelta(seconds=31))["sent"] == 2


def test_server_errors_back_off_and_nothing_is_dropped(session, clock):
    _rows(session, clock, n=2)
    down = ScriptedEsp(lambda e: SendOutcome(unique_id=e.unique_id, error="503 Service Unavailable"))
    later = clock.now
    for _ in range(4):
        deliver_due(session, esp_for=lambda c: down, now=later)
        later += hours(2)
    pending = list(session.scalars(select(OutboxItem)))
    assert {p.state for p in pending} == {"pending"} and {p.attempts for p in pending} == {4}
    ok = ScriptedEsp()
    deliver_due(session, esp_for=lambda c: ok, now=later + hours(2))
    assert len(ok.accepted) == 2


def test_adapter_exception_keeps_rows(session, clock):
    _rows(session, clock, n=1)

    class Broken(ScriptedEsp):
        def send(self, *, events):
            raise ConnectionError("connection reset")

    counts = deliver_due(session, esp_for=lambda c: Broken(), now=clock.now)
    assert counts["retry"] == 1
    assert "connection reset" in session.scalar(select(OutboxItem.last_error))


def test_validation_error_fails_visibly_and_can_be_replayed(session, clock):
    _, items = _rows(session, clock, n=2)
    bad_key = items[0].key
    esp = ScriptedEsp(lambda e: SendOutcome(unique_id=e.unique_id, permanent=True, error="profile: invalid email")
                      if e.unique_id == bad_key else SendOutcome.ok(e.unique_id))
    counts = deliver_due(session, esp_for=lambda c: esp, now=clock.now)
    assert counts == {"sent": 1, "retry": 0, "failed": 1, "held": 0}
    failed = session.scalar(select(OutboxItem).where(OutboxItem.key == bad_key))
    assert failed.state == "failed" and failed.last_error == "profile: invalid email"
    replay(session, item_id=failed.id, now=clock.now)
    session.commit()
    ok = ScriptedEsp()
    assert deliver_due(session, esp_for=lambda c: ok, now=clock.now)["sent"] == 1
    assert ok.accepted == [bad_key]


def test_replaying_a_sent_row_is_refused(session, clock):
    _, items = _rows(session, clock, n=1)
    deliver_due(session, esp_for=lambda c: ScriptedEsp(), now=clock.now)
    import pytest

    with pytest.raises(ValueError):
        replay(session, item_id=items[0].id, now=clock.now)


def test_auth_failure_pauses_the_connection_and_holds_rows(session, clock):
    store, _ = _rows(session, clock, n=2)
    session.add(EspConnection(store_id=store.id, provider="klaviyo", status="active"))
    session.commit()
    denied = ScriptedEsp(lambda e: SendOutcome(unique_id=e.unique_id, auth_failed=True, error="401: invalid API key"))
    deliver_due(session, esp_for=lambda c: denied, now=clock.now)
    connection = session.scalar(select(EspConnection))
    assert connection.status == "paused" and "invalid API key" in connection.paused_reason
    ok = ScriptedEsp()
    counts = deliver_due(session, esp_for=lambda c: ok, now=clock.now + hours(2))
    assert counts["held"] == 2 and ok.calls == 0
    assert {i.state for i in session.scalars(select(OutboxItem))} == {"pending"}
