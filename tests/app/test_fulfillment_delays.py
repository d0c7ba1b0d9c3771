"""Fulfillment Delayed: once per order still unfulfilled N business days after it was placed, via the job."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from app.jobs import delays_tick
from app.models import OutboxItem
from app.services.catalog import Trigger
from app.services.fulfillment_delays import check_fulfillment_delays
from app.services.orders import sync_order
from app.services.tracking import TrackingContext
from integrations.stores.base import LineItem, StoreFulfillment, StoreOrder
from tests.app.factories import make_order, make_shipment, make_store

CTX = TrackingContext(app_url="https://app.example.test", backfill_window_hours=48)
MONDAY = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)


def delayed(session) -> list[OutboxItem]:
    return list(session.scalars(select(OutboxItem).where(OutboxItem.trigger == Trigger.FULFILLMENT_DELAYED)))


def check(session, now: datetime) -> dict[str, int]:
    return check_fulfillment_delays(session, now=now, ctx=CTX)


def test_unfulfilled_order_fires_once_after_two_business_days(session):
    store = make_store(session)
    order = make_order(session, store, placed_at=MONDAY)
    session.commit()
    assert order.fulfillment_check_at == MONDAY
    assert check(session, MONDAY) == {"checked": 1, "delayed": 0}
    assert order.fulfillment_check_at == MONDAY + timedelta(days=2)  # Wednesday, same time
    assert check(session, MONDAY + timedelta(days=1)) == {"checked": 0, "delayed": 0}  # not even looked at
    assert check(session, MONDAY + timedelta(days=2)) == {"checked": 1, "delayed": 1}
    assert check(session, MONDAY + timedelta(days=5)) == {"checked": 0, "delayed": 0}
    [item] = delayed(session)
    assert item.key == f"{store.id}:order-{order.id}:{Trigger.FULFILLMENT_DELAYED}" and item.shipment_id is None
    assert item.payload["properties"]["business_days_unfulfilled"] == 2 and item.backfill is False


def test_weekend_and_holidays_push_the_due_date(session):
    store = make_store(session, fulfillment_delayed_after_business_days=3)
    order = make_order(session, store, placed_at=datetime(2026, 12, 23, 11, tzinfo=timezone.utc))
    session.commit()
    check(session, order.placed_at)
    # Thu 24 counts; Christmas (25, 26) and Sunday do not: Mon 28 and Tue 29 complete the three.
    assert order.fulfillment_check_at == datetime(2026, 12, 29, 11, tzinfo=timezone.utc)


def test_shipped_or_cancelled_orders_never_fire(session):
    store = make_store(session)
    shipped = make_order(session, store, number="#1", placed_at=MONDAY)
    make_shipment(session, store, shipped, shipped_at=MONDAY + timedelta(hours=1))
    cancelled = make_order(session, store, number="#2", placed_at=MONDAY)
    cancelled.cancelled = True
    returned_only = make_order(session, store, number="#3", placed_at=MONDAY)
    make_shipment(session, store, returned_only, number="R3", shipped_at=MONDAY, is_return=True)
    session.commit()
    assert check(session, MONDAY + timedelta(days=7)) == {"checked": 3, "delayed": 1}  # a return is not a shipment
    assert [i.order_id for i in delayed(session)] == [returned_only.id]
    assert shipped.fulfillment_check_at is None and cancelled.fulfillment_check_at is None


def test_fulfilled_without_tracking_counts_as_shipped(session):
    store = make_store(session)
    data = StoreOrder(external_id="77", number="#77", placed_at=MONDAY, updated_at=MONDAY + timedelta(hours=2),
                      currency="EUR", total=Decimal("10"),
                      line_items=(LineItem(external_id="1", title="Gift card", quantity=1, price=Decimal("10")),),
                      fulfillments=(StoreFulfillment(external_id="F1", tracking_number=None, carrier_name=None,
                                                     created_at=MONDAY + timedelta(hours=1)),))
    order = sync_order(session, store=store, data=data, now=MONDAY + timedelta(hours=2), ctx=CTX)
    session.commit()
    assert order.shipments == [] and order.fulfillment_check_at is None
    assert check(session, MONDAY + timedelta(days=7))["delayed"] == 0


def test_an_old_order_found_late_is_recorded_not_announced(session):
    store = make_store(session)
    make_order(session, store, placed_at=MONDAY - timedelta(days=30))
    session.commit()
    check(session, MONDAY)
    [item] = delayed(session)
    assert item.backfill is True


def test_the_delays_job_drains_due_orders(runtime, clock):
    with runtime.db.session() as s:
        store = make_store(s)
        for n in range(3):
            make_order(s, store, number=f"#{n}", placed_at=clock.now)
    assert delays_tick(runtime) == {"checked": 3, "delayed": 0}
    clock.advance(days=2, minutes=1)
    assert delays_tick(runtime) == {"checked": 3, "delayed": 3}
    assert delays_tick(runtime) == {"checked": 0, "delayed": 0}
