"""A parcel of a carrier we have no adapter for: handed to AfterShip, registered, and moved by signed webhooks."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.jobs import aftership_tick, inbox_tick, outbox_tick, poll_tick
from app.models import CarrierAccount, InboxItem, OutboxItem, Shipment
from app.services.orders import resolve_carrier
from integrations.carriers.aftership import sign
from tests.app.factories import hours, make_order, make_shipment, make_store
from tests.fakes.aftership import FakeAfterShip

NUMBER = "LX123456785IT"  # a valid S10 of Poste Italiane: no adapter of ours


@pytest.fixture
def fake_aftership():
    with FakeAfterShip() as fake:
        yield fake


@pytest.fixture
def app_config(app_config, fake_aftership):
    return {**app_config, "AFTERSHIP_API_URL": fake_aftership.base_url}


@pytest.fixture
def parcel(session, runtime, clock, fake_aftership):
    store = make_store(session)
    session.add(CarrierAccount(store_id=store.id, carrier_code="aftership", credentials_encrypted=runtime.vault.encrypt(
        {"api_key": fake_aftership.api_key, "webhook_secret": fake_aftership.webhook_secret})))
    order = make_order(session, store, placed_at=clock.now - hours(30))
    shipment = make_shipment(session, store, order, number=NUMBER, shipped_at=clock.now - hours(20))
    shipment.carrier_code, shipment.carrier_name, shipment.next_poll_at = None, "Poste Italiane", None
    session.commit()
    return shipment


def post(client, fake: FakeAfterShip, store_id: int, event_id: str):  # type: ignore[no-untyped-def]
    body, headers = fake.webhook(NUMBER, event_id=event_id)
    return client.post(f"/webhooks/aftership?store={store_id}", data=body, headers=headers)


def test_untrackable_parcel_gets_events_through_aftership(client, session, clock, parcel, fake_aftership) -> None:
    assert resolve_carrier(carrier_name="Poste Italiane", tracking_number=NUMBER) is None
    runtime = client.application.extensions["runtime"]
    assert aftership_tick(runtime)["adopted"] == 1
    assert poll_tick(runtime)["polled"] == 1
    assert NUMBER in fake_aftership.registered  # registered with AfterShip on its first poll

    fake_aftership.advance(NUMBER, tag="InTransit", subtag="InTransit_002", message="Accettato",
                           at="2026-11-23T08:00:00+01:00")
    assert post(client, fake_aftership, parcel.store_id, "ev-1").status_code == 200
    fake_aftership.advance(NUMBER, tag="OutForDelivery", subtag="OutForDelivery_001", message="In consegna",
                           at="2026-11-23T09:30:00+01:00")
    assert post(client, fake_aftership, parcel.store_id, "ev-2").status_code == 200
    again = post(client, fake_aftership, parcel.store_id, "ev-2")  # AfterShip retried: stored once
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    fake_aftership.advance(NUMBER, tag="Delivered", subtag="Delivered_005", message="Consegnato al vicino",
                           at="2026-11-23T11:00:00+01:00")
    assert post(client, fake_aftership, parcel.store_id, "ev-3").status_code == 200
    assert post(client, fake_aftership, parcel.store_id, "ev-3b").status_code == 200  # same news, new event id

    assert inbox_tick(runtime)["done"] == 4
    session.expire_all()
    shipment = session.get(Shipment, parcel.id)
    assert shipment.carrier_code == "aftership" and shipment.status == "delivered"
    assert shipment.delivered_to == "neighbour" and shipment.next_poll_at is None
    triggers = sorted(session.scalars(select(OutboxItem.trigger).where(OutboxItem.shipment_id == parcel.id)))
    assert triggers == ["Shipment Delivered", "Shipment In Transit", "Shipment Out For Delivery"]  # each once
    assert outbox_tick(runtime)["sent"] == 3
    delivered = session.scalar(select(OutboxItem).where(OutboxItem.trigger == "Shipment Delivered"))
    assert delivered.state == "sent" and delivered.payload["properties"]["delivered_to"] == "neighbour"


def test_signature_size_and_shape_are_checked(client, session, parcel, fake_aftership) -> None:
    body = json.dumps({"event": "tracking_update", "msg": {"tracking_number": NUMBER}}).encode()
    url = f"/webhooks/aftership?store={parcel.store_id}"
    good = sign(body, fake_aftership.webhook_secret)
    assert client.post(url, data=body, headers={"aftership-hmac-sha256": sign(body, "wrong")}).status_code == 401
    assert client.post(url, data=body).status_code == 401
    assert client.post("/webhooks/aftership", data=body, headers={"aftership-hmac-sha256": good}).status_code == 401
    malformed = b'{"event": "tracking_update", "msg": "nope"}'
    assert client.post(url, data=malformed, headers={
        "aftership-hmac-sha256": sign(malformed, fake_aftership.webhook_secret)}).status_code == 400
    not_json = b"not json"
    assert client.post(url, data=not_json, headers={
        "aftership-hmac-sha256": sign(not_json, fake_aftership.webhook_secret)}).status_code == 400
    huge = b"{" + b" " * 1_000_001 + b"}"
    assert client.post(url, data=huge, headers={"aftership-hmac-sha256": "x"}).status_code == 413
    assert session.scalar(select(InboxItem)) is None  # nothing stored from any of these
    assert client.post(url, data=body, headers={"aftership-hmac-sha256": good}).status_code == 200


def test_saving_the_key_hands_waiting_parcels_to_aftership(client, session, runtime, clock, fake_aftership) -> None:
    from app.services.carrier_accounts import save_carrier_credentials

    store = make_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(30))
    shipment = make_shipment(session, store, order, number=NUMBER, shipped_at=clock.now - hours(20))
    shipment.carrier_code, shipment.next_poll_at = None, None
    session.commit()
    save_carrier_credentials(session, runtime=runtime, store=store, carrier_code="aftership", credentials={
        "api_key": fake_aftership.api_key, "webhook_secret": fake_aftership.webhook_secret})
    session.commit()
    session.expire_all()
    moved = session.get(Shipment, shipment.id)
    assert moved.carrier_code == "aftership" and moved.next_poll_at == clock.now
    assert fake_aftership.registered == {}  # verifying the key registered nothing
