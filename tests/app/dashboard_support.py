"""Builders for the dashboard and tracking page tests: parcels with carrier events and sent events, CSRF tokens."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.models import OutboxItem, Shipment, Store, TrackingEventRecord
from app.services.outbox import enqueue
from tests.app.factories import make_order, make_shipment


def add_event(session: Session, shipment: Shipment, *, at: datetime, status: str, text: str, location: str = "Hamburg, DE",
              offset_minutes: int = 60, substatus: str | None = None) -> TrackingEventRecord:
    record = TrackingEventRecord(shipment_id=shipment.id, fingerprint=f"{status}-{at.isoformat()}", occurred_at=at,
                                 utc_offset_minutes=offset_minutes, status=status, substatus=substatus, code=status[:3].upper(),
                                 description=text, location=location)
    session.add(record)
    shipment.status, shipment.substatus, shipment.last_event_at, shipment.last_event_description = status, substatus, at, text
    if status == "delivered":
        shipment.delivered_at, shipment.next_poll_at = at, None
    session.flush()
    return record


def parcel(session: Session, store: Store, *, number: str, order_number: str, shipped_at: datetime, email: str = "anna@example.com",
           carrier: str = "sandbox", status: str | None = None, locale: str = "de-DE", country: str = "DE") -> Shipment:
    order = make_order(session, store, number=order_number, placed_at=shipped_at - timedelta(hours=2), email=email)
    order.locale, order.shipping_country = locale, country
    shipment = make_shipment(session, store, order, number=number, shipped_at=shipped_at, carrier=carrier)
    if status:
        add_event(session, shipment, at=shipped_at + timedelta(hours=5), status=status, text=status.replace("_", " "))
    return shipment


def sent_event(session: Session, store: Store, shipment: Shipment, *, trigger: str, at: datetime, state: str = "sent",
               via: str = "console", error: str | None = None) -> OutboxItem:
    item = enqueue(session, store=store, order=shipment.order, shipment=shipment, trigger=trigger, occurred_at=at, now=at,
                   app_url="https://app.example.test")
    assert item is not None
    item.state, item.last_error = state, error
    if state == "sent":
        item.sent_at, item.delivered_via = at, via
    session.flush()
    return item


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
