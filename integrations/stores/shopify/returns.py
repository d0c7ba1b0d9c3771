"""Shopify returns: `returns/*` and `reverse_deliveries/*` webhooks and the GraphQL `Return` as return parcels."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from integrations.stores.base import StoreFulfillment, WebhookChange
from integrations.stores.shopify.values import blank_to_none, connection_nodes, legacy_id, optional_datetime

# Subscribe to these (scope `read_returns`). A return's tracking number arrives with
# reverse_deliveries/attach_deliverable; returns/* say which order and items a return belongs to.
RETURN_TOPICS: tuple[str, ...] = (
    "returns/request", "returns/approve", "returns/update", "returns/process", "returns/close", "returns/cancel",
    "returns/decline", "returns/reopen", "reverse_deliveries/attach_deliverable",
)
RETURN_SCOPES: tuple[str, ...] = ("read_returns",)

# A return's order, items and every reverse delivery with its tracking, by return id (the deliverable webhook
# names the return but not the order).
RETURN_QUERY = """
query ReturnParcels($id: ID!) {
  return(id: $id) {
    id
    status
    order { id }
    returnLineItems(first: 50) { nodes { ... on ReturnLineItem { fulfillmentLineItem { lineItem { id } } } } }
    reverseFulfillmentOrders(first: 10) {
      nodes {
        reverseDeliveries(first: 10) {
          nodes {
            id
            deliverable {
              ... on ReverseDeliveryShippingDeliverable {
                tracking { number url carrierName }
                label { createdAt }
              }
            }
          }
        }
      }
    }
  }
}
"""


@dataclass(frozen=True)
class ReturnChange:
    """What one returns delivery tells us; `parcels` are StoreFulfillment(is_return=True), one per tracking number."""

    return_id: str
    order_external_id: str | None  # None for reverse_deliveries/*: look the return up with RETURN_QUERY
    status: str | None = None
    line_item_ids: tuple[str, ...] = ()
    parcels: tuple[StoreFulfillment, ...] = ()

    def webhook_changes(self) -> tuple[WebhookChange, ...]:
        """One fulfillment-only change per parcel, for the same merge path as fulfillments/create."""
        if self.order_external_id is None:
            return ()
        return tuple(WebhookChange(kind=WebhookChange.KIND_ORDER_UPSERT, order_external_id=self.order_external_id,
                                   fulfillment=parcel) for parcel in self.parcels)


def parcel_id(reverse_delivery_id: Any) -> str:
    """Webhook and GraphQL give the same id, so a parcel seen both ways is one shipment."""
    return f"return-{legacy_id(reverse_delivery_id)}"


def _parcel(*, delivery_id: Any, number: Any, url: Any, carrier: Any, created_at: datetime,
            line_item_ids: tuple[str, ...]) -> StoreFulfillment | None:
    number = blank_to_none(number)
    if number is None:  # a label without tracking (or a drop-off QR code): nothing to track yet
        return None
    return StoreFulfillment(external_id=parcel_id(delivery_id), tracking_number=number, carrier_name=blank_to_none(carrier),
                            created_at=created_at, tracking_url=blank_to_none(url), line_item_ids=line_item_ids,
                            is_return=True, status="return")


def _rest_line_items(data: Mapping[str, Any]) -> tuple[str, ...]:
    ids = []
    for item in data.get("return_line_items") or []:
        line_item = ((item or {}).get("fulfillment_line_item") or {}).get("line_item") or {}
        if line_item.get("id") is not None:
            ids.append(legacy_id(line_item["id"]))
    return tuple(ids)


def parse_return_webhook(*, topic: str, body: bytes | Mapping[str, Any], received_at: datetime) -> ReturnChange:
    """Pure: a returns/* or reverse_deliveries/* body as a ReturnChange; ValueError for anything else."""
    try:
        data = json.loads(body) if isinstance(body, (bytes, str)) else body
        topic = topic.strip().lower()
        if topic.startswith("returns/"):
            return ReturnChange(return_id=legacy_id(data["id"]), order_external_id=legacy_id(data["order"]["id"]),
                                status=blank_to_none(data.get("status")), line_item_ids=_rest_line_items(data))
        if topic == "reverse_deliveries/attach_deliverable":
            deliverable = data.get("shipping_deliverable") or {}
            tracking = deliverable.get("tracking") or {}
            label = deliverable.get("label") or {}
            parcel = _parcel(delivery_id=data["id"], number=tracking.get("tracking_number"),
                             url=tracking.get("tracking_url"), carrier=tracking.get("carrier_name"),
                             created_at=optional_datetime(label.get("created_at")) or received_at, line_item_ids=())
            return ReturnChange(return_id=legacy_id(data["return"]["id"]), order_external_id=None,
                                parcels=(parcel,) if parcel else ())
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
        raise ValueError(f"malformed Shopify {topic} webhook: {exc!r}") from exc
    raise ValueError(f"not a returns topic: {topic}")


def parse_return_node(node: Mapping[str, Any], *, received_at: datetime) -> ReturnChange:
    """A `Return` from RETURN_QUERY (or an order's `returns` connection) with all of its tracked parcels."""
    try:
        line_item_ids = tuple(legacy_id(n["fulfillmentLineItem"]["lineItem"]["id"])
                              for n in connection_nodes(node.get("returnLineItems")) if n.get("fulfillmentLineItem"))
        parcels = []
        for rfo in connection_nodes(node.get("reverseFulfillmentOrders")):
            for delivery in connection_nodes(rfo.get("reverseDeliveries")):
                deliverable = delivery.get("deliverable") or {}
                tracking = deliverable.get("tracking") or {}
                parcel = _parcel(delivery_id=delivery["id"], number=tracking.get("number"), url=tracking.get("url"),
                                 carrier=tracking.get("carrierName"), line_item_ids=line_item_ids,
                                 created_at=optional_datetime((deliverable.get("label") or {}).get("createdAt")) or received_at)
                if parcel is not None:
                    parcels.append(parcel)
        order = node.get("order") or {}
        return ReturnChange(return_id=legacy_id(node["id"]),
                            order_external_id=legacy_id(order["id"]) if order.get("id") else None,
                            status=str(node["status"]).lower() if node.get("status") else None,
                            line_item_ids=line_item_ids, parcels=tuple(parcels))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed Shopify Return: {exc!r}") from exc
