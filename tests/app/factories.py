"""Small builders for rows and carrier results, so tests read as the scenario they check."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from app.models import Order, Shipment, Store
from integrations.carriers.base import TrackingEvent, TrackingResult, newest_first
from integrations.status import ShipmentStatus


def make_store(session: Session, *, domain: str = "shop-one.myshopify.com", platform: str = "sandbox", **settings) -> Store:
    store = Store(platform=platform, domain=domain, name=domain.split(".")[0], settings=settings, currency="EUR", country="DE")
    session.add(store)
    session.flush()
    return store


def make_order(session: Session, store: Store, *, number: str = "#1001", placed_at: datetime, email: str = "anna@example.com") -> Order:
    order = Order(store_id=store.id, external_id=number.strip("#"), number=number, placed_at=placed_at,
                  remote_updated_at=placed_at, email=email, phone="+49 151 23456789", first_name="Anna", last_name="Schmidt",
                  locale="de-DE", currency="EUR", total=Decimal("59.90"), shipping_country="DE", shipping_postcode="20095",
                  line_items=[{"id": "1", "title": "Beanie", "sku": "B-1", "quantity": 1, "price": 29.9,
                               "image_url": "https://shop.example/b.jpg", "product_url": "https://shop.example/p/b"}],
                  order_url="https://shop.example/orders/1001")
    session.add(order)
    session.flush()
    return order


def make_shipment(session: Session, store: Store, order: Order, *, number: str = "00340434161094042557",
                  shipped_at: datetime, carrier: str = "sandbox", is_return: bool = False) -> Shipment:
    shipment = Shipment(store_id=store.id, order_id=order.id, fulfillment_external_id=f"F-{number}", tracking_number=number,
                        carrier_code=carrier, carrier_name=carrier, shipped_at=shipped_at, next_poll_at=shipped_at,
                        is_return=is_return, tracking_token=secrets.token_urlsafe(16), line_item_ids=[])
    order.shipments.append(shipment)  # adds it to the session through the relationship's cascade
    session.flush()
    return shipment


def event(at: datetime, status: ShipmentStatus, *, code: str | None = None, text: str | None = None,
          substatus: str | None = None, location: str | None = "Hamburg, DE") -> TrackingEvent:
    return TrackingEvent(occurred_at=at, status=status, code=code or status.value.upper()[:3],
                         description=text or status.value.replace("_", " "), location=location, substatus=substatus)


def result(number: str, *events: TrackingEvent, **fields) -> TrackingResult:
    ordered = newest_first(events)
    return TrackingResult(tracking_number=number, status=ordered[0].status if ordered else ShipmentStatus.UNKNOWN,
                          events=ordered, **fields)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
