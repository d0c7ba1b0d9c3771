"""Data retention: carrier events and answers, sent payloads and processed webhook bodies past the window, in batches."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from app.models import InboxItem, OutboxItem, Shipment, Store, TrackingEventRecord
from app.models.inbox import InboxState
from app.models.outbox import OutboxState
from app.services.store_settings import DEFAULT_RETENTION_DAYS, RETENTION_DAYS
from integrations.status import ShipmentStatus

log = logging.getLogger(__name__)
FINISHED = (ShipmentStatus.DELIVERED.value, ShipmentStatus.RETURNED_TO_SENDER.value)


def retention_days(store: Store) -> int:
    try:
        return max(int(store.setting(RETENTION_DAYS, DEFAULT_RETENTION_DAYS)), 1)
    except (TypeError, ValueError):
        return DEFAULT_RETENTION_DAYS


def purge_batch(session: Session, *, now: datetime, limit: int) -> dict[str, int]:
    """One batch: up to `limit` finished parcels older than their store's window lose their events and payloads.

    The shipment row itself stays (the order and the analytics still count it); outbox rows that are still pending
    are never touched. Each call is one short transaction, so the job never holds long locks on busy tables.
    """
    totals = {"shipments": 0, "events": 0, "outbox": 0, "inbox": 0, "purged": 0}
    remaining = limit
    for store in session.scalars(select(Store).order_by(Store.id)):
        if remaining <= 0:
            break
        cutoff = now - timedelta(days=retention_days(store))
        # Raw webhook bodies (names, addresses) of processed deliveries; pending ones are still work to do.
        old_inbox = select(InboxItem.id).where(InboxItem.store_id == store.id, InboxItem.state != InboxState.PENDING,
                                               InboxItem.received_at < cutoff).limit(remaining)
        inbox = session.execute(delete(InboxItem).where(InboxItem.id.in_(old_inbox.scalar_subquery())),
                                execution_options={"synchronize_session": False}).rowcount or 0
        totals["inbox"] += inbox
        totals["purged"] += inbox
        remaining -= inbox
        if remaining <= 0:
            break
        has_data = or_(exists().where(TrackingEventRecord.shipment_id == Shipment.id),
                       exists().where(OutboxItem.shipment_id == Shipment.id, OutboxItem.state != OutboxState.PENDING))
        ids = list(session.scalars(select(Shipment.id).where(
            Shipment.store_id == store.id, Shipment.status.in_(FINISHED), Shipment.next_poll_at.is_(None),
            func.coalesce(Shipment.delivered_at, Shipment.last_event_at, Shipment.shipped_at) < cutoff, has_data)
            .order_by(Shipment.id).limit(remaining)))
        if not ids:
            continue
        totals["events"] += session.execute(delete(TrackingEventRecord).where(
            TrackingEventRecord.shipment_id.in_(ids))).rowcount or 0
        totals["outbox"] += session.execute(delete(OutboxItem).where(
            OutboxItem.shipment_id.in_(ids), OutboxItem.state != OutboxState.PENDING)).rowcount or 0
        session.execute(update(Shipment).where(Shipment.id.in_(ids)).values(raw_payload=None),
                        execution_options={"synchronize_session": False})
        totals["shipments"] += len(ids)
        totals["purged"] += len(ids)
        remaining -= len(ids)
        log.info("retention: store %s purged %d parcels finished before %s", store.id, len(ids), cutoff.date())
    return totals
