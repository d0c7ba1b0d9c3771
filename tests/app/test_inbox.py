"""The inbox: deliveries are stored once, processed later, malformed ones kept and not retried, stale ones ignored."""
from __future__ import annotations

import json
import random

from sqlalchemy import select

from app.jobs import inbox_tick
from app.models import InboxItem, Order, OutboxItem, Shipment
from app.services.inbox import store_delivery
from app.services.sandbox import sandbox_store
from integrations.stores.sandbox import generate_order


def _deliver(session, store, payload, clock, topic="orders/create", key=None):
    return store_delivery(session, source="sandbox", topic=topic, dedupe_key=key or f"{payload['id']}:{payload['updated_at']}",
                          body=json.dumps(payload).encode(), store_id=store.id, now=clock.now)


def test_duplicate_delivery_is_stored_once(runtime, session, clock):
    store = sandbox_store(session)
    payload = generate_order(rng=random.Random(1), number=5001, now=clock.now)
    assert _deliver(session, store, payload, clock) is True
    assert _deliver(session, store, payload, clock) is False
    session.commit()
    inbox_tick(runtime)
    assert session.scalar(select(Order.number)) == "#5001"
    shipped = session.scalars(select(OutboxItem.trigger)).all()
    assert shipped and set(shipped) == {"Order Shipped"} and len(shipped) == len(payload["fulfillments"])


def test_malformed_delivery_is_kept_as_failed_and_not_retried(runtime, session, clock):
    store = sandbox_store(session)
    store_delivery(session, source="sandbox", topic="orders/create", dedupe_key="bad", body=b"{not json", store_id=store.id,
                   now=clock.now)
    session.commit()
    counts = inbox_tick(runtime)
    item = session.scalar(select(InboxItem))
    assert counts["failed"] == 1 and item.state == "failed" and "malformed" in item.last_error
    clock.advance(hours=3)
    assert inbox_tick(runtime) == {"done": 0, "failed": 0, "retry": 0}


def test_older_update_arriving_late_is_ignored(runtime, session, clock):
    store = sandbox_store(session)
    payload = generate_order(rng=random.Random(2), number=5002, now=clock.now, fulfilled=False)
    newer = dict(payload, updated_at=clock.now.isoformat(), customer=dict(payload["customer"], email="new@example.com"))
    older = dict(payload, updated_at=(clock.now.replace(hour=1)).isoformat(), customer=dict(payload["customer"], email="old@example.com"))
    _deliver(session, store, newer, clock)
    session.commit()
    inbox_tick(runtime)
    _deliver(session, store, older, clock, topic="orders/updated")
    session.commit()
    inbox_tick(runtime)
    session.expire_all()
    assert session.scalar(select(Order.email)) == "new@example.com"


def test_new_tracking_number_on_update_ships_once(runtime, session, clock):
    from integrations.stores.sandbox import ship

    store = sandbox_store(session)
    payload = generate_order(rng=random.Random(3), number=5003, now=clock.now, fulfilled=False)
    _deliver(session, store, payload, clock)
    session.commit()
    inbox_tick(runtime)
    assert session.scalar(select(Shipment.id)) is None
    clock.advance(minutes=10)
    shipped = ship(payload, rng=random.Random(3), now=clock.now)
    _deliver(session, store, shipped, clock, topic="orders/updated")
    _deliver(session, store, shipped, clock, topic="orders/updated", key="redelivered-with-another-id")
    session.commit()
    inbox_tick(runtime)
    assert len(session.scalars(select(Shipment)).all()) == len(shipped["fulfillments"])
    assert len(session.scalars(select(OutboxItem)).all()) == len(shipped["fulfillments"])
