"""A store connected through the fake: backfill, webhooks with tracking numbers from the three plugins, the poller
tracks them, events reach the ESP (console), notes are written back; reconcile re-enables a disabled webhook."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from app.jobs import inbox_tick, outbox_tick, poll_tick, woocommerce_sync_tick, writeback_tick
from app.models import Order, OutboxItem, Shipment, Store, WooSync
from app.services.catalog import Trigger
from app.services.woocommerce_connect import COMPLETE_SETTING
from integrations.carriers.sandbox import make_tracking_number
from tests.app.woocommerce_fixtures import app_config, connect_with_keys, fake_wc, sign_up  # noqa: F401
from tests.fakes.woocommerce import BASE_TIME


def test_backfill_pages_through_a_few_hundred_orders(client, fake_wc, session, runtime):
    for i in range(320):
        fake_wc.add_order(created=BASE_TIME + timedelta(minutes=5 * i))
    sign_up(client)
    store_id = connect_with_keys(client, fake_wc)
    assert woocommerce_sync_tick(runtime)["orders"] == 320
    assert session.scalar(select(func.count()).select_from(Order).where(Order.store_id == store_id)) == 320
    pages = fake_wc.requests_to("/wp-json/wc/v3/orders")
    assert [p.arg("page") for p in pages if p.arg("per_page") == "100"] == ["1", "2", "3", "4"]
    sync = session.get(WooSync, store_id)
    assert not sync.backfill_pending and sync.synced_through is not None
    assert woocommerce_sync_tick(runtime)["stores"] == 0  # the next reconcile is not due yet


def test_connected_store_is_tracked_notified_and_written_back(client, fake_wc, session, runtime, clock):
    sign_up(client)
    store_id = connect_with_keys(client, fake_wc)
    woocommerce_sync_tick(runtime)
    store = session.get(Store, store_id)
    store.settings = {**store.settings, COMPLETE_SETTING: True}
    session.commit()

    numbers = {}
    for serial, plugin in enumerate(("shipment_tracking", "ast", "aftership")):
        order = fake_wc.add_order()
        number = make_tracking_number(journey="STD", created_at=clock.now, serial=serial)
        fake_wc.add_tracking(order["id"], number=number, provider="Sandbox Express" if plugin != "aftership" else "sandbox",
                             plugin=plugin, shipped=clock.now)
        body, headers = fake_wc.delivery(order["id"], topic="order.updated")
        assert client.post("/webhooks/woocommerce", data=body, headers=headers).status_code == 200
        numbers[number] = order["id"]

    for _ in range(24):  # sandbox parcels take 7 steps of 60 s
        inbox_tick(runtime)
        poll_tick(runtime)
        outbox_tick(runtime)
        writeback_tick(runtime)
        clock.advance(seconds=30)

    session.expire_all()
    shipments = session.scalars(select(Shipment).where(Shipment.store_id == store_id)).all()
    assert {s.tracking_number for s in shipments} == set(numbers)
    assert all(s.carrier_code == "sandbox" and s.status == "delivered" for s in shipments)
    esp = Counter(session.scalars(select(OutboxItem.trigger).where(OutboxItem.destination == "esp",
                                                                   OutboxItem.state == "sent")))
    assert esp[Trigger.ORDER_SHIPPED] == 3 and esp[Trigger.DELIVERED] == 3
    writebacks = session.scalars(select(OutboxItem).where(OutboxItem.destination == "writeback")).all()
    assert len(writebacks) == 6 and {w.state for w in writebacks} == {"sent"}
    for number, order_id in numbers.items():
        notes = [n["note"] for n in fake_wc.notes[order_id]]
        assert len(notes) == 2 and notes[0].startswith("Shipped: Sandbox Express") and number in notes[1]
        assert notes[1].startswith("Delivered") and all(not n["customer_note"] for n in fake_wc.notes[order_id])
        assert fake_wc.orders[order_id]["status"] == "completed"


def test_reconcile_reenables_a_disabled_webhook_and_catches_missed_orders(client, fake_wc, session, runtime, clock):
    sign_up(client)
    store_id = connect_with_keys(client, fake_wc)
    woocommerce_sync_tick(runtime)
    hook_id = next(h["id"] for h in fake_wc.webhooks.values() if h["topic"] == "order.updated")
    fake_wc.record_failures(hook_id, 6)  # our endpoint was down: WooCommerce disabled the webhook
    assert fake_wc.webhooks[hook_id]["status"] == "disabled"
    clock.advance(minutes=1)
    missed = fake_wc.add_order()
    fake_wc.add_tracking(missed["id"], number="00340434161094042557", provider="dhl-de", plugin="shipment_tracking")
    clock.advance(minutes=16)
    counts = woocommerce_sync_tick(runtime)
    assert counts["reenabled"] == 1 and fake_wc.webhooks[hook_id]["status"] == "active"
    shipment = session.scalar(select(Shipment).where(Shipment.store_id == store_id))
    assert shipment.tracking_number == "00340434161094042557" and shipment.carrier_code == "dhl_parcel_de"
