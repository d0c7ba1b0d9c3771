"""The retention job: old finished parcels lose their carrier events and sent payloads, in batches; nothing else does."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.jobs import STEPS, retention_tick
from app.models import OutboxItem, Shipment, TrackingEventRecord
from app.services.catalog import Trigger
from app.services.retention import purge_batch
from tests.app.dashboard_support import add_event, parcel, sent_event
from tests.app.factories import hours, make_store


def _count(session, model, shipment) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.shipment_id == shipment.id))


def test_old_delivered_parcels_are_purged_recent_and_open_ones_kept(runtime, session, clock):
    store = make_store(session, retention_days=30)
    old = parcel(session, store, number="OLD-1", order_number="#1", shipped_at=clock.now - timedelta(days=40))
    add_event(session, old, at=clock.now - timedelta(days=38), status="delivered", text="Delivered")
    old.raw_payload = {"carrier": "answer"}
    sent_event(session, store, old, trigger=Trigger.DELIVERED, at=clock.now - timedelta(days=38))
    pending = sent_event(session, store, old, trigger=Trigger.ORDER_SHIPPED, at=clock.now - timedelta(days=38), state="pending")
    recent = parcel(session, store, number="NEW-1", order_number="#2", shipped_at=clock.now - timedelta(days=5))
    add_event(session, recent, at=clock.now - timedelta(days=4), status="delivered", text="Delivered")
    moving = parcel(session, store, number="MOV-1", order_number="#3", shipped_at=clock.now - timedelta(days=60),
                    status="in_transit")
    session.commit()

    assert retention_tick(runtime)["shipments"] == 1
    session.expire_all()
    assert _count(session, TrackingEventRecord, old) == 0 and session.get(Shipment, old.id).raw_payload is None
    assert [i.id for i in session.scalars(select(OutboxItem).where(OutboxItem.shipment_id == old.id))] == [pending.id]
    assert _count(session, TrackingEventRecord, recent) == 1 and _count(session, TrackingEventRecord, moving) == 1
    assert retention_tick(runtime).get("shipments", 0) == 0  # nothing left to do
    assert "retention" in STEPS


def test_purge_works_in_batches(runtime, session, clock):
    store = make_store(session, retention_days=7)
    for i in range(5):
        shipment = parcel(session, store, number=f"B-{i}", order_number=f"#{i}", shipped_at=clock.now - timedelta(days=20))
        add_event(session, shipment, at=clock.now - timedelta(days=19) + hours(i), status="delivered", text="Delivered")
    session.commit()
    assert purge_batch(session, now=clock.now, limit=2)["shipments"] == 2
    session.commit()
    assert session.scalar(select(func.count()).select_from(TrackingEventRecord)) == 3
