"""The shipment state machine: every status and its trigger, duplicates, out-of-order events, backfill, episodes."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import OutboxItem, TrackingEventRecord
from app.services.catalog import Trigger
from app.services.tracking import TrackingContext, apply_tracking_result, record_fulfillment
from integrations.carriers.base import TrackingError, TrackingErrorCode
from integrations.status import CARRIER_DELAY_SUBSTATUS, DeliveredTo, ExceptionReason, ShipmentStatus as S
from tests.app.factories import event, hours, make_order, make_shipment, make_store, result

CTX = TrackingContext(app_url="https://app.example.test", backfill_window_hours=48)


@pytest.fixture
def parcel(session, clock):
    store = make_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(5))
    shipment = make_shipment(session, store, order, shipped_at=clock.now - hours(4))
    return store, order, shipment


def apply(session, parcel, res, now):
    store, order, shipment = parcel
    return apply_tracking_result(session, store=store, order=order, shipment=shipment, result=res, now=now, ctx=CTX)


def outbox(session, shipment):
    return list(session.scalars(select(OutboxItem).where(OutboxItem.shipment_id == shipment.id).order_by(OutboxItem.id)))


# status reached from in_transit -> (expected shipment status, substatus, triggers fired by that event)
TRANSITIONS = [
    (S.LABEL_CREATED, None, []),
    (S.IN_TRANSIT, None, [Trigger.IN_TRANSIT]),
    (S.OUT_FOR_DELIVERY, None, [Trigger.OUT_FOR_DELIVERY]),
    (S.READY_FOR_PICKUP, None, [Trigger.READY_FOR_PICKUP]),
    (S.DELIVERED, DeliveredTo.NEIGHBOUR.value, [Trigger.DELIVERED]),
    (S.FAILED_ATTEMPT, None, [Trigger.ATTEMPT_FAILED]),
    (S.EXCEPTION, ExceptionReason.ADDRESS_ISSUE.value, [Trigger.ADDRESS_ISSUE]),
    (S.EXCEPTION, ExceptionReason.DAMAGED.value, [Trigger.EXCEPTION]),
    (S.EXCEPTION, ExceptionReason.CUSTOMS.value, [Trigger.EXCEPTION]),
    (S.EXCEPTION, ExceptionReason.WEATHER.value, [Trigger.DELAYED]),
    (S.IN_TRANSIT, CARRIER_DELAY_SUBSTATUS, [Trigger.IN_TRANSIT, Trigger.DELAYED]),
    (S.RETURNED_TO_SENDER, None, [Trigger.RETURNED_TO_SENDER]),
]


@pytest.mark.parametrize("status,substatus,triggers", TRANSITIONS)
def test_each_status_fires_its_trigger(session, parcel, clock, status, substatus, triggers):
    _, _, shipment = parcel
    written = apply(session, parcel, result(shipment.tracking_number, event(clock.now - hours(1), status, substatus=substatus)),
                    clock.now)
    assert [w.trigger for w in written] == triggers
    assert shipment.status == status.value and shipment.substatus == substatus
    for item in written:
        assert item.key.startswith(f"{shipment.store_id}:{shipment.id}:{item.trigger}")
        assert item.payload["properties"]["tracking_number"] == shipment.tracking_number
        assert item.payload["unique_id"] == item.key and item.backfill is False


def test_delivered_carries_delivered_to_and_stops_polling_status(session, parcel, clock):
    _, _, shipment = parcel
    apply(session, parcel, result(shipment.tracking_number, event(clock.now - hours(1), S.DELIVERED,
                                                                   substatus=DeliveredTo.PARCEL_LOCKER.value)), clock.now)
    [item] = outbox(session, shipment)
    assert item.payload["properties"]["delivered_to"] == "parcel_locker"
    assert shipment.delivered_at == clock.now - hours(1)


def test_repeated_result_changes_nothing_twice(session, parcel, clock):
    _, _, shipment = parcel
    res = result(shipment.tracking_number, event(clock.now - hours(3), S.IN_TRANSIT),
                 event(clock.now - hours(1), S.OUT_FOR_DELIVERY))
    first = apply(session, parcel, res, clock.now)
    again = apply(session, parcel, res, clock.now + hours(1))
    assert [w.trigger for w in first] == [Trigger.IN_TRANSIT, Trigger.OUT_FOR_DELIVERY]
    assert again == []
    assert len(session.scalars(select(TrackingEventRecord).where(TrackingEventRecord.shipment_id == shipment.id)).all()) == 2


def test_in_transit_fires_once_not_every_scan(session, parcel, clock):
    _, _, shipment = parcel
    apply(session, parcel, result(shipment.tracking_number, event(clock.now - hours(3), S.IN_TRANSIT, code="PU")), clock.now)
    second = apply(session, parcel, result(shipment.tracking_number, event(clock.now - hours(3), S.IN_TRANSIT, code="PU"),
                                           event(clock.now - hours(2), S.IN_TRANSIT, code="HUB", text="hub scan")), clock.now)
    assert second == []
    assert shipment.last_event_description == "hub scan"


def test_out_of_order_event_does_not_move_status_back(session, parcel, clock):
    _, _, shipment = parcel
    apply(session, parcel, result(shipment.tracking_number, event(clock.now - hours(1), S.DELIVERED)), clock.now)
    late = apply(session, parcel, result(shipment.tracking_number, event(clock.now - hours(3), S.OUT_FOR_DELIVERY)), clock.now)
    assert shipment.status == S.DELIVERED.value
    # the late news is recorded (timeline stays complete) but does not fire flows: it is superseded
    assert [(w.trigger, w.backfill) for w in late] == [(Trigger.OUT_FOR_DELIVERY, True)]


def test_superseded_milestones_in_one_batch_are_backfilled(session, parcel, clock):
    _, _, shipment = parcel
    written = apply(session, parcel, result(shipment.tracking_number, event(clock.now - hours(3), S.IN_TRANSIT),
                                            event(clock.now - hours(2), S.OUT_FOR_DELIVERY),
                                            event(clock.now - hours(1), S.DELIVERED)), clock.now)
    assert [(w.trigger, w.backfill) for w in written] == [
        (Trigger.IN_TRANSIT, True), (Trigger.OUT_FOR_DELIVERY, True), (Trigger.DELIVERED, False)]


def test_stale_news_is_sent_as_backfill(session, parcel, clock):
    _, _, shipment = parcel
    written = apply(session, parcel, result(shipment.tracking_number, event(clock.now - hours(72), S.DELIVERED)), clock.now)
    assert [(w.trigger, w.backfill) for w in written] == [(Trigger.DELIVERED, True)]
    assert written[0].payload["backfill"] is True


def test_store_backfill_window_is_respected(session, clock):
    store = make_store(session, backfill_window_hours=100)
    order = make_order(session, store, placed_at=clock.now - hours(90))
    shipment = make_shipment(session, store, order, shipped_at=clock.now - hours(80))
    written = apply_tracking_result(session, store=store, order=order, shipment=shipment, now=clock.now, ctx=CTX,
                                    result=result(shipment.tracking_number, event(clock.now - hours(72), S.DELIVERED)))
    assert written[0].backfill is False


def test_delay_is_one_episode_until_the_parcel_moves_again(session, parcel, clock):
    _, _, shipment = parcel
    number = shipment.tracking_number
    t = clock.now - hours(30)
    delayed = event(t, S.IN_TRANSIT, code="DLY", substatus=CARRIER_DELAY_SUBSTATUS, text="delayed")
    first = apply(session, parcel, result(number, delayed), clock.now)
    still = apply(session, parcel, result(number, delayed, event(t + hours(2), S.IN_TRANSIT, code="DLY2",
                                                               substatus=CARRIER_DELAY_SUBSTATUS, text="still delayed")), clock.now)
    moved = apply(session, parcel, result(number, event(t + hours(5), S.IN_TRANSIT, code="HUB")), clock.now)
    again = apply(session, parcel, result(number, event(t + hours(9), S.IN_TRANSIT, code="DLY3",
                                                        substatus=CARRIER_DELAY_SUBSTATUS, text="delayed again")), clock.now)
    assert [w.trigger for w in first] == [Trigger.IN_TRANSIT, Trigger.DELAYED]
    assert still == [] and moved == []
    assert [w.key.rsplit(":", 1)[-1] for w in again] == ["2"]
    assert [w.payload["properties"]["delay_reason"] for w in again] == ["carrier"]


def test_no_delay_on_a_delivered_parcel(session, parcel, clock):
    _, _, shipment = parcel
    written = apply(session, parcel, result(shipment.tracking_number,
                                            event(clock.now - hours(3), S.IN_TRANSIT, substatus=CARRIER_DELAY_SUBSTATUS, code="DLY"),
                                            event(clock.now - hours(1), S.DELIVERED)), clock.now)
    assert Trigger.DELAYED not in [w.trigger for w in written]


def test_unknown_code_keeps_status_and_raw_values(session, parcel, clock):
    _, _, shipment = parcel
    apply(session, parcel, result(shipment.tracking_number, event(clock.now - hours(3), S.IN_TRANSIT)), clock.now)
    written = apply(session, parcel, result(shipment.tracking_number, event(clock.now - hours(3), S.IN_TRANSIT),
                                            event(clock.now - hours(1), S.UNKNOWN, code="ZX9", text="Sendungsdaten")), clock.now)
    assert written == []
    assert shipment.status == S.IN_TRANSIT.value
    stored = session.scalar(select(TrackingEventRecord).where(TrackingEventRecord.code == "ZX9"))
    assert stored.status == "unknown" and stored.description == "Sendungsdaten"


def test_error_result_changes_no_status(session, parcel, clock):
    _, _, shipment = parcel
    written = apply(session, parcel, result(shipment.tracking_number, error=TrackingError(
        code=TrackingErrorCode.NOT_FOUND, message="unknown number")), clock.now)
    assert written == [] and shipment.status == S.LABEL_CREATED.value
    assert shipment.poll_failures == 1 and "not_found" in shipment.last_error


def test_return_parcel_fires_only_return_triggers(session, clock):
    store = make_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(50))
    ret = make_shipment(session, store, order, number="RET1", shipped_at=clock.now - hours(3), is_return=True)
    label = record_fulfillment(session, store=store, order=order, shipment=ret, now=clock.now, ctx=CTX)
    moving = apply_tracking_result(session, store=store, order=order, shipment=ret, now=clock.now, ctx=CTX,
                                   result=result("RET1", event(clock.now - hours(2), S.IN_TRANSIT),
                                                 event(clock.now - hours(1), S.DELIVERED)))
    assert label.trigger == Trigger.RETURN_LABEL_CREATED
    assert [w.trigger for w in moving] == [Trigger.RETURN_RECEIVED]


def test_disabled_trigger_is_recorded_as_skipped(session, clock):
    store = make_store(session, disabled_triggers=[Trigger.IN_TRANSIT])
    order = make_order(session, store, placed_at=clock.now - hours(5))
    shipment = make_shipment(session, store, order, shipped_at=clock.now - hours(4))
    [item] = apply_tracking_result(session, store=store, order=order, shipment=shipment, now=clock.now, ctx=CTX,
                                   result=result(shipment.tracking_number, event(clock.now - hours(1), S.IN_TRANSIT)))
    assert item.state == "skipped"


def test_event_times_keep_the_carrier_offset(session, parcel, clock):
    from datetime import timedelta, timezone

    _, _, shipment = parcel
    local = (clock.now - hours(2)).astimezone(timezone(timedelta(hours=-5)))
    apply(session, parcel, result(shipment.tracking_number, event(local, S.IN_TRANSIT)), clock.now)
    stored = session.scalar(select(TrackingEventRecord).where(TrackingEventRecord.shipment_id == shipment.id))
    assert stored.utc_offset_minutes == -300
    assert stored.occurred_at == local and stored.local_time.utcoffset() == timedelta(hours=-5)


def test_payload_has_the_core_properties(session, parcel, clock):
    from app.services.catalog import CORE_PROPERTIES

    _, _, shipment = parcel
    [item] = apply(session, parcel, result(shipment.tracking_number, event(clock.now - hours(1), S.OUT_FOR_DELIVERY)), clock.now)
    props = item.payload["properties"]
    assert set(CORE_PROPERTIES) <= set(props)
    assert props["tracking_page_url"].startswith("https://app.example.test/t/")
    assert props["shipment_index"] == 1 and props["shipment_count"] == 1
    assert item.payload["profile"]["phone_number"] == "+4915123456789"
    assert item.payload["profile"]["external_id"] == "sandbox:shop-one.myshopify.com:anna@example.com"
