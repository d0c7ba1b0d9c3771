"""Flow recipes for marketers: how to build the common Klaviyo flows on our metrics and properties."""
from __future__ import annotations

from dataclasses import dataclass

from app.services.catalog import Trigger

# Every recipe filters out stale news and test sends; Klaviyo already keeps backfilled events out of flows.
COMMON_FILTERS: tuple[str, ...] = ("backfill is false", "test_event is not true")


@dataclass(frozen=True)
class Recipe:
    title: str
    metric: str
    goal: str
    filters: tuple[str, ...]  # trigger filters on the metric's properties
    splits: tuple[str, ...]  # conditional splits inside the flow
    template: tuple[str, ...]  # properties to use in the message, as Klaviyo template tags
    steps: tuple[str, ...] = ()


RECIPES: tuple[Recipe, ...] = (
    Recipe("Your order has shipped", Trigger.ORDER_SHIPPED, "confirm shipment with the tracking link",
           ("is_return is false",), ("shipment_count greater than 1: mention the other parcels (still_to_come)",),
           ("{{ event.order_number }}", "{{ event.carrier_name }}", "{{ event.tracking_page_url }}",
            "{{ event.estimated_delivery }}", "{% for item in event.shipment_items %}{{ item.title }}{% endfor %}")),
    Recipe("Out for delivery today", Trigger.OUT_FOR_DELIVERY, "make sure someone is home (SMS works well)", (),
           ("language equals de: German copy, otherwise English",),
           ("{{ event.tracking_page_url }}", "{{ event.event_location }}", "{{ event.carrier_name }}")),
    Recipe("Ready for pickup", Trigger.READY_FOR_PICKUP, "tell where and until when the parcel can be collected", (),
           ("pickup_deadline is set: add the deadline and a reminder one day before it",),
           ("{{ event.pickup_location }}", "{{ event.pickup_deadline }}", "{{ event.tracking_number }}",
            "{{ event.carrier_tracking_url }}")),
    Recipe("Delivered, then a review request", Trigger.DELIVERED, "ask for a review once they had time to try it",
           ("is_return is false",), ("delivered_to equals neighbour: use the neighbour recipe instead",),
           ("{% for item in event.shipment_items %}{{ item.title }} {{ item.product_url }} {{ item.image_url }}"
            "{% endfor %}", "{{ event.order_number }}"),
           ("Time delay: 3 days after the event", "Email: review request with the delivered items' images and links")),
    Recipe("Delivered to a neighbour", Trigger.DELIVERED, "say where the parcel is",
           ("delivered_to equals neighbour",), (), ("{{ event.event_description }}", "{{ event.event_location }}",
                                                     "{{ event.tracking_page_url }}")),
    Recipe("Address issue", Trigger.ADDRESS_ISSUE, "get the address corrected before the parcel goes back", (),
           ("carrier equals dhl / ups / ...: link to that carrier's redirect page",),
           ("{{ event.carrier_tracking_url }} (the carrier's page, where the delivery can be redirected)",
            "{{ event.exception_reason }}", "{{ event.order_url }}")),
    Recipe("Delayed: apology and a discount", Trigger.DELAYED, "apologise before the customer asks",
           ("delay_episode equals 1 (first delay only)",),
           ("order_total greater than 50: larger discount code",),
           ("{{ event.estimated_delivery }}", "{{ event.delay_reason }}", "{{ event.tracking_page_url }}",
            "a unique coupon code block")),
    Recipe("Return received", Trigger.RETURN_RECEIVED, "confirm the return arrived and when the refund follows", (),
           (), ("{{ event.order_number }}", "{% for item in event.shipment_items %}{{ item.title }}{% endfor %}",
                "{{ event.order_url }}")),
)
