"""Every dashboard and tracking page runs a small, constant number of SQL statements, whatever the store's size."""
from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, insert, select

from app.models import Order, OutboxItem, Shipment, TrackingEventRecord
from tests.app.factories import make_store

STATUSES = ("label_created", "in_transit", "out_for_delivery", "delivered", "failed_attempt", "exception", "ready_for_pickup")


def _bulk_seed(session, store, *, count: int, now) -> None:
    """`count` orders, one parcel each, two carrier events and one sent event per parcel: bulk INSERTs, no ORM loop."""
    start = session.scalar(select(Order.id).order_by(Order.id.desc()).limit(1)) or 0
    session.execute(insert(Order), [dict(
        store_id=store.id, external_id=f"P{start + i}", number=f"#{50000 + start + i}", placed_at=now - timedelta(hours=i % 500 + 2),
        remote_updated_at=now, email=f"shopper{i}@example.com", locale="de-DE", currency="EUR", total=Decimal("10.00"),
        line_items=[{"id": "1", "title": "Tee", "quantity": 1, "price": 10}], shipping_country=("DE", "AT", "FR")[i % 3],
        shipping_postcode="20095", fulfillment_check_at=None) for i in range(count)])
    order_ids = list(session.scalars(select(Order.id).where(Order.store_id == store.id, Order.id > start).order_by(Order.id)))
    rows = []
    for i, order_id in enumerate(order_ids):
        status = STATUSES[i % len(STATUSES)]
        shipped = now - timedelta(hours=i % 300 + 5)
        rows.append(dict(store_id=store.id, order_id=order_id, fulfillment_external_id=f"F{order_id}", tracking_number=f"PERF{order_id:08d}",
                         carrier_code=("dhl", "ups", "sandbox")[i % 3], carrier_name="x", status=status, shipped_at=shipped,
                         delivered_at=shipped + timedelta(hours=30 + i % 40) if status == "delivered" else None,
                         last_event_at=shipped + timedelta(hours=3), tracking_token=secrets.token_urlsafe(16), line_item_ids=[],
                         delay_open=i % 11 == 0))
    session.execute(insert(Shipment), rows)
    shipments = session.execute(select(Shipment.id, Shipment.order_id, Shipment.shipped_at).where(Shipment.order_id.in_(order_ids))).all()
    session.execute(insert(TrackingEventRecord), [dict(shipment_id=sid, fingerprint=f"{sid}-{n}", occurred_at=at + timedelta(hours=n + 1),
                                                       utc_offset_minutes=60, status="in_transit", description="Hub scan")
                                                  for sid, _oid, at in shipments for n in range(2)])
    session.execute(insert(OutboxItem), [dict(key=f"{store.id}:{sid}:Order Shipped", store_id=store.id, order_id=oid, shipment_id=sid,
                                              trigger="Order Shipped", occurred_at=at, payload={"profile": {"email": "x"}, "properties": {}},
                                              state="sent", sent_at=at, created_at=at, next_attempt_at=at)
                                         for sid, oid, at in shipments])
    session.commit()


@pytest.fixture
def statements(runtime):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            seen.append(statement)
    event.listen(runtime.db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(runtime.db.engine, "before_cursor_execute", count)


def _pages(store_id: int, shipment_id: int, token: str) -> dict[str, str]:
    return {
        "overview": f"/?store={store_id}",
        "shipments": f"/shipments?store={store_id}",
        "shipments page 3": f"/shipments?store={store_id}&page=3",
        "shipments filtered": f"/shipments?store={store_id}&problem=any&carrier=dhl&q=example",
        "shipment": f"/shipments/{shipment_id}",
        "events": f"/events?store={store_id}&trigger=Order+Shipped",
        "analytics": f"/analytics?store={store_id}",
        "settings": f"/settings?store={store_id}",
        "tracking page": f"/t/{token}",
    }


def _count_per_page(client, statements, session, store) -> dict[str, int]:
    shipment = session.scalars(select(Shipment).where(Shipment.store_id == store.id).order_by(Shipment.id)).first()
    counts = {}
    for name, path in _pages(store.id, shipment.id, shipment.tracking_token).items():
        statements.clear()
        response = client.get(path)
        assert response.status_code == 200, path
        counts[name] = len(statements)
    return counts


def test_statement_count_is_small_and_constant_with_thousands_of_shipments(client, session, clock, statements):
    store = make_store(session)
    session.commit()
    _bulk_seed(session, store, count=60, now=clock.now)
    small = _count_per_page(client, statements, session, store)
    _bulk_seed(session, store, count=3000, now=clock.now)
    assert session.scalar(select(Shipment.id).where(Shipment.store_id == store.id).offset(3000).limit(1)) is not None
    large = _count_per_page(client, statements, session, store)
    assert large == small, (small, large)  # no statement per row: N+1 would grow with the page's rows
    assert max(large.values()) <= 15, large
