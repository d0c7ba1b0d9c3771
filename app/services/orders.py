"""Store orders into our rows: upsert orders and their shipments, ignoring stale updates, firing `Order Shipped`."""
from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Order, Shipment, Store
from app.services.tracking import TrackingContext, record_fulfillment
from integrations.carriers import CARRIERS
from integrations.stores.base import StoreFulfillment, StoreOrder

log = logging.getLogger(__name__)


def resolve_carrier(*, carrier_name: str | None, tracking_number: str) -> str | None:
    """Our carrier code for a store's carrier string and number; None when no adapter can track it."""
    name = (carrier_name or "").strip().lower()
    for code, cls in CARRIERS.items():
        if name in (code, str(getattr(cls, "name", "")).lower()):
            return code
    try:
        from integrations.carriers.detection import detect_carrier
    except ImportError:  # detection ships with the real carrier adapters
        return None
    code = detect_carrier(carrier_name=carrier_name, tracking_number=tracking_number)
    return code if code in CARRIERS else None


def _upsert_order_row(session: Session, store: Store, data: StoreOrder) -> tuple[Order, bool]:
    order = session.scalar(select(Order).where(Order.store_id == store.id, Order.external_id == data.external_id))
    if order is not None and data.updated_at < order.remote_updated_at:
        return order, False  # a late, out-of-order delivery of an older version: keep what we have
    if order is None:
        order = Order(store_id=store.id, external_id=data.external_id)
        session.add(order)
    order.number = data.number
    order.placed_at = data.placed_at
    order.remote_updated_at = data.updated_at
    order.customer_id = data.customer_id
    order.email = data.email
    order.phone = data.phone
    order.first_name = data.first_name
    order.last_name = data.last_name
    order.locale = data.locale
    order.currency = data.currency
    order.total = data.total
    order.line_items = [item.to_json() for item in data.line_items]
    order.order_url = data.order_url
    order.shipping_country = data.shipping_address.country_code
    order.shipping_postcode = data.shipping_address.postcode
    order.cancelled = data.cancelled
    return order, True


def _new_shipment(store: Store, order: Order, fulfillment: StoreFulfillment, now: datetime) -> Shipment:
    number = (fulfillment.tracking_number or "").strip()
    carrier = resolve_carrier(carrier_name=fulfillment.carrier_name, tracking_number=number)
    return Shipment(
        store_id=store.id, order_id=order.id, fulfillment_external_id=fulfillment.external_id, tracking_number=number,
        carrier_code=carrier, carrier_name=fulfillment.carrier_name, service=fulfillment.service,
        carrier_tracking_url=fulfillment.tracking_url, is_return=fulfillment.is_return,
        line_item_ids=list(fulfillment.line_item_ids), shipped_at=fulfillment.created_at,
        next_poll_at=now if carrier else None,  # ask the carrier soon; untrackable parcels are never claimed
        tracking_token=secrets.token_urlsafe(24), created_at=now, updated_at=now,
    )


def sync_order(session: Session, *, store: Store, data: StoreOrder, now: datetime, ctx: TrackingContext) -> Order:
    """Upsert one order; each new tracking number becomes a shipment and fires `Order Shipped` once."""
    order, fresh = _upsert_order_row(session, store, data)
    session.flush()
    if not fresh:
        return order
    if any(not f.is_return and f.status != "cancelled" for f in data.fulfillments):
        order.fulfillment_check_at = None  # shipped, tracked or not: no `Fulfillment Delayed` for it
    existing = {(s.fulfillment_external_id, s.tracking_number): s for s in order.shipments}
    for fulfillment in data.fulfillments:
        number = (fulfillment.tracking_number or "").strip()
        if not number or (fulfillment.external_id, number) in existing:
            continue
        shipment = _new_shipment(store, order, fulfillment, now)
        order.shipments.append(shipment)  # joins the session through the cascade (adding it first would list it twice)
        session.flush()
        record_fulfillment(session, store=store, order=order, shipment=shipment, now=now, ctx=ctx)
    return order
