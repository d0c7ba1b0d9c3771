"""Builds the event an ESP receives: the core properties of DESIGN.md section 4 plus the trigger's own."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.models import Order, Shipment, Store
from integrations.esp.phone import to_e164
from integrations.status import ShipmentStatus


def profile_for(store: Store, order: Order) -> dict[str, Any]:
    customer = order.customer_id or (order.email or "").lower() or order.external_id
    return {
        "email": order.email,
        "phone_number": to_e164(order.phone, default_region=order.shipping_country),
        "external_id": f"{store.platform}:{store.domain}:{customer}",
        "first_name": order.first_name,
        "last_name": order.last_name,
        "locale": order.locale,
    }


def tracking_page_url(app_url: str, shipment: Shipment) -> str:
    return f"{app_url}/t/{shipment.tracking_token}"


def _language(order: Order) -> str | None:
    return (order.locale or "").split("-")[0].split("_")[0].lower() or None


def items_in(order: Order, shipment: Shipment) -> list[dict[str, Any]]:
    """The order's line items in this parcel (all of them when the parcel does not say)."""
    wanted = {str(i) for i in shipment.line_item_ids or []}  # both sides as text, whichever type a store used for ids
    return [item for item in order.line_items or [] if not wanted or str(item.get("id")) in wanted]


def parcel_position(order: Order, shipment: Shipment) -> tuple[int, int]:
    """(i, n) for "parcel i of n" among the order's outbound parcels; a return parcel shows as the first."""
    outbound = [s for s in order.shipments if not s.is_return]
    index = next((i for i, s in enumerate(outbound, start=1) if s.id == shipment.id), 1)
    return index, max(len(outbound), 1)


def _still_to_come(order: Order, shipment: Shipment) -> list[dict[str, Any]]:
    """The other parcels of a split order and what they carry, so one message can say what is still coming."""
    others = []
    for other in order.shipments:
        if other.id == shipment.id or other.is_return:
            continue
        others.append({
            "tracking_number": other.tracking_number,
            "carrier": other.carrier_code or other.carrier_name,
            "status": other.status,
            "items": [item.get("title") for item in items_in(order, other)],
        })
    return others


def order_properties(store: Store, order: Order) -> dict[str, Any]:
    return {
        "order_number": order.number,
        "order_url": order.order_url,
        "order_total": float(order.total),
        "currency": order.currency,
        "line_items": order.line_items,
        "language": _language(order),
        "store_name": store.name,
        "store_domain": store.domain,
    }


def shipment_properties(*, store: Store, order: Order, shipment: Shipment, app_url: str) -> dict[str, Any]:
    index, count = parcel_position(order, shipment)
    eta = shipment.estimated_delivery or {}
    props = order_properties(store, order)
    props.update({
        "shipment_items": items_in(order, shipment),
        "carrier": shipment.carrier_code,
        "carrier_name": shipment.carrier_name,
        "service": shipment.service,
        "tracking_number": shipment.tracking_number,
        "carrier_tracking_url": shipment.carrier_tracking_url,
        "tracking_page_url": tracking_page_url(app_url, shipment),
        "status": shipment.status,
        "substatus": shipment.substatus,
        "estimated_delivery": eta.get("earliest"),
        "estimated_delivery_latest": eta.get("latest"),
        "event_time": shipment.last_event_at.isoformat() if shipment.last_event_at else None,
        "event_location": shipment.last_event_location,
        "event_description": shipment.last_event_description,
        "shipment_index": index,
        "shipment_count": count,
        "still_to_come": _still_to_come(order, shipment),
        "is_return": shipment.is_return,
    })
    if shipment.status == ShipmentStatus.DELIVERED.value:
        props["delivered_to"] = shipment.delivered_to
    return props


def build_payload(*, metric: str, unique_id: str, occurred_at: datetime, backfill: bool, store: Store, order: Order,
                  shipment: Shipment | None, app_url: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A self-contained snapshot: the outbox delivers it later even if the shipment has moved on."""
    if shipment is not None:
        properties = shipment_properties(store=store, order=order, shipment=shipment, app_url=app_url)
    else:
        properties = order_properties(store, order)
    properties.update(extra or {})
    properties["backfill"] = backfill
    return {
        "metric": metric,
        "unique_id": unique_id,
        "time": occurred_at.isoformat(),
        "backfill": backfill,
        "profile": profile_for(store, order),
        "properties": properties,
    }
