"""Shopify returns: a returns webhook names a return; its tracked parcels become return shipments of the order."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Order, Store
from app.services.fulfillments import merge_fulfillment
from app.services.orders import sync_order
from app.services.tracking import TrackingContext
from integrations.stores.base import WebhookChange

log = logging.getLogger(__name__)


def apply_return(session: Session, *, store: Store, change: WebhookChange, now: datetime, ctx: TrackingContext,
                 adapter: Any) -> None:
    """Fetch the whole return (returns/* bodies carry no tracking, reverse_deliveries/* no order) and merge its
    parcels through the fulfillment path, which fires `Return Label Created` once per new tracking number."""
    found = adapter.fetch_return(return_id=change.return_id)
    if found is None:
        log.info("Shopify return %s of store %s no longer exists", change.return_id, store.id)
        return
    parcel_changes = found.webhook_changes()
    if not parcel_changes:
        return
    # Make sure the order exists before merging: for an unknown order merge_fulfillment would sync the fetched
    # order instead of adding the parcel, and the orders query has no returns, so the return parcel would be lost.
    known = session.scalar(select(Order.id).where(Order.store_id == store.id,
                                                  Order.external_id == found.order_external_id))
    if known is None:
        fetched = adapter.fetch_order(external_id=found.order_external_id)
        if fetched is None:
            log.info("store %s: return %s for unknown order %s and nothing to fetch", store.id, change.return_id,
                     found.order_external_id)
            return
        sync_order(session, store=store, data=fetched, now=now, ctx=ctx)
    for parcel_change in parcel_changes:
        merge_fulfillment(session, store=store, change=parcel_change, now=now, ctx=ctx, adapter=adapter)
