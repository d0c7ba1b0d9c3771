"""The poller tracks parcels of DPD, GLS, Hermes, La Poste, Royal Mail and Canada Post through their loopback fakes."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.jobs import poll_tick
from app.models import CarrierAccount, OutboxItem, Shipment
from integrations.carriers.transport import clear_token_cache
from tests.app.factories import hours, make_order, make_shipment, make_store
from tests.integrations.carriers.test_carrier_track_eu import CASES

TRIGGERS = {"failed_attempt": "Shipment Delivery Attempt Failed", "out_for_delivery": "Shipment Out For Delivery",
            "delivered": "Shipment Delivered", "ready_for_pickup": "Shipment Ready For Pickup"}


@pytest.fixture(params=sorted(CASES))
def code(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def fake(code):
    clear_token_cache()
    with CASES[code].fake() as running:
        yield running
    clear_token_cache()


@pytest.fixture
def app_config(app_config, code, fake):
    return {**app_config, f"{code.upper()}_API_URL": fake.base_url, "CARRIER_READ_TIMEOUT_SECONDS": 0.5}


def test_poller_tracks_each_carrier_through_its_fake(code, fake, runtime, session, clock) -> None:
    case = CASES[code]
    good, _slow, missing, _other = case.numbers
    fake.tracked = {good: case.tracked(good)}
    store = make_store(session)
    session.add(CarrierAccount(store_id=store.id, carrier_code=code,
                               credentials_encrypted=runtime.vault.encrypt(case.good)))
    order = make_order(session, store, placed_at=clock.now - hours(30))
    for number in (good, missing):
        make_shipment(session, store, order, number=number, carrier=code, shipped_at=clock.now - hours(20))
    session.commit()
    counts = poll_tick(runtime)
    assert counts["polled"] == 2 and counts["errors"] == 1
    session.expire_all()
    got = {s.tracking_number: s for s in session.scalars(select(Shipment))}
    assert got[good].status == case.expected.value and got[good].last_error is None
    assert got[missing].last_error.startswith("not_found")
    triggers = set(session.scalars(select(OutboxItem.trigger)))
    assert TRIGGERS[case.expected.value] in triggers
