"""The sandbox store's life: seed orders as webhook deliveries, and in live mode keep new orders and returns coming."""
from __future__ import annotations

import json
import random
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import InboxItem, Order, Shipment, Store
from app.models.inbox import InboxState
from app.services.inbox import store_delivery
from integrations.stores.sandbox import SANDBOX_DOMAIN, add_return, generate_order, ship
from integrations.status import ShipmentStatus

FIRST_ORDER_NUMBER = 1001


# The sandbox's thresholds in journey steps: its parcels move a step every SANDBOX_STEP_SECONDS, not every few hours,
# so "stalled" and "not shipped yet" are scaled the same way (business days still count: on Sundays and public
# holidays the sandbox's clock for them stands still, like a real one).
STALLED_AFTER_STEPS = 4
STALLED_INTERNATIONAL_AFTER_STEPS = 5
UNFULFILLED_AFTER_STEPS = 3
SHIP_UNFULFILLED_AFTER_STEPS = 6


def sandbox_settings(step_seconds: float) -> dict:
    day = 86400.0
    return {"stalled_after_business_days": STALLED_AFTER_STEPS * step_seconds / day,
            "stalled_after_business_days_international": STALLED_INTERNATIONAL_AFTER_STEPS * step_seconds / day,
            "fulfillment_delayed_after_business_days": UNFULFILLED_AFTER_STEPS * step_seconds / day}


def sandbox_store(session: Session, *, step_seconds: float = 20.0) -> Store:
    store = session.scalar(select(Store).where(Store.platform == "sandbox", Store.domain == SANDBOX_DOMAIN))
    if store is None:
        store = Store(platform="sandbox", domain=SANDBOX_DOMAIN, name="Demo Shop (sandbox)", currency="EUR", country="DE",
                      settings=sandbox_settings(step_seconds))
        session.add(store)
        session.flush()
    return store


def _deliver(session: Session, store: Store, topic: str, order: dict, now: datetime) -> None:
    body = json.dumps(order).encode()
    store_delivery(session, source="sandbox", topic=topic, dedupe_key=f"{order['id']}:{order['updated_at']}:{topic}",
                   body=body, headers={"X-Sandbox-Topic": topic}, store_id=store.id, now=now)


def has_orders(session: Session) -> bool:
    store = session.scalar(select(Store).where(Store.platform == "sandbox", Store.domain == SANDBOX_DOMAIN))
    return store is not None and session.scalar(select(InboxItem.id).where(InboxItem.store_id == store.id).limit(1)) is not None


def _next_number(session: Session, store: Store) -> int:
    count = session.scalar(select(func.count(Order.id)).where(Order.store_id == store.id)) or 0
    return FIRST_ORDER_NUMBER + count


def seed(session: Session, *, orders: int, now: datetime, rng: random.Random | None = None,
         unfulfilled_share: float = 0.1, step_seconds: float) -> Store:
    """Create (or extend) the sandbox store with `orders` new orders, delivered through the inbox like webhooks."""
    rng = rng or random.Random()
    store = sandbox_store(session, step_seconds=step_seconds)
    pending = _pending_numbers(session, store)
    start = max(_next_number(session, store), max(pending, default=0) + 1)
    for number in range(start, start + orders):
        order = generate_order(rng=rng, number=number, now=now, fulfilled=rng.random() >= unfulfilled_share)
        _deliver(session, store, "orders/create", order, now)
    return store


def _pending_numbers(session: Session, store: Store) -> list[int]:
    """Orders already delivered to the inbox but not processed yet, so a second seed does not reuse numbers."""
    keys = session.scalars(select(InboxItem.dedupe_key).where(InboxItem.store_id == store.id, InboxItem.state == InboxState.PENDING))
    return [int(k.split(":", 1)[0]) for k in keys if k.split(":", 1)[0].isdigit()]


def live_tick(session: Session, *, now: datetime, orders: int, step_seconds: float,
              rng: random.Random | None = None) -> dict[str, int]:
    """Demo mode: new orders arrive, unfulfilled ones ship (late), and now and then a delivered parcel comes back."""
    rng = rng or random.Random()
    store = seed(session, orders=orders, now=now, rng=rng, step_seconds=step_seconds)
    shipped = returned = 0
    unfulfilled = session.scalars(select(Order).where(Order.store_id == store.id, ~Order.shipments.any()).limit(2))
    for order in unfulfilled:
        if order.placed_at.timestamp() < now.timestamp() - SHIP_UNFULFILLED_AFTER_STEPS * step_seconds:
            _deliver(session, store, "orders/updated", ship(order_payload_from_row(order), rng=rng, now=now), now)
            shipped += 1
    if rng.random() < 0.3:
        delivered = session.scalar(select(Shipment).where(
            Shipment.store_id == store.id, Shipment.status == ShipmentStatus.DELIVERED.value, ~Shipment.is_return)
            .order_by(func.random()).limit(1))
        if delivered is not None and not any(s.is_return for s in delivered.order.shipments):
            _deliver(session, store, "orders/updated", add_return(order_payload_from_row(delivered.order), rng=rng, now=now), now)
            returned += 1
    return {"orders": orders, "shipped": shipped, "returns": returned}


def order_payload_from_row(order: Order) -> dict:
    """The sandbox store's own view of an order we stored, to send an update for it."""
    return {
        "id": order.external_id, "number": order.number, "placed_at": order.placed_at.isoformat(),
        "updated_at": order.remote_updated_at.isoformat(), "currency": order.currency, "total": str(order.total),
        "order_url": order.order_url,
        "customer": {"id": order.customer_id, "email": order.email, "phone": order.phone, "first_name": order.first_name,
                     "last_name": order.last_name, "locale": order.locale},
        "shipping_address": {"country_code": order.shipping_country, "postcode": order.shipping_postcode},
        "line_items": [{**item, "price": str(item["price"])} for item in order.line_items],
        "fulfillments": [{"id": s.fulfillment_external_id, "tracking_number": s.tracking_number, "carrier": s.carrier_name,
                          "created_at": s.shipped_at.isoformat(), "line_item_ids": s.line_item_ids, "is_return": s.is_return}
                         for s in order.shipments],
    }
