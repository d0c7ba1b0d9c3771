"""The whole flow on the sandbox: orders arrive as webhooks, parcels move, every journey fires its triggers once."""
from __future__ import annotations

import random
from collections import Counter, defaultdict

from sqlalchemy import select

from app.jobs import inbox_tick, outbox_tick, poll_tick
from app.models import OutboxItem, Shipment
from app.services.catalog import Trigger
from app.services.sandbox import seed

EXPECTED = {  # journey -> triggers that must have fired (flows), in any order
    "STD": {Trigger.ORDER_SHIPPED, Trigger.IN_TRANSIT, Trigger.OUT_FOR_DELIVERY, Trigger.DELIVERED},
    "NBR": {Trigger.ORDER_SHIPPED, Trigger.IN_TRANSIT, Trigger.OUT_FOR_DELIVERY, Trigger.DELIVERED},
    "PKS": {Trigger.ORDER_SHIPPED, Trigger.IN_TRANSIT, Trigger.READY_FOR_PICKUP, Trigger.DELIVERED},
    "ATT": {Trigger.ORDER_SHIPPED, Trigger.IN_TRANSIT, Trigger.OUT_FOR_DELIVERY, Trigger.ATTEMPT_FAILED, Trigger.DELIVERED},
    "ADR": {Trigger.ORDER_SHIPPED, Trigger.IN_TRANSIT, Trigger.ADDRESS_ISSUE, Trigger.OUT_FOR_DELIVERY, Trigger.DELIVERED},
    "DLY": {Trigger.ORDER_SHIPPED, Trigger.IN_TRANSIT, Trigger.DELAYED, Trigger.OUT_FOR_DELIVERY, Trigger.DELIVERED},
    "RTS": {Trigger.ORDER_SHIPPED, Trigger.IN_TRANSIT, Trigger.OUT_FOR_DELIVERY, Trigger.ATTEMPT_FAILED,
            Trigger.EXCEPTION, Trigger.RETURNED_TO_SENDER},
    "STL": {Trigger.ORDER_SHIPPED, Trigger.IN_TRANSIT, Trigger.DELAYED, Trigger.OUT_FOR_DELIVERY, Trigger.DELIVERED},
    "ETA": {Trigger.ORDER_SHIPPED, Trigger.IN_TRANSIT, Trigger.DELAYED, Trigger.OUT_FOR_DELIVERY, Trigger.DELIVERED},
}
DELAY_REASON = {"DLY": "carrier", "STL": "stalled", "ETA": "eta_slipped"}


def test_sandbox_parcels_travel_and_every_trigger_fires_once(runtime, session, clock):
    with runtime.db.session() as s:
        seed(s, orders=60, now=clock.now, rng=random.Random(7), unfulfilled_share=0, step_seconds=runtime.config["SANDBOX_STEP_SECONDS"])
    for _ in range(60):  # sandbox step is 60 s in tests: 30 minutes of simulated time
        inbox_tick(runtime)
        poll_tick(runtime)
        outbox_tick(runtime)
        clock.advance(seconds=30)

    shipments = session.scalars(select(Shipment)).all()
    assert len(shipments) >= 60
    assert all(s.next_poll_at is None and s.status in ("delivered", "returned_to_sender") for s in shipments)
    fired: dict[int, set[str]] = defaultdict(set)
    for shipment_id, trigger in session.execute(select(OutboxItem.shipment_id, OutboxItem.trigger)):
        fired[shipment_id].add(trigger)
    for shipment in shipments:
        journey = shipment.tracking_number.split("-")[1]
        assert fired[shipment.id] == EXPECTED[journey], shipment.tracking_number
    # exactly one Shipment Delayed per delayed parcel, for the reason its journey scripts
    for shipment in shipments:
        journey = shipment.tracking_number.split("-")[1]
        delayed = session.scalars(select(OutboxItem).where(OutboxItem.shipment_id == shipment.id,
                                                           OutboxItem.trigger == Trigger.DELAYED)).all()
        assert [d.payload["properties"]["delay_reason"] for d in delayed] == (
            [DELAY_REASON[journey]] if journey in DELAY_REASON else []), shipment.tracking_number
    keys = session.scalars(select(OutboxItem.key)).all()
    assert len(keys) == len(set(keys))
    states = Counter(session.scalars(select(OutboxItem.state)))
    assert set(states) == {"sent"}
    # every journey of the weighted mix showed up at least once in 60 orders
    assert {s.tracking_number.split("-")[1] for s in shipments} == set(EXPECTED)
