"""The trigger catalog (DESIGN.md section 4): metric names are a contract with marketers and never change."""
from __future__ import annotations

from dataclasses import dataclass


class Trigger:
    ORDER_SHIPPED = "Order Shipped"
    IN_TRANSIT = "Shipment In Transit"
    OUT_FOR_DELIVERY = "Shipment Out For Delivery"
    READY_FOR_PICKUP = "Shipment Ready For Pickup"
    DELIVERED = "Shipment Delivered"
    ATTEMPT_FAILED = "Shipment Delivery Attempt Failed"
    ADDRESS_ISSUE = "Shipment Address Issue"
    DELAYED = "Shipment Delayed"
    EXCEPTION = "Shipment Exception"
    RETURNED_TO_SENDER = "Shipment Returned To Sender"
    FULFILLMENT_DELAYED = "Fulfillment Delayed"
    RETURN_LABEL_CREATED = "Return Label Created"
    RETURN_RECEIVED = "Return Received"


@dataclass(frozen=True)
class TriggerSpec:
    metric: str
    fires_when: str
    extra_properties: tuple[str, ...] = ()


CORE_PROPERTIES: tuple[str, ...] = (
    "order_number", "order_url", "order_total", "currency", "line_items", "shipment_items", "carrier", "carrier_name",
    "service", "tracking_number", "carrier_tracking_url", "tracking_page_url", "status", "substatus",
    "estimated_delivery", "estimated_delivery_latest", "event_time", "event_location", "event_description",
    "shipment_index", "shipment_count", "still_to_come", "language", "store_name", "store_domain", "is_return",
    "backfill",
)

CATALOG: tuple[TriggerSpec, ...] = (
    TriggerSpec(Trigger.ORDER_SHIPPED, "a fulfillment with a tracking number is created (left the warehouse)"),
    TriggerSpec(Trigger.IN_TRANSIT, "the first carrier scan in the network (once, not every scan)"),
    TriggerSpec(Trigger.OUT_FOR_DELIVERY, "the parcel is on the vehicle for delivery today"),
    TriggerSpec(Trigger.READY_FOR_PICKUP, "waiting at a Packstation, parcel shop or post office",
                ("pickup_location", "pickup_deadline")),
    TriggerSpec(Trigger.DELIVERED, "delivered", ("delivered_to",)),
    TriggerSpec(Trigger.ATTEMPT_FAILED, "a delivery attempt failed"),
    TriggerSpec(Trigger.ADDRESS_ISSUE, "the carrier reports an address problem (address correction needed)",
                ("exception_reason",)),
    TriggerSpec(Trigger.DELAYED,
                "the carrier reports a delay (delay_reason carrier), its estimated delivery moved at least a day later or "
                "passed undelivered (eta_slipped), or no new scan for N business days, 3 domestic / 5 international by "
                "default (stalled); once per delay episode, which ends when the parcel moves again; never for returns, "
                "delivered or returned parcels",
                ("delay_reason", "delay_episode", "hours_since_last_scan", "business_days_since_last_scan",
                 "last_scan_at", "previous_estimated_delivery", "new_estimated_delivery", "slipped_by_days",
                 "eta_passed")),
    TriggerSpec(Trigger.EXCEPTION, "damaged, lost, customs hold, refused or another carrier exception",
                ("exception_reason",)),
    TriggerSpec(Trigger.RETURNED_TO_SENDER, "the parcel is on its way back to the shop"),
    TriggerSpec(Trigger.FULFILLMENT_DELAYED,
                "an order is still unfulfilled N business days (2 by default) after it was placed; once per order",
                ("business_days_unfulfilled", "placed_at")),
    TriggerSpec(Trigger.RETURN_LABEL_CREATED, "a return shipment gets a tracking number"),
    TriggerSpec(Trigger.RETURN_RECEIVED, "the return is delivered back to the shop or warehouse"),
)

METRICS: tuple[str, ...] = tuple(spec.metric for spec in CATALOG)
SPECS: dict[str, TriggerSpec] = {spec.metric: spec for spec in CATALOG}


def trigger_enabled(settings: dict | None, metric: str) -> bool:
    """Every trigger is on unless the merchant switched it off."""
    return metric not in set((settings or {}).get("disabled_triggers", []))
