"""Fulfillment Delayed: an order still unfulfilled N business days after it was placed, announced once."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Order, Store
from app.models.store import StoreStatus
from app.services.catalog import Trigger
from app.services.claims import claim_due
from app.services.delays import DelaySettings, calendar
from app.services.outbox import enqueue, is_stale
from app.services.tracking import TrackingContext

log = logging.getLogger(__name__)


def is_fulfilled(order: Order) -> bool:
    return any(not s.is_return for s in order.shipments)


def check_fulfillment_delays(session: Session, *, now: datetime, ctx: TrackingContext, limit: int = 100,
                             lease: timedelta = timedelta(minutes=5)) -> dict[str, int]:
    """One pass: claim orders whose check is due, announce the late ones, and set the next check for the others.

    Each order is looked at about twice: when it arrives (placed_at), and again when its N business days are over;
    shipping, cancelling or announcing clears `fulfillment_check_at`, which takes it out of the partial index.
    """
    claimed = claim_due(session, model=Order, due_column=Order.fulfillment_check_at, now=now, limit=limit, lease=lease)
    counts = {"checked": len(claimed), "delayed": 0}
    if not claimed:
        return counts
    orders = list(session.scalars(select(Order).where(Order.id.in_([o.id for o in claimed]))
                                  .options(selectinload(Order.shipments))))
    stores = {s.id: s for s in session.scalars(select(Store).where(Store.id.in_({o.store_id for o in orders})))}
    for order in orders:
        store = stores[order.store_id]
        if order.cancelled or is_fulfilled(order) or store.status == StoreStatus.UNINSTALLED:
            order.fulfillment_check_at = None
            continue
        settings = DelaySettings.for_store(store)
        cal = calendar(store, order, settings)
        due = cal.add(order.placed_at, settings.fulfillment_days)
        if due > now:
            order.fulfillment_check_at = due  # the threshold may change meanwhile; it is re-read then
            continue
        # An order imported long after its threshold (first sync of a store's history) is recorded, not announced.
        backfill = is_stale(due, now=now, store=store, default_hours=ctx.backfill_window_hours)
        item = enqueue(session, store=store, order=order, shipment=None, trigger=Trigger.FULFILLMENT_DELAYED,
                       occurred_at=now if not backfill else due, now=now, app_url=ctx.app_url, backfill=backfill,
                       extra={"business_days_unfulfilled": int(cal.elapsed(order.placed_at, now)),
                              "placed_at": order.placed_at.isoformat()})
        order.fulfillment_check_at = None
        counts["delayed"] += item is not None
    session.commit()
    return counts

