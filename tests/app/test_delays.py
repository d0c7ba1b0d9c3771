"""Parcel delays: stalled and slipped parcels open one episode each, closed when the parcel moves again."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from app.models import OutboxItem
from app.services.catalog import Trigger
from app.services.tracking import TrackingContext, apply_tracking_result
from integrations.carriers.base import EstimatedDelivery
from integrations.status import CARRIER_DELAY_SUBSTATUS, DeliveredTo, ShipmentStatus as S
from tests.app.factories import event, make_order, make_shipment, make_store, result

CTX = TrackingContext(app_url="https://app.example.test", backfill_window_hours=48)
MONDAY = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)  # 09:00 in Berlin


def at(day: int, hour: int = 9) -> datetime:
    """A time in the week of 23 November 2026, in UTC."""
    return datetime(2026, 11, day, hour, tzinfo=timezone.utc)


@pytest.fixture
def make_parcel(session):
    def build(*, destination: str = "DE", is_return: bool = False, **settings):
        store = make_store(session, **settings)
        order = make_order(session, store, placed_at=MONDAY)
        order.shipping_country = destination
        order.shipping_postcode = "10001" if destination == "US" else "20095"
        shipment = make_shipment(session, store, order, shipped_at=MONDAY, is_return=is_return)
        return store, order, shipment
    return build


class Parcel:
    """One parcel and the carrier's running story of it: each poll answers with every event so far."""

    def __init__(self, session, parts) -> None:
        self.session = session
        self.store, self.order, self.shipment = parts
        self.events = [event(MONDAY, S.IN_TRANSIT, code="PU")]
        self.eta: EstimatedDelivery | None = None

    def scan(self, when: datetime, status: S = S.IN_TRANSIT, **kw) -> None:
        self.events.append(event(when, status, code=kw.pop("code", f"C{len(self.events)}"), **kw))

    def poll(self, now: datetime) -> list[tuple[str, str | None]]:
        written = apply_tracking_result(self.session, store=self.store, order=self.order, shipment=self.shipment,
                                        now=now, ctx=CTX, result=result(self.shipment.tracking_number, *self.events,
                                                                        estimated_delivery=self.eta))
        return [(w.trigger, w.payload["properties"].get("delay_reason")) for w in written]

    def delayed(self) -> list[OutboxItem]:
        return list(self.session.scalars(select(OutboxItem).where(
            OutboxItem.shipment_id == self.shipment.id, OutboxItem.trigger == Trigger.DELAYED).order_by(OutboxItem.id)))


@pytest.fixture
def parcel(session, make_parcel):
    p = Parcel(session, make_parcel())
    assert p.poll(MONDAY) == [(Trigger.IN_TRANSIT, None)]
    return p


STALLED = (Trigger.DELAYED, "stalled")


def test_stalled_then_moving_then_stalled_again_is_two_episodes(parcel):
    assert parcel.poll(at(25)) == []  # two business days: not yet
    assert parcel.poll(at(26, 7)) == []  # 2 days 23 hours
    assert parcel.poll(at(26, 9)) == [STALLED]
    assert parcel.poll(at(26, 11)) == [] and parcel.poll(at(27)) == []  # one event per episode, not per poll
    parcel.scan(at(27, 10))  # it moves: the episode is over
    assert parcel.poll(at(27, 12)) == [] and parcel.shipment.delay_open is False
    assert parcel.poll(at(30, 11)) == []  # Fri 10:00 -> Mon 11:00 is two business days (Sunday skipped)
    assert parcel.poll(datetime(2026, 12, 1, 11, tzinfo=timezone.utc)) == [STALLED]
    first, second = parcel.delayed()
    assert first.key.endswith(":Shipment Delayed:1") and second.key.endswith(":Shipment Delayed:2")
    props = first.payload["properties"]
    assert props["hours_since_last_scan"] == 73 and props["business_days_since_last_scan"] == 3
    assert props["delay_episode"] == 1 and props["last_scan_at"] == MONDAY.isoformat()


def test_international_parcels_get_longer(make_parcel, session):
    parcel = Parcel(session, make_parcel(destination="US"))
    parcel.poll(MONDAY)
    # Five business days, counted in New York's dates: Thanksgiving (Thu 26) and Sunday do not count.
    assert parcel.poll(at(28, 14)) == []
    assert parcel.poll(at(30, 14)) == [STALLED]


def test_store_thresholds_override_the_defaults(make_parcel, session):
    parcel = Parcel(session, make_parcel(stalled_after_business_days=1))
    parcel.poll(MONDAY)
    assert parcel.poll(at(24, 9)) == [STALLED]


@pytest.mark.parametrize("status,substatus", [
    (S.DELIVERED, DeliveredTo.RECIPIENT.value),
    (S.RETURNED_TO_SENDER, None),
    (S.READY_FOR_PICKUP, None),  # waiting at the Packstation is silent by nature
    (S.EXCEPTION, "address_issue"),  # the shopper already has the specific news
])
def test_no_stall_once_delivered_returned_or_waiting(parcel, status, substatus):
    parcel.scan(at(23, 12), status, substatus=substatus)
    parcel.poll(at(23, 13))
    assert parcel.poll(at(30)) == [] and parcel.delayed() == []


def test_a_return_never_fires_shipment_delayed(make_parcel, session):
    parcel = Parcel(session, make_parcel(is_return=True))
    parcel.eta = EstimatedDelivery(earliest=date(2026, 11, 24))
    parcel.poll(MONDAY)
    parcel.eta = EstimatedDelivery(earliest=date(2026, 11, 26))
    assert parcel.poll(at(30)) == [] and parcel.delayed() == []


def test_carrier_delay_and_stall_share_the_episode(parcel):
    parcel.scan(at(23, 10), substatus=CARRIER_DELAY_SUBSTATUS, code="DLY")
    assert parcel.poll(at(23, 11)) == [(Trigger.DELAYED, "carrier")]
    assert parcel.poll(at(27)) == []  # stalled too, but the carrier's delay episode is still open
    parcel.scan(at(27, 10))
    parcel.poll(at(27, 11))
    assert parcel.poll(datetime(2026, 12, 1, 11, tzinfo=timezone.utc)) == [STALLED]
    assert [d.key.rsplit(":", 1)[-1] for d in parcel.delayed()] == ["1", "2"]


SLIPPED = (Trigger.DELAYED, "eta_slipped")


# (estimated delivery before, after, fires)
ETA_CHANGES = [
    (EstimatedDelivery(earliest=date(2026, 11, 25)), EstimatedDelivery(earliest=date(2026, 11, 27)), True),
    (EstimatedDelivery(earliest=date(2026, 11, 25)), EstimatedDelivery(earliest=date(2026, 11, 26)), True),
    (EstimatedDelivery(earliest=date(2026, 11, 25)), EstimatedDelivery(earliest=date(2026, 11, 24)), False),  # earlier
    (EstimatedDelivery(earliest=date(2026, 11, 25)), EstimatedDelivery(earliest=date(2026, 11, 25)), False),
    # a later window on the same day is not a slip
    (EstimatedDelivery(earliest=datetime(2026, 11, 25, 9, tzinfo=timezone.utc),
                       latest=datetime(2026, 11, 25, 12, tzinfo=timezone.utc)),
     EstimatedDelivery(earliest=datetime(2026, 11, 25, 14, tzinfo=timezone.utc),
                       latest=datetime(2026, 11, 25, 18, tzinfo=timezone.utc)), False),
    # the window's end moved a day later
    (EstimatedDelivery(earliest=date(2026, 11, 24), latest=date(2026, 11, 25)),
     EstimatedDelivery(earliest=date(2026, 11, 24), latest=date(2026, 11, 26)), True),
    (None, EstimatedDelivery(earliest=date(2026, 11, 27)), False),  # the first estimate is not a slip
]


@pytest.mark.parametrize("before,after,fires", ETA_CHANGES)
def test_eta_slip(parcel, before, after, fires):
    parcel.eta = before
    parcel.poll(at(23, 10))
    parcel.eta = after
    assert parcel.poll(at(23, 12)) == ([SLIPPED] if fires else [])
    assert parcel.poll(at(23, 14)) == []  # the same news twice is no news
    if fires:
        [item] = parcel.delayed()
        props = item.payload["properties"]
        assert props["previous_estimated_delivery"] == "2026-11-25" and props["eta_passed"] is False
        assert props["new_estimated_delivery"] == (after.latest or after.earliest).isoformat()


def test_eta_passed_without_delivery_fires_once(parcel):
    parcel.eta = EstimatedDelivery(earliest=date(2026, 11, 24))
    parcel.poll(at(23, 10))
    parcel.scan(at(24, 8), S.OUT_FOR_DELIVERY, code="OFD")
    assert parcel.poll(at(24, 9)) == [(Trigger.OUT_FOR_DELIVERY, None)]
    assert parcel.poll(at(25, 2)) == []  # 03:00 in Berlin: carriers post late scans, wait a little
    assert parcel.poll(at(25, 3)) == [SLIPPED]
    [item] = parcel.delayed()
    assert item.payload["properties"]["eta_passed"] is True
    assert item.payload["properties"]["previous_estimated_delivery"] == "2026-11-24"
    parcel.scan(at(25, 8), S.FAILED_ATTEMPT, code="ATT")  # it moved: the episode closes ...
    parcel.poll(at(25, 9))
    assert parcel.poll(at(25, 15)) == []  # ... and the same passed date is not announced again
    parcel.eta = EstimatedDelivery(earliest=date(2026, 11, 26))  # a new date is a new slip
    assert parcel.poll(at(25, 16)) == [SLIPPED]
    assert [d.key.rsplit(":", 1)[-1] for d in parcel.delayed()] == ["1", "2"]


def test_delivered_parcel_with_a_passed_eta_is_quiet(parcel):
    parcel.eta = EstimatedDelivery(earliest=date(2026, 11, 24))
    parcel.scan(at(25, 10), S.DELIVERED, substatus=DeliveredTo.RECIPIENT.value)
    assert parcel.poll(at(26)) == [(Trigger.DELIVERED, None)]
    assert parcel.delayed() == []
