"""A return parcel's whole journey on the sandbox, through the real inbox, poll and outbox ticks."""
from __future__ import annotations

import random

from sqlalchemy import select

from app.jobs import inbox_tick, outbox_tick, poll_tick
from app.models import OutboxItem, Shipment
from app.services.catalog import Trigger
from app.services.sandbox import _deliver, order_payload_from_row, sandbox_store, seed
from integrations.stores.sandbox import add_return


def run(runtime, clock, *, rounds: int) -> None:
    for _ in range(rounds):  # the sandbox step is 60 s in tests
        inbox_tick(runtime)
        poll_tick(runtime)
        outbox_tick(runtime)
        clock.advance(seconds=30)


def test_return_goes_from_label_to_received_and_fires_only_return_triggers(runtime, session, clock):
    with runtime.db.session() as s:
        seed(s, orders=1, now=clock.now, rng=random.Random(3), unfulfilled_share=0, step_seconds=runtime.config["SANDBOX_STEP_SECONDS"])
    run(runtime, clock, rounds=20)
    [outbound] = session.scalars(select(Shipment)).all()[:1]
    assert outbound.status in ("delivered", "returned_to_sender")
    with runtime.db.session() as s:
        order = s.get(Shipment, outbound.id).order
        _deliver(s, sandbox_store(s), "orders/updated",
                 add_return(order_payload_from_row(order), rng=random.Random(4), now=clock.now), clock.now)
    run(runtime, clock, rounds=12)

    session.expire_all()
    [ret] = session.scalars(select(Shipment).where(Shipment.is_return)).all()
    assert ret.status == "delivered" and ret.next_poll_at is None
    items = session.scalars(select(OutboxItem).where(OutboxItem.shipment_id == ret.id).order_by(OutboxItem.id)).all()
    assert [(i.trigger, i.state) for i in items] == [(Trigger.RETURN_LABEL_CREATED, "sent"),
                                                     (Trigger.RETURN_RECEIVED, "sent")]
    assert all(i.payload["properties"]["is_return"] is True for i in items)
    assert items[1].payload["properties"]["delivered_to"] == "recipient"
    # the outbound parcel's triggers are untouched by the return
    outbound_triggers = session.scalars(select(OutboxItem.trigger).where(OutboxItem.shipment_id == outbound.id)).all()
    assert Trigger.RETURN_RECEIVED not in outbound_triggers and Trigger.DELAYED not in outbound_triggers


def test_a_shopify_return_merges_as_a_return_parcel(session, clock):
    from datetime import timedelta

    from app.services.fulfillments import merge_fulfillment
    from app.services.tracking import TrackingContext
    from integrations.stores.shopify.returns import parse_return_node
    from tests.app.factories import make_order, make_store
    from tests.integrations.stores.shopify.test_shopify_returns import RETURN_NODE

    store = make_store(session, platform="shopify")
    order = make_order(session, store, number="#450789469", placed_at=clock.now - timedelta(days=9))
    ctx = TrackingContext(app_url="https://app.example.test")
    for change in parse_return_node(RETURN_NODE, received_at=clock.now).webhook_changes() * 2:  # twice: idempotent
        merge_fulfillment(session, store=store, change=change, now=clock.now, ctx=ctx)
    [ret] = order.shipments
    assert ret.is_return and ret.tracking_number == "00340434161094042557"
    assert session.scalars(select(OutboxItem.trigger).where(OutboxItem.shipment_id == ret.id)).all() == [
        Trigger.RETURN_LABEL_CREATED]
