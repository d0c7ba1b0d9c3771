"""POST /webhooks/woocommerce: signed, tampered, ping, oversized and malformed deliveries; dedupe; inbox processing."""
from __future__ import annotations

from sqlalchemy import select

from app.jobs import inbox_tick
from app.models import InboxItem, Order
from tests.app.woocommerce_fixtures import app_config, connect_with_keys, fake_wc, sign_up  # noqa: F401

URL = "/webhooks/woocommerce"


def _connected(client, fake):
    sign_up(client)
    return connect_with_keys(client, fake)


def test_a_signed_delivery_is_stored_then_synced(client, fake_wc, session, runtime):
    store_id = _connected(client, fake_wc)
    order = fake_wc.add_order()
    body, headers = fake_wc.delivery(order["id"], topic="order.created")
    assert client.post(URL, data=body, headers=headers).status_code == 200
    item = session.scalar(select(InboxItem))
    assert item.store_id == store_id and item.source == "woocommerce" and item.topic == "order.created"
    assert "X-WC-Webhook-Signature" not in item.headers
    inbox_tick(runtime)
    synced = session.scalar(select(Order).where(Order.store_id == store_id))
    assert synced.external_id == str(order["id"]) and synced.email == order["billing"]["email"]


def test_the_same_order_version_is_stored_once_even_with_new_delivery_ids(client, fake_wc, session):
    _connected(client, fake_wc)
    order = fake_wc.add_order()
    for _ in range(3):
        body, headers = fake_wc.delivery(order["id"])
        assert client.post(URL, data=body, headers=headers).status_code == 200
    fake_wc.add_tracking(order["id"], number="00340434161094042557", provider="dhl-de")
    body, headers = fake_wc.delivery(order["id"], delivery_id="same-id-again")
    client.post(URL, data=body, headers=headers)
    assert len(session.scalars(select(InboxItem)).all()) == 2


def test_tampered_unsigned_and_foreign_deliveries_are_refused(client, fake_wc, session):
    _connected(client, fake_wc)
    order = fake_wc.add_order()
    body, headers = fake_wc.delivery(order["id"])
    assert client.post(URL, data=body.replace(b"Anna", b"Eve"), headers=headers).status_code == 401
    wrong = fake_wc.delivery(order["id"], secret="not-the-secret")
    assert client.post(URL, data=wrong[0], headers=wrong[1]).status_code == 401
    foreign = {**headers, "X-WC-Webhook-Source": "https://elsewhere.example/"}
    assert client.post(URL, data=body, headers=foreign).status_code == 401
    unsigned = {k: v for k, v in headers.items() if k != "X-WC-Webhook-Signature"}
    assert client.post(URL, data=body, headers=unsigned).status_code == 400
    assert client.post(URL, data=body, headers={**headers, "X-WC-Webhook-Signature": "%%%"}).status_code == 400
    assert session.scalar(select(InboxItem)) is None


def test_the_creation_ping_gets_200_and_stores_nothing(client, fake_wc, session):
    _connected(client, fake_wc)
    body, headers = fake_wc.ping(1)
    response = client.post(URL, data=body, headers=headers)
    assert response.status_code == 200 and response.get_data() == b""
    assert session.scalar(select(InboxItem)) is None


def test_oversized_and_malformed_bodies(client, fake_wc, app, session):
    store_id = _connected(client, fake_wc)
    app.config["WOOCOMMERCE_WEBHOOK_MAX_BYTES"] = 1000
    order = fake_wc.add_order(items=3)
    body, headers = fake_wc.delivery(order["id"])
    assert len(body) > 1000 and client.post(URL, data=body, headers=headers).status_code == 413
    app.config["WOOCOMMERCE_WEBHOOK_MAX_BYTES"] = 2_000_000
    from integrations.stores.woocommerce.webhooks import sign
    from app.models import Store
    secret = app.extensions["runtime"].vault.decrypt(session.get(Store, store_id).credentials_encrypted)["webhook_secret"]
    for bad in (b"not json", b'["a list"]', b'{"no": "id"}'):
        signed = {**headers, "X-WC-Webhook-Signature": sign(bad, secret)}
        assert client.post(URL, data=bad, headers=signed).status_code == 400
    assert session.scalar(select(InboxItem)) is None


def test_deleted_orders_are_removed(client, fake_wc, session, runtime):
    store_id = _connected(client, fake_wc)
    order = fake_wc.add_order()
    for topic in ("order.created", "order.deleted"):
        body, headers = fake_wc.delivery(order["id"], topic=topic)
        assert client.post(URL, data=body, headers=headers).status_code == 200
        inbox_tick(runtime)
    assert session.scalar(select(Order).where(Order.store_id == store_id)) is None
