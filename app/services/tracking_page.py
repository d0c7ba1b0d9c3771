"""What the shopper's tracking page shows for one parcel, and the order lookup that reveals nothing on a mismatch."""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Order, Shipment, Store
from app.services.event_payload import items_in, parcel_position  # the dashboard imports items_in from here too
from app.services.tracking_i18n import TEXT, format_date, format_datetime, status_words
from integrations.carriers import CARRIERS
from integrations.status import ShipmentStatus

S = ShipmentStatus
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# Progress bar position per status: Ordered, Shipped, On its way, Out for delivery (or pickup), Delivered.
STEP_OF = {S.LABEL_CREATED.value: 1, S.IN_TRANSIT.value: 2, S.EXCEPTION.value: 2, S.UNKNOWN.value: 2,
           S.RETURNED_TO_SENDER.value: 2, S.OUT_FOR_DELIVERY.value: 3, S.FAILED_ATTEMPT.value: 3,
           S.READY_FOR_PICKUP.value: 3, S.DELIVERED.value: 4}
PROBLEM_STATUSES = {S.FAILED_ATTEMPT.value, S.EXCEPTION.value, S.RETURNED_TO_SENDER.value}


def load_shipment(session: Session, *, token: str) -> Shipment | None:
    """The parcel behind a token, with its events and its order's other parcels loaded up front (no lazy loads)."""
    if not TOKEN_SHAPE.match(token or ""):
        return None
    return session.scalar(select(Shipment).where(Shipment.tracking_token == token).options(
        selectinload(Shipment.events), selectinload(Shipment.order).selectinload(Order.shipments)))


def carrier_name(shipment: Shipment) -> str:
    cls = CARRIERS.get(shipment.carrier_code or "")
    return cls.name if cls is not None else (shipment.carrier_name or "")


def carrier_link(shipment: Shipment) -> str | None:
    if shipment.carrier_tracking_url:
        return shipment.carrier_tracking_url
    template = getattr(CARRIERS.get(shipment.carrier_code or ""), "TRACKING_URL", None)
    return template.format(number=shipment.tracking_number) if template else None


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw[:10]) if raw else None  # the date as the carrier wrote it, in its own zone
    except ValueError:
        return None


@dataclass
class ParcelView:
    lang: str
    text: dict[str, str]
    headline: str
    explanation: str
    status: str
    problem: bool
    step: int
    steps: list[str]
    order_number: str
    tracking_number: str
    carrier: str
    carrier_url: str | None
    eta: str | None
    delivered_on: str | None
    pickup_location: str | None
    pickup_deadline: str | None
    index: int
    count: int
    is_return: bool
    items: list[dict[str, Any]]
    timeline: list[dict[str, str]] = field(default_factory=list)
    others: list[dict[str, Any]] = field(default_factory=list)
    recommended: list[dict[str, Any]] = field(default_factory=list)  # the cross-sell block
    currency: str = "EUR"


def _delivered_on(shipment: Shipment, lang: str) -> str | None:
    """When it was delivered, in the carrier's local time like the timeline (not in UTC)."""
    if shipment.status != S.DELIVERED.value or not shipment.delivered_at:
        return None
    event = next((e for e in shipment.events if e.status == S.DELIVERED.value), None)
    return format_datetime(event.local_time if event is not None else shipment.delivered_at, lang)


def parcel_view(shipment: Shipment, *, lang: str, recommended: list[dict[str, Any]] | None = None) -> ParcelView:
    order = shipment.order
    text = TEXT[lang]
    headline, explanation = status_words(shipment.status, shipment.substatus, lang)
    steps = text["steps"].split("|")
    if shipment.status == S.READY_FOR_PICKUP.value or shipment.pickup_location:
        steps[3] = text["pickup_step"]
    eta = shipment.estimated_delivery or {}
    earliest, latest = _date(eta.get("earliest")), _date(eta.get("latest"))
    eta_text = None
    if earliest and shipment.status != S.DELIVERED.value:
        eta_text = format_date(earliest, lang) + (f" – {format_date(latest, lang)}" if latest and latest != earliest else "")
    index, count = parcel_position(order, shipment)
    timeline = [{"when": format_datetime(e.local_time, lang), "what": e.description, "where": e.location or "",
                 "status": e.status, "iso": e.local_time.isoformat()} for e in shipment.events]
    others = []
    for other in order.shipments:
        if other.id == shipment.id or other.is_return != shipment.is_return:
            continue
        words, _ = status_words(other.status, other.substatus, lang)
        others.append({"token": other.tracking_token, "tracking_number": other.tracking_number, "status": other.status,
                       "words": words, "carrier": carrier_name(other),
                       "items": [i.get("title") for i in items_in(order, other)]})
    deadline = _date(shipment.pickup_deadline)
    return ParcelView(
        lang=lang, text=text, headline=headline, explanation=explanation, status=shipment.status,
        problem=shipment.status in PROBLEM_STATUSES or bool(shipment.delay_open), step=STEP_OF.get(shipment.status, 1),
        steps=steps, order_number=order.number, tracking_number=shipment.tracking_number, carrier=carrier_name(shipment),
        carrier_url=carrier_link(shipment), eta=eta_text,
        delivered_on=_delivered_on(shipment, lang),
        pickup_location=shipment.pickup_location if shipment.status == S.READY_FOR_PICKUP.value else None,
        pickup_deadline=format_date(deadline, lang) if deadline and shipment.status == S.READY_FOR_PICKUP.value else None,
        index=index, count=count, is_return=shipment.is_return, items=items_in(order, shipment),
        timeline=timeline, others=others, recommended=recommended or [], currency=order.currency)


# -- lookup by order number and email or postcode ----------------------------------------------------------


def _normalise_number(raw: str) -> str:
    return raw.strip().lstrip("#").strip()[:64]


def _normalise_secret(raw: str) -> bytes:
    # Emails compare case-insensitively, postcodes without spaces ("SW1A 1AA" == "sw1a1aa").
    return "".join(raw.split()).lower().encode()


def _matches(order: Order, given: bytes) -> bool:
    """Compares against both the email and the postcode, always both, in constant time for each."""
    email = hmac.compare_digest(_normalise_secret(order.email or "\0"), given)
    postcode = hmac.compare_digest(_normalise_secret(order.shipping_postcode or "\0"), given)
    return bool(given) and (email | postcode)


def lookup(session: Session, *, number: str, secret: str, store: Store | None = None) -> Order | None:
    """The order with this number whose email or postcode matches, else None; a miss looks the same however it missed."""
    wanted = _normalise_number(number)
    given = _normalise_secret(secret)
    query = select(Order).where(Order.number.in_([wanted, f"#{wanted}"])).options(selectinload(Order.shipments))
    if store is not None:
        query = query.where(Order.store_id == store.id)
    candidates = list(session.scalars(query.order_by(Order.id).limit(20))) if wanted else []
    found = None
    # Every candidate (or a stand-in when there is none) is compared, so the work done does not depend on the outcome.
    for order in candidates or [Order(email="\0", shipping_postcode="\0")]:
        if _matches(order, given) and found is None and order.id is not None:
            found = order
    return found


def first_parcel(order: Order) -> Shipment | None:
    outbound = [s for s in order.shipments if not s.is_return]
    return (outbound or list(order.shipments) or [None])[0]
