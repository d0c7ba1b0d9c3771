"""The poller against a loopback carrier API: one slow or unknown number never costs the others their results."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.jobs import poll_tick
from app.models import CarrierAccount, OutboxItem, Shipment
from integrations.carriers.transport import clear_token_cache
from tests.app.factories import hours, make_order, make_shipment, make_store
from tests.fakes.carriers import FakeUps


def ups_in_transit(number: str) -> dict:
    status = {"type": "I", "description": "Departed from Facility", "code": "DP", "statusCode": "005"}
    return {"inquiryNumber": number, "package": [{
        "trackingNumber": number, "currentStatus": status,
        "activity": [{"date": "20261123", "time": "031500", "gmtDate": "20261123", "gmtTime": "08:15:00",
                      "gmtOffset": "-05:00", "status": status,
                      "location": {"address": {"city": "Louisville", "stateProvince": "KY", "countryCode": "US"}}}]}]}


@pytest.fixture
def fake_ups():
    clear_token_cache()
    with FakeUps() as fake:
        yield fake
    clear_token_cache()


@pytest.fixture
def app_config(app_config, fake_ups):
    return {**app_config, "UPS_API_URL": fake_ups.base_url, "CARRIER_READ_TIMEOUT_SECONDS": 0.3}


def _parcels(session, runtime, clock, numbers, *, credentials=True):
    store = make_store(session)
    if credentials:
        session.add(CarrierAccount(store_id=store.id, carrier_code="ups", credentials_encrypted=runtime.vault.encrypt(
            {"client_id": "client-id", "client_secret": "client-secret"})))
    order = make_order(session, store, placed_at=clock.now - hours(30))
    for number in numbers:
        make_shipment(session, store, order, number=number, carrier="ups", shipped_at=clock.now - hours(20))
    session.commit()


def _by_number(session):
    session.expire_all()
    return {s.tracking_number: s for s in session.scalars(select(Shipment))}


def test_slow_and_unknown_numbers_do_not_lose_the_others(runtime, session, clock, fake_ups):
    fake_ups.tracked = {"1ZGOOD": ups_in_transit("1ZGOOD"), "1ZSLOW": ups_in_transit("1ZSLOW")}
    fake_ups.slow = {"1ZSLOW": 1.5}
    _parcels(session, runtime, clock, ["1ZGOOD", "1ZSLOW", "1ZNONE"])
    counts = poll_tick(runtime)
    assert counts["polled"] == 3 and counts["errors"] == 2
    got = _by_number(session)
    assert got["1ZGOOD"].status == "in_transit" and got["1ZGOOD"].last_event_location.startswith("Louisville")
    assert got["1ZGOOD"].next_poll_at - clock.now > timedelta(hours=1.7)
    assert got["1ZSLOW"].status == "label_created" and got["1ZSLOW"].last_error.startswith("carrier_down")
    assert got["1ZNONE"].last_error.startswith("not_found")
    assert got["1ZNONE"].next_poll_at - clock.now > timedelta(hours=5)  # carriers learn of labels late
    triggers = session.scalars(select(OutboxItem.trigger)).all()
    assert triggers == ["Shipment In Transit"]


def test_rate_limited_carrier_waits_for_retry_after(runtime, session, clock, fake_ups):
    fake_ups.tracked = {"1ZA": ups_in_transit("1ZA")}
    fake_ups.quota, fake_ups.retry_after = 0, "3600"
    _parcels(session, runtime, clock, ["1ZA", "1ZB"])
    poll_tick(runtime)
    got = _by_number(session)
    for shipment in got.values():
        assert shipment.last_error.startswith("rate_limited")
        assert shipment.next_poll_at == clock.now + timedelta(seconds=3600)
    assert poll_tick(runtime)["polled"] == 0  # nothing due: no retry loop against an exhausted quota


def test_missing_credentials_is_a_clear_error_not_a_crash(runtime, session, clock, fake_ups):
    _parcels(session, runtime, clock, ["1ZA"], credentials=False)
    assert poll_tick(runtime)["errors"] == 1
    shipment = _by_number(session)["1ZA"]
    assert shipment.last_error.startswith("auth") and shipment.next_poll_at is not None
    assert not fake_ups.requests_to("/api/track/v1/details/1ZA")


def test_one_broken_result_costs_only_its_own_parcel(runtime, session, clock):
    """A result the state machine cannot apply sends the batch down the parcel-by-parcel path."""
    from app.services.poller import poll_due
    from integrations.carriers.base import TrackingEvent, TrackingResult
    from integrations.status import ShipmentStatus

    class Scripted:
        code, name, batch_size, cadence_scale = "sandbox", "Scripted", 10, 1.0
        quota = None

        def track(self, *, numbers):
            results = []
            for number in numbers:
                text = None if number == "BROKEN" else "Arrived at hub"  # a description of None breaks the fingerprint
                results.append(TrackingResult(tracking_number=number, status=ShipmentStatus.IN_TRANSIT, events=(
                    TrackingEvent(occurred_at=clock.now - hours(1), status=ShipmentStatus.IN_TRANSIT, code="HUB",
                                  description=text),)))
            return results

    store = make_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(30))
    for number in ("OK-1", "BROKEN", "OK-2"):
        make_shipment(session, store, order, number=number, shipped_at=clock.now - hours(20))
    session.commit()
    counts = poll_due(session, carrier_for=lambda code, account: Scripted(), now=clock.now,
                      ctx=runtime.tracking_context, new_session=runtime.db.sessionmaker)
    assert counts["triggers"] == 2
    got = _by_number(session)
    assert got["OK-1"].status == got["OK-2"].status == "in_transit"
    assert got["BROKEN"].status == "label_created" and got["BROKEN"].next_poll_at == clock.now + timedelta(minutes=15)
