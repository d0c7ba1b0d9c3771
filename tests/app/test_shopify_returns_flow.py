"""Shopify returns end to end: returns/* and reverse_deliveries/* webhooks become a tracked return parcel."""
from __future__ import annotations

from sqlalchemy import select

from app.jobs import inbox_tick, outbox_tick, poll_tick
from app.models import Order, OutboxItem, Shipment
from app.services.catalog import Trigger
from integrations.carriers.sandbox import make_tracking_number
from tests.app.shopify_support import (  # noqa: F401
    app_config, clock, fake_shopify, install_via_oauth, shop_clock, shop_orders, topic_body, webhook)

ORDER_ID = 5_000_004  # generated order 4 of the fake
LINE_ITEM_ID = 7_000_040


def test_return_label_and_return_received_fire_once(client, runtime, session, fake_shopify, clock):
    install_via_oauth(client, fake_shopify)
    assert webhook(client, fake_shopify, "orders/create", topic_body(fake_shopify, "orders/create", 4)).status_code == 200
    inbox_tick(runtime)

    # Requested, no label yet: nothing to track.
    fake_shopify.add_return(return_id=77, order_id=ORDER_ID, line_item_id=LINE_ITEM_ID, tracking_number=None)
    requested = {"id": 77, "admin_graphql_api_id": "gid://shopify/Return/77", "status": "requested",
                 "order": {"id": ORDER_ID, "admin_graphql_api_id": f"gid://shopify/Order/{ORDER_ID}"},
                 "return_line_items": [{"id": 1, "fulfillment_line_item": {"line_item": {"id": LINE_ITEM_ID}}}]}
    assert webhook(client, fake_shopify, "returns/request", requested).status_code == 200
    assert inbox_tick(runtime)["done"] == 1
    assert session.scalar(select(Shipment).where(Shipment.is_return)) is None

    # The label is attached: the return parcel appears, announced once even if the webhook repeats.
    number = make_tracking_number(journey="RET", created_at=clock.now, serial=3)
    fake_shopify.add_return(return_id=77, order_id=ORDER_ID, line_item_id=LINE_ITEM_ID, tracking_number=number,
                            carrier="Sandbox Express", delivery_id=5)
    attached = _deliverable_attached(delivery_id=5, return_id=77, number=number)
    for _ in range(2):
        assert webhook(client, fake_shopify, "reverse_deliveries/attach_deliverable", attached).status_code == 200
    inbox_tick(runtime)
    parcel = session.scalar(select(Shipment).where(Shipment.is_return))
    assert parcel.tracking_number == number and parcel.carrier_code == "sandbox"
    assert parcel.line_item_ids == [str(LINE_ITEM_ID)]

    for _ in range(12):
        poll_tick(runtime), outbox_tick(runtime)
        clock.advance(seconds=60)
    session.expire_all()
    fired = session.scalars(select(OutboxItem.trigger).where(OutboxItem.shipment_id == parcel.id,
                                                            OutboxItem.destination == "esp")).all()
    assert sorted(fired) == sorted([Trigger.RETURN_LABEL_CREATED, Trigger.RETURN_RECEIVED])


def test_return_for_an_order_not_seen_yet_fetches_the_order_and_keeps_the_parcel(client, runtime, session,
                                                                                  fake_shopify, clock):
    # The orders query carries no returns: the fetched order alone would not hold the return parcel.
    install_via_oauth(client, fake_shopify)
    assert session.scalar(select(Order).where(Order.external_id == str(ORDER_ID))) is None
    number = make_tracking_number(journey="RET", created_at=clock.now, serial=4)
    fake_shopify.add_return(return_id=78, order_id=ORDER_ID, line_item_id=LINE_ITEM_ID, tracking_number=number,
                            carrier="Sandbox Express", delivery_id=6)
    attached = _deliverable_attached(delivery_id=6, return_id=78, number=number)
    assert webhook(client, fake_shopify, "reverse_deliveries/attach_deliverable", attached).status_code == 200
    assert inbox_tick(runtime)["done"] == 1

    order = session.scalar(select(Order).where(Order.external_id == str(ORDER_ID)))
    assert order is not None
    parcel = session.scalar(select(Shipment).where(Shipment.is_return))
    assert parcel is not None and parcel.order_id == order.id
    assert parcel.tracking_number == number and parcel.line_item_ids == [str(LINE_ITEM_ID)]


def _deliverable_attached(*, delivery_id: int, return_id: int, number: str) -> dict:
    """A `reverse_deliveries/attach_deliverable` body: the label with its tracking is attached to a return."""
    return {"id": delivery_id, "admin_graphql_api_id": f"gid://shopify/ReverseDelivery/{delivery_id}",
            "return": {"id": return_id, "admin_graphql_api_id": f"gid://shopify/Return/{return_id}"},
            "shipping_deliverable": {"tracking": {"carrier_name": "Sandbox Express", "tracking_number": number,
                                                  "tracking_url": None},
                                     "label": {"public_file_url": None, "created_at": "2026-11-22T09:30:00Z"}}}
