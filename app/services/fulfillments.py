"""Fulfillment-only deliveries (Shopify's fulfillments/*): merge the parcel into its order, fetching unknown orders."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Order, Store
from app.services.orders import _new_shipment, sync_order
from app.services.tracking import TrackingContext, record_fulfillment
from integrations.stores.base import WebhookChange

log = logging.getLogger(__name__)


def merge_fulfillment(session: Session, *, store: Store, change: WebhookChange, now: datetime, ctx: TrackingContext,
                      adapter: Any = None) -> Order | None:
    """Add the delivery's parcel to the order we know; an order we have not seen is fetched whole instead."""
    fulfillment = change.fulfillment
    assert fulfillment is not None
    order = session.scalar(select(Order).where(Order.store_id == store.id,
                                               Order.external_id == change.order_external_id))
    if order is None:
        fetch = getattr(adapter, "fetch_order", None)
        fetched = fetch(external_id=change.order_external_id) if fetch is not None else None
        if fetched is None:
            log.info("store %s: fulfillment for unknown order %s and nothing to fetch", store.id,
                     change.order_external_id)
            return None
        return sync_order(session, store=store, data=fetched, now=now, ctx=ctx)
    shipments = {(s.fulfillment_external_id, s.tracking_number): s for s in order.shipments}
    if fulfillment.status == "cancelled":
        for (external_id, _number), shipment in shipments.items():
            if external_id == fulfillment.external_id and shipment.next_poll_at is not None:
                shipment.next_poll_at = None
                shipment.tracking_stopped_reason = "fulfillment_cancelled"
        return order
    number = (fulfillment.tracking_number or "").strip()
    if not number or (fulfillment.external_id, number) in shipments:
        return order  # no number yet, or a repeat: orders/updated carries any further parcels
    shipment = _new_shipment(store, order, fulfillment, now)
    order.shipments.append(shipment)
    session.flush()
    record_fulfillment(session, store=store, order=order, shipment=shipment, now=now, ctx=ctx)
    return order
