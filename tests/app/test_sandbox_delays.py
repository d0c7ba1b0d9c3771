"""The sandbox shows the delay cases: an order that is not shipped in time fires `Fulfillment Delayed` once."""
from __future__ import annotations

import random

from sqlalchemy import select

from app.jobs import delays_tick, inbox_tick, outbox_tick, poll_tick
from app.models import Order, OutboxItem
from app.services.catalog import Trigger
from app.services.sandbox import UNFULFILLED_AFTER_STEPS, live_tick, seed


def test_unfulfilled_sandbox_order_fires_fulfillment_delayed_once_then_ships(runtime, session, clock):
    step = runtime.config["SANDBOX_STEP_SECONDS"]
    with runtime.db.session() as s:
        seed(s, orders=3, now=clock.now, rng=random.Random(1), unfulfilled_share=1.0, step_seconds=step)
    inbox_tick(runtime)
    assert delays_tick(runtime).get("delayed", 0) == 0  # just placed

    for _ in range(20):  # ten sandbox steps: the orders are late, then the sandbox store ships them
        clock.advance(seconds=step / 2)
        with runtime.db.session() as s:
            live_tick(s, now=clock.now, orders=0, step_seconds=step, rng=random.Random(2))
        inbox_tick(runtime), delays_tick(runtime), poll_tick(runtime), outbox_tick(runtime)

    late = session.scalars(select(OutboxItem).where(OutboxItem.trigger == Trigger.FULFILLMENT_DELAYED)).all()
    orders = session.scalars(select(Order)).all()
    assert len(late) == len(orders) == 3 and len({i.order_id for i in late}) == 3
    assert all(not i.backfill and i.state == "sent" for i in late)
    assert all(o.shipments for o in orders)  # shipped after all
    assert UNFULFILLED_AFTER_STEPS * step <= (late[0].occurred_at - orders[0].placed_at).total_seconds() + step
