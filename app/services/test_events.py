"""Test events and example payloads: a trigger's real payload from the store's latest order, or from sample data."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Order, Shipment, Store
from app.services.catalog import SPECS, Trigger
from app.services.event_payload import build_payload
from app.services.esp_connections import current_connection
from integrations.esp.base import Esp, EspEvent, Profile, SendOutcome

# What a shipment looks like when each trigger fires, and the trigger's own properties (example values).
_STATUS: dict[str, tuple[str, str | None]] = {
    Trigger.ORDER_SHIPPED: ("label_created", None), Trigger.IN_TRANSIT: ("in_transit", None),
    Trigger.OUT_FOR_DELIVERY: ("out_for_delivery", None), Trigger.READY_FOR_PICKUP: ("ready_for_pickup", None),
    Trigger.DELIVERED: ("delivered", None), Trigger.ATTEMPT_FAILED: ("failed_attempt", None),
    Trigger.ADDRESS_ISSUE: ("exception", "address_issue"), Trigger.DELAYED: ("in_transit", "delayed"),
    Trigger.EXCEPTION: ("exception", "damaged"), Trigger.RETURNED_TO_SENDER: ("returned_to_sender", None),
    Trigger.RETURN_LABEL_CREATED: ("label_created", None), Trigger.RETURN_RECEIVED: ("delivered", None),
}
_EXTRA: dict[str, dict[str, Any]] = {
    Trigger.READY_FOR_PICKUP: {"pickup_location": "Packstation 152, Hauptstr. 5, 10115 Berlin",
                               "pickup_deadline": "2026-12-01"},
    Trigger.ADDRESS_ISSUE: {"exception_reason": "address_issue"},
    Trigger.DELAYED: {"delay_reason": "carrier_reported", "delay_episode": 1},
    Trigger.EXCEPTION: {"exception_reason": "damaged"},
    Trigger.FULFILLMENT_DELAYED: {"business_days_unfulfilled": 3},
}


@dataclass(frozen=True)
class SentTestEvent:
    unique_id: str
    provider: str
    outcome: SendOutcome
    from_real_order: bool


def sample_subject(store: Store, *, now: datetime) -> tuple[Order, Shipment]:
    """An order with one parcel, not saved anywhere: for example payloads and test events of an empty store."""
    order = Order(id=0, store_id=store.id, external_id="1001", number="#1001", placed_at=now - timedelta(days=2),
                  remote_updated_at=now, customer_id="sample-customer", email="jane.doe@example.com",
                  phone="+4915123456789", first_name="Jane", last_name="Doe", locale="en-US", currency=store.currency,
                  total=Decimal("89.90"), order_url=f"https://{store.domain}/account/orders/1001", shipping_country="DE",
                  line_items=[{"id": "1", "title": "Merino Beanie", "sku": "MB-01", "quantity": 1, "price": 29.9,
                               "variant_title": "Charcoal", "image_url": "https://cdn.example.com/beanie.jpg",
                               "product_url": f"https://{store.domain}/products/merino-beanie"},
                              {"id": "2", "title": "Rain Jacket", "sku": "RJ-02", "quantity": 1, "price": 60.0,
                               "variant_title": "M", "image_url": "https://cdn.example.com/jacket.jpg",
                               "product_url": f"https://{store.domain}/products/rain-jacket"}])
    shipment = Shipment(id=0, store_id=store.id, tracking_number="00340434161094042557", carrier_code="dhl",
                        carrier_name="DHL", service="Paket", line_item_ids=[], is_return=False,
                        carrier_tracking_url="https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html"
                                             "?piececode=00340434161094042557",
                        tracking_token="sample", shipped_at=now - timedelta(days=1),
                        estimated_delivery={"earliest": (now + timedelta(days=1)).date().isoformat(), "latest": None},
                        last_event_at=now - timedelta(hours=1), last_event_location="Berlin, DE",
                        last_event_description="The shipment has been processed in the parcel center")
    order.shipments = [shipment]
    return order, shipment


def _shaped(shipment: Shipment, trigger: str) -> None:
    status, substatus = _STATUS.get(trigger, (shipment.status, shipment.substatus))
    shipment.status, shipment.substatus = status, substatus
    if trigger == Trigger.DELIVERED or trigger == Trigger.RETURN_RECEIVED:
        shipment.delivered_to = shipment.delivered_to or "recipient"
    shipment.is_return = trigger in (Trigger.RETURN_LABEL_CREATED, Trigger.RETURN_RECEIVED)


def example_payload(store: Store, trigger: str, *, now: datetime, app_url: str) -> dict[str, Any]:
    """The payload the real builder makes for `trigger` from sample data (shown on the Triggers page)."""
    order, shipment = sample_subject(store, now=now)
    _shaped(shipment, trigger)
    subject = None if trigger == Trigger.FULFILLMENT_DELAYED else shipment
    if subject is None:
        order.shipments = []
    return build_payload(metric=trigger, unique_id=f"{store.id}:{shipment.id}:{trigger}", occurred_at=now,
                         backfill=False, store=store, order=order, shipment=subject, app_url=app_url,
                         extra=_EXTRA.get(trigger))


def _latest(session: Session, store: Store, trigger: str) -> tuple[Order, Shipment | None] | None:
    if trigger == Trigger.FULFILLMENT_DELAYED:
        order = session.scalars(select(Order).where(Order.store_id == store.id).order_by(Order.placed_at.desc())).first()
        return (order, None) if order is not None else None
    want_return = trigger in (Trigger.RETURN_LABEL_CREATED, Trigger.RETURN_RECEIVED)
    shipment = session.scalars(select(Shipment).where(Shipment.store_id == store.id, Shipment.is_return.is_(want_return))
                               .order_by(Shipment.shipped_at.desc(), Shipment.id.desc())).first()
    if shipment is None and want_return:
        shipment = session.scalars(select(Shipment).where(Shipment.store_id == store.id)
                                   .order_by(Shipment.shipped_at.desc(), Shipment.id.desc())).first()
    return (shipment.order, shipment) if shipment is not None else None


def build_test_payload(session: Session, *, store: Store, trigger: str, now: datetime,
                       app_url: str) -> tuple[dict[str, Any], bool]:
    """(payload, from_real_order): the store's most recent real order/parcel when there is one, sample data if not."""
    if trigger not in SPECS:
        raise ValueError(f"unknown trigger {trigger!r}; use a metric name from the catalog")
    unique_id = f"test:{store.id}:{trigger}:{secrets.token_hex(6)}"  # never collides with a real event's outbox key
    found = _latest(session, store, trigger)
    if found is None:
        payload = example_payload(store, trigger, now=now, app_url=app_url)
        payload["unique_id"] = unique_id
        real = False
    else:
        order, shipment = found
        extra = dict(_EXTRA.get(trigger, {}))
        if trigger == Trigger.READY_FOR_PICKUP and shipment is not None and shipment.pickup_location:
            extra.update(pickup_location=shipment.pickup_location, pickup_deadline=shipment.pickup_deadline)
        payload = build_payload(metric=trigger, unique_id=unique_id, occurred_at=now, backfill=False, store=store,
                                order=order, shipment=shipment, app_url=app_url, extra=extra)
        real = True
    payload["properties"]["test_event"] = True  # lets a flow filter out tests ("test_event is not true")
    return payload, real


def send_test_event(session: Session, *, store: Store, trigger: str, esp_for: Any, now: datetime,
                    app_url: str) -> SentTestEvent:
    """Send one test event to the store's ESP right away, through the same adapter the outbox uses."""
    payload, real = build_test_payload(session, store=store, trigger=trigger, now=now, app_url=app_url)
    connection = current_connection(session, store)
    esp: Esp = esp_for(connection)
    event = EspEvent(unique_id=payload["unique_id"], metric=trigger, time=now, properties=payload["properties"],
                     profile=Profile(**payload["profile"]), backfill=False)
    outcome = esp.send(events=[event])[0]
    provider = connection.provider if connection is not None else "console"
    return SentTestEvent(unique_id=event.unique_id, provider=provider, outcome=outcome, from_real_order=real)
