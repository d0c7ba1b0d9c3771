"""Privacy requests: redact a customer everywhere, export what we hold about them, delete a shop's data."""
from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, Callable, Iterable

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from app.models import DataExport, InboxItem, Order, OutboxItem, Shipment, Store
from app.models.inbox import InboxState
from app.models.outbox import OutboxState
from integrations.stores.base import WebhookChange

log = logging.getLogger(__name__)

REDACTED = "redacted"
# Raw deliveries that can carry a customer's data: scanned (in batches) when that customer is redacted.
_CUSTOMER_TOPICS = ("orders/", "fulfillments/", "customers/")


def customer_orders(session: Session, *, store: Store, change: WebhookChange) -> list[Order]:
    """The customer's orders in this store: by customer id, by email, and the orders the request names."""
    conditions = []
    if change.customer_id:
        conditions.append(Order.customer_id == change.customer_id)
    if change.customer_email:
        conditions.append(func.lower(Order.email) == change.customer_email.lower())
    if change.order_external_ids:
        conditions.append(Order.external_id.in_(change.order_external_ids))
    if not conditions:
        return []
    return list(session.scalars(select(Order).where(Order.store_id == store.id, or_(*conditions))
                                .options(selectinload(Order.shipments)).order_by(Order.id)))


def _mentions(body: bytes, *, order_ids: set[str], customer_id: str | None, email: str | None) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    order_id = data.get("order_id", data.get("id"))
    if order_id is not None and str(order_id) in order_ids:
        return True
    customer = data.get("customer") if isinstance(data.get("customer"), dict) else {}
    if customer_id and str(customer.get("id")) == customer_id:
        return True
    found = str(customer.get("email") or data.get("email") or "").lower()
    return bool(email) and found == email.lower()


def _scrub_deliveries(session: Session, *, store: Store, order_ids: set[str], change: WebhookChange,
                      now: datetime) -> int:
    """Raw webhook bodies (the redact request's own included) hold the same personal data: empty them."""
    rows = session.execute(select(InboxItem.id, InboxItem.body).where(
        InboxItem.store_id == store.id, or_(*[InboxItem.topic.startswith(t) for t in _CUSTOMER_TOPICS]))
        .execution_options(yield_per=500))
    hits = [item_id for item_id, body in rows
            if _mentions(body, order_ids=order_ids, customer_id=change.customer_id, email=change.customer_email)]
    for start in range(0, len(hits), 500):
        # Pending ones are finished here too: an emptied delivery has nothing left to apply.
        session.execute(update(InboxItem).where(InboxItem.id.in_(hits[start:start + 500]))
                        .values(body=b"{}", headers={}, state=InboxState.DONE, processed_at=now,
                                last_error="customer data redacted"))
    return len(hits)


def _scrub_payload(payload: dict[str, Any]) -> dict[str, Any]:
    properties = dict(payload.get("properties") or {})
    properties.pop("order_url", None)  # the order status link authenticates as the customer
    return {**payload, "profile": {REDACTED: True}, "properties": properties}


def redact_customer(session: Session, *, store: Store, change: WebhookChange, now: datetime) -> None:
    """customers/redact: remove the customer's personal data from orders, parcels, events and stored deliveries.

    Unsent events are deleted (sending them without a recipient is pointless, with one is forbidden); sent
    ones keep their facts for the merchant's statistics but lose the profile.
    """
    orders = customer_orders(session, store=store, change=change)
    order_ids = [o.id for o in orders]
    for order in orders:
        order.customer_id = order.email = order.phone = order.first_name = order.last_name = None
        order.order_url = order.shipping_postcode = None
        for shipment in order.shipments:
            shipment.raw_payload = None  # a carrier's raw answer can name the recipient and address
    dropped = 0
    if order_ids:
        dropped = session.execute(delete(OutboxItem).where(
            OutboxItem.order_id.in_(order_ids), OutboxItem.state != OutboxState.SENT)).rowcount
        for item in session.scalars(select(OutboxItem).where(OutboxItem.order_id.in_(order_ids))):
            item.payload = _scrub_payload(item.payload)
    scrubbed = _scrub_deliveries(session, store=store, order_ids={o.external_id for o in orders}
                                 | set(change.order_external_ids), change=change, now=now)
    exports = [DataExport.customer_id == change.customer_id] if change.customer_id else []
    if change.customer_email:
        exports.append(func.lower(DataExport.customer_email) == change.customer_email.lower())
    if exports:  # an export made for this customer is their data too
        session.execute(delete(DataExport).where(DataExport.store_id == store.id, or_(*exports)))
    log.info("store %s: customer redacted (%d orders, %d unsent events dropped, %d deliveries scrubbed)",
             store.id, len(orders), dropped, scrubbed)


def _shipment_json(shipment: Shipment) -> dict[str, Any]:
    return {"tracking_number": shipment.tracking_number, "carrier": shipment.carrier_code or shipment.carrier_name,
            "status": shipment.status, "shipped_at": shipment.shipped_at.isoformat(),
            "delivered_at": shipment.delivered_at.isoformat() if shipment.delivered_at else None,
            "events": [{"time": e.occurred_at.isoformat(), "status": e.status, "description": e.description,
                        "location": e.location} for e in shipment.events]}


def _order_json(order: Order, events: Iterable[OutboxItem]) -> dict[str, Any]:
    return {"order_id": order.external_id, "number": order.number, "placed_at": order.placed_at.isoformat(),
            "customer_id": order.customer_id, "email": order.email, "phone": order.phone,
            "first_name": order.first_name, "last_name": order.last_name, "locale": order.locale,
            "shipping_country": order.shipping_country, "shipping_postcode": order.shipping_postcode,
            "line_items": order.line_items, "shipments": [_shipment_json(s) for s in order.shipments],
            "messages": [{"event": i.trigger, "time": i.occurred_at.isoformat(), "state": i.state,
                          "sent_at": i.sent_at.isoformat() if i.sent_at else None, "destination": i.destination}
                         for i in events]}


def export_customer_data(session: Session, *, store: Store, change: WebhookChange, now: datetime) -> DataExport:
    """customers/data_request: everything we hold about the customer, kept for the merchant to hand over."""
    orders = customer_orders(session, store=store, change=change)
    events: dict[int, list[OutboxItem]] = {o.id: [] for o in orders}
    if orders:
        for item in session.scalars(select(OutboxItem).where(OutboxItem.order_id.in_(list(events)))
                                    .order_by(OutboxItem.occurred_at)):
            events[item.order_id].append(item)  # type: ignore[index]
    export = DataExport(store_id=store.id, customer_id=change.customer_id, customer_email=change.customer_email,
                        orders_count=len(orders), created_at=now, data={
                            "store": store.domain, "generated_at": now.isoformat(),
                            "customer": {"id": change.customer_id, "email": change.customer_email},
                            "orders": [_order_json(o, events[o.id]) for o in orders]})
    session.add(export)
    log.info("store %s: customer data export with %d orders", store.id, len(orders))
    return export


def redact_shop(session: Session, *, store: Store, change: WebhookChange, now: datetime) -> None:
    """shop/redact (48 h after uninstall): delete the shop and, through the foreign keys, everything it owns.

    The delivery being processed belongs to the shop too; it is detached first so the inbox can finish it.
    """
    session.execute(update(InboxItem).where(InboxItem.store_id == store.id, InboxItem.topic == "shop/redact")
                    .values(store_id=None))
    session.execute(delete(Store).where(Store.id == store.id))
    session.expunge(store)
    log.info("store %s (%s): shop data deleted", store.id, store.domain)


PRIVACY_HANDLERS: dict[str, Callable[..., Any]] = {
    WebhookChange.KIND_CUSTOMER_REDACT: redact_customer,
    WebhookChange.KIND_CUSTOMER_DATA_REQUEST: export_customer_data,
    WebhookChange.KIND_SHOP_REDACT: redact_shop,
}
