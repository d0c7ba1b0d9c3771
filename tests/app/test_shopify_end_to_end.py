"""Install against the fake Shopify, then webhooks: parcels are tracked, events reach the ESP and Shopify hears back."""
from __future__ import annotations

from sqlalchemy import select

from app.jobs import inbox_tick, outbox_tick, poll_tick, shopify_sync_tick, writeback_tick
from app.models import OutboxItem, Shipment
from app.models.outbox import OutboxState
from app.services.catalog import Trigger
from integrations.carriers.sandbox import make_tracking_number
from tests.app.shopify_support import (  # noqa: F401
    app_config, clock, fake_shopify, install_via_oauth, shop_clock, shop_orders, topic_body, webhook)


def test_install_webhooks_poll_and_deliver(client, runtime, session, fake_shopify, clock):
    number = make_tracking_number(journey="STD", created_at=clock.now, serial=1)
    fake_shopify.orders[4]["fulfillments"][0]["trackingInfo"] = [
        {"number": number, "company": "Sandbox Express", "url": f"https://track.example.com/{number}"}]
    store_id = install_via_oauth(client, fake_shopify)
    shopify_sync_tick(runtime)  # the backfill: the fake's other orders, tracked by carriers we have no keys for

    assert webhook(client, fake_shopify, "orders/create", topic_body(fake_shopify, "orders/create", 4)).status_code == 200
    assert inbox_tick(runtime)["done"] == 1
    parcel = session.scalar(select(Shipment).where(Shipment.tracking_number == number))
    assert parcel.store_id == store_id and parcel.carrier_code == "sandbox"

    for _ in range(40):
        inbox_tick(runtime)
        poll_tick(runtime)
        outbox_tick(runtime)
        writeback_tick(runtime)
        clock.advance(seconds=30)
    session.expire_all()
    parcel = session.get(Shipment, parcel.id)
    assert parcel.status == "delivered" and parcel.next_poll_at is None
    fired = session.scalars(select(OutboxItem).where(OutboxItem.shipment_id == parcel.id,
                                                     OutboxItem.destination == "esp")).all()
    assert {i.trigger for i in fired} == {Trigger.ORDER_SHIPPED, Trigger.IN_TRANSIT, Trigger.OUT_FOR_DELIVERY,
                                          Trigger.DELIVERED}
    assert {i.state for i in fired} == {OutboxState.SENT} and {i.delivered_via for i in fired} == {"console"}
    statuses = [e["status"] for e in fake_shopify.fulfillment_events
                if e["fulfillmentId"].endswith("/" + parcel.fulfillment_external_id)]
    assert statuses == ["IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]
