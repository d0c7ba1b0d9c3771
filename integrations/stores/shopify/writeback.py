"""Write-back: our shipment status as a Shopify fulfillment event, so Shopify's order status page stays right."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from integrations.errors import PermanentError
from integrations.status import CARRIER_DELAY_SUBSTATUS, ExceptionReason, ShipmentStatus
from integrations.stores.shopify.graphql import ShopifyGraphQL
from integrations.stores.shopify.rest import fulfillment_id_of
from integrations.stores.shopify.values import isoformat_utc, legacy_id, to_gid

logger = logging.getLogger(__name__)

# FulfillmentEventStatus values we write (Shopify has more, e.g. LABEL_PRINTED, that carriers' scans cover).
IN_TRANSIT = "IN_TRANSIT"
OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
READY_FOR_PICKUP = "READY_FOR_PICKUP"
ATTEMPTED_DELIVERY = "ATTEMPTED_DELIVERY"
DELAYED = "DELAYED"
DELIVERED = "DELIVERED"
FAILURE = "FAILURE"
EVENT_STATUSES = frozenset({IN_TRANSIT, OUT_FOR_DELIVERY, READY_FOR_PICKUP, ATTEMPTED_DELIVERY, DELAYED,
                            DELIVERED, FAILURE})

_BY_STATUS: dict[ShipmentStatus, str] = {
    ShipmentStatus.IN_TRANSIT: IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY: OUT_FOR_DELIVERY,
    ShipmentStatus.READY_FOR_PICKUP: READY_FOR_PICKUP,
    ShipmentStatus.DELIVERED: DELIVERED,
    ShipmentStatus.FAILED_ATTEMPT: ATTEMPTED_DELIVERY,
    ShipmentStatus.EXCEPTION: FAILURE,
    # Shopify has no "returned" event; FAILURE is what its order status page shows as "not delivered".
    ShipmentStatus.RETURNED_TO_SENDER: FAILURE,
}

# Exceptions that mean "late" rather than "went wrong".
_DELAY_REASONS = frozenset({ExceptionReason.WEATHER.value, ExceptionReason.CUSTOMS.value})


def fulfillment_event_status(status: ShipmentStatus, *, substatus: str | None = None) -> str | None:
    """The FulfillmentEventStatus for a canonical status, or None when nothing should be written.

    label_created (Shopify already shows the fulfillment) and unknown (never guess) write nothing.
    """
    if substatus == CARRIER_DELAY_SUBSTATUS and status in (ShipmentStatus.IN_TRANSIT, ShipmentStatus.EXCEPTION):
        return DELAYED
    if status is ShipmentStatus.EXCEPTION and substatus in _DELAY_REASONS:
        return DELAYED
    return _BY_STATUS.get(status)


_CREATE_MUTATION = """
mutation ParcelFulfillmentEvent($fulfillmentEvent: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $fulfillmentEvent) {
    fulfillmentEvent { id status happenedAt estimatedDeliveryAt }
    userErrors { field message }
  }
}
"""


@dataclass(frozen=True)
class FulfillmentEvent:
    id: str
    status: str


def create_fulfillment_event(client: ShopifyGraphQL, *, fulfillment_id: str, status: str, happened_at: datetime,
                             estimated_delivery_at: datetime | None = None, message: str | None = None,
                             city: str | None = None, province: str | None = None, country: str | None = None,
                             zip_code: str | None = None, address1: str | None = None,
                             latitude: float | None = None, longitude: float | None = None) -> FulfillmentEvent:
    """Create one fulfillment event. `fulfillment_id` may be a parcel id ("123.2"), a REST id or a gid.

    Not idempotent on Shopify's side: call it from the outbox, which sends each (shipment, trigger) once.
    """
    if status not in EVENT_STATUSES:
        raise ValueError(f"not a fulfillment event status we write: {status!r}")
    gid = to_gid("Fulfillment", fulfillment_id_of(legacy_id(fulfillment_id)))
    event: dict[str, Any] = {"fulfillmentId": gid, "status": status, "happenedAt": isoformat_utc(happened_at)}
    optional = {"estimatedDeliveryAt": isoformat_utc(estimated_delivery_at) if estimated_delivery_at else None,
                "message": message, "city": city, "province": province, "country": country, "zip": zip_code,
                "address1": address1, "latitude": latitude, "longitude": longitude}
    event.update({k: v for k, v in optional.items() if v is not None})
    data = client.execute(_CREATE_MUTATION, {"fulfillmentEvent": event})
    result = data.get("fulfillmentEventCreate") or {}
    errors = [e for e in result.get("userErrors") or [] if isinstance(e, Mapping)]
    if errors:
        messages = "; ".join(str(e.get("message")) for e in errors)
        raise PermanentError(f"Shopify {client.shop}: fulfillment event refused: {messages}", code="validation")
    created = result.get("fulfillmentEvent")
    if not isinstance(created, Mapping) or not created.get("id"):
        raise PermanentError(f"Shopify {client.shop}: fulfillment event not created", code="bad_response")
    logger.info("Shopify %s: fulfillment %s event %s", client.shop, legacy_id(gid), status)
    return FulfillmentEvent(id=str(created["id"]), status=str(created.get("status") or status))
