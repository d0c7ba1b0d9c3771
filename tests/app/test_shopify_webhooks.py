"""POST /webhooks/shopify and the inbox for every topic: signatures, limits, duplicates, order, privacy, uninstall."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.jobs import inbox_tick, outbox_tick
from app.models import DataExport, InboxItem, Order, OutboxItem, Shipment, Store
from app.models.outbox import OutboxState
from app.models.store import StoreStatus
from tests.app.shopify_support import (  # noqa: F401
    PREVIOUS_SECRET, app_config, clock, fake_shopify, install_via_oauth, shop_clock, shop_orders, topic_body, webhook)
from tests.fakes.shopify import sign_webhook

TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "fulfillments/create", "fulfillments/update",
          "app/uninstalled", "customers/data_request", "customers/redact", "shop/redact")


@pytest.fixture
def store_id(client, fake_shopify) -> int:
    return install_via_oauth(client, fake_shopify)


def _inbox(session) -> list[InboxItem]:
    session.expire_all()
    return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_signed_is_stored_and_processed(client, runtime, session, fake_shopify, store_id, topic):
    answer = webhook(client, fake_shopify, topic, topic_body(fake_shopify, topic, index=4), event_id="evt-1")
    assert answer.status_code == 200
    [item] = _inbox(session)
    assert item.topic == topic and item.store_id == store_id and item.dedupe_key.endswith(":evt-1")
    assert item.headers["X-Shopify-Event-Id"] == "evt-1"
    assert not any("hmac" in name.lower() for name in item.headers)  # the signature is not kept
    assert inbox_tick(runtime) == {"done": 1, "failed": 0, "retry": 0}


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_tampered_or_unsigned_is_refused(client, session, fake_shopify, store_id, topic):
    body = json.dumps(topic_body(fake_shopify, topic)).encode()
    signature = sign_webhook(body, fake_shopify.secret)
    assert webhook(client, fake_shopify, topic, body.replace(b"}", b" }", 1), signature=signature).status_code == 401
    assert webhook(client, fake_shopify, topic, body, signature="").status_code == 401
    assert webhook(client, fake_shopify, topic, body, secret="shpss_someone_else").status_code == 401
    assert webhook(client, fake_shopify, topic, body, signature="not base64!").status_code == 401
    assert _inbox(session) == []


def test_previous_secret_is_accepted_during_rotation(client, session, fake_shopify, store_id):
    assert webhook(client, fake_shopify, "orders/create", topic_body(fake_shopify, "orders/create"),
                   secret=PREVIOUS_SECRET).status_code == 200
    assert len(_inbox(session)) == 1


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_malformed_json_is_400(client, session, fake_shopify, store_id, body):
    assert webhook(client, fake_shopify, "orders/create", body).status_code == 400
    assert _inbox(session) == []


def test_oversized_body_is_413_before_anything_else(client, session, fake_shopify, store_id):
    big = json.dumps({"id": 1, "note": "x" * (1024 * 1024)}).encode()
    assert webhook(client, fake_shopify, "orders/create", big).status_code == 413
    assert webhook(client, fake_shopify, "orders/create", big, signature="").status_code == 413
    # A client that understates Content-Length is cut off by what is actually read.
    just_fits = json.dumps({"id": 1, "note": "x" * (1024 * 1024 - 30)}).encode()
    assert len(just_fits) <= 1024 * 1024
    assert webhook(client, fake_shopify, "orders/create", just_fits).status_code == 200
    assert len(_inbox(session)) == 1


def test_unknown_shop_with_a_valid_signature_gets_200_and_nothing_is_stored(client, session, fake_shopify, store_id):
    answer = webhook(client, fake_shopify, "orders/create", topic_body(fake_shopify, "orders/create"),
                     shop="someone-else.myshopify.com")
    assert answer.status_code == 200
    assert _inbox(session) == []


def test_duplicate_deliveries_are_stored_once(client, runtime, session, fake_shopify, store_id):
    body = topic_body(fake_shopify, "orders/create", 2)
    for _ in range(3):
        assert webhook(client, fake_shopify, "orders/create", body, event_id="same-event").status_code == 200
    assert len(_inbox(session)) == 1
    inbox_tick(runtime)
    assert session.scalar(select(func.count(Order.id))) == 1
    shipped = session.scalars(select(OutboxItem.trigger).where(OutboxItem.destination == "esp")).all()
    assert shipped == ["Order Shipped"] * len(shipped) and len(shipped) == session.scalar(select(func.count(Shipment.id)))


def test_an_older_update_arriving_late_is_ignored(client, runtime, session, fake_shopify, store_id):
    newer = topic_body(fake_shopify, "orders/updated", 2)
    older = json.loads(json.dumps(newer))
    newer["email"] = newer["contact_email"] = "new@example.com"
    older["email"] = older["contact_email"] = "old@example.com"
    older["updated_at"] = "2026-09-01T00:00:00+02:00"
    webhook(client, fake_shopify, "orders/updated", newer)
    inbox_tick(runtime)
    webhook(client, fake_shopify, "orders/updated", older)
    inbox_tick(runtime)
    assert session.scalar(select(Order.email)) == "new@example.com"


def test_fulfillment_for_a_known_order_adds_the_parcel(client, runtime, session, fake_shopify, store_id):
    order = topic_body(fake_shopify, "orders/create", 5)  # index 5: two fulfillments
    only_first = dict(order, fulfillments=order["fulfillments"][:1])
    webhook(client, fake_shopify, "orders/create", only_first)
    inbox_tick(runtime)
    assert session.scalar(select(func.count(Shipment.id))) == 1
    webhook(client, fake_shopify, "fulfillments/create", order["fulfillments"][1])
    webhook(client, fake_shopify, "fulfillments/update", order["fulfillments"][1])  # a repeat changes nothing
    inbox_tick(runtime)
    numbers = set(session.scalars(select(Shipment.tracking_number)))
    assert numbers == {f["tracking_number"] for f in order["fulfillments"]}
    assert session.scalar(select(func.count(OutboxItem.id)).where(OutboxItem.trigger == "Order Shipped")) == 2


def test_fulfillment_for_an_unknown_order_fetches_the_order(client, runtime, session, fake_shopify, store_id):
    order = topic_body(fake_shopify, "orders/create", 7)
    webhook(client, fake_shopify, "fulfillments/create", order["fulfillments"][0])
    assert inbox_tick(runtime)["done"] == 1
    stored = session.scalar(select(Order))
    assert stored.external_id == str(order["id"]) and stored.email == order["email"]
    assert session.scalar(select(func.count(Shipment.id))) == len(order["fulfillments"])
    graphql = fake_shopify.requests_to("/admin/api/{version}/graphql.json")
    assert f"id:{order['id']}" in graphql[-1].json()["variables"]["query"]


def test_cancelled_fulfillment_stops_polling_its_parcel(client, runtime, session, fake_shopify, store_id):
    order = topic_body(fake_shopify, "orders/create", 7)  # one UPS parcel: polled
    webhook(client, fake_shopify, "orders/create", order)
    inbox_tick(runtime)
    assert session.scalar(select(Shipment.next_poll_at)) is not None
    webhook(client, fake_shopify, "fulfillments/update", dict(order["fulfillments"][0], status="cancelled"))
    inbox_tick(runtime)
    session.expire_all()
    stopped = session.scalars(select(Shipment).where(Shipment.tracking_stopped_reason == "fulfillment_cancelled")).all()
    assert stopped and all(s.next_poll_at is None for s in stopped)


def test_uninstall_stops_all_work_and_drops_the_tokens(client, runtime, session, fake_shopify, store_id):
    webhook(client, fake_shopify, "orders/create", topic_body(fake_shopify, "orders/create", 4))
    inbox_tick(runtime)
    webhook(client, fake_shopify, "app/uninstalled", topic_body(fake_shopify, "app/uninstalled"))
    inbox_tick(runtime)
    store = session.get(Store, store_id)
    assert store.status == StoreStatus.UNINSTALLED and store.credentials_encrypted is None
    assert session.scalar(select(func.count(Shipment.id)).where(Shipment.next_poll_at.is_not(None))) == 0
    # Later order news is stored (shop/redact must still arrive) but not acted on.
    webhook(client, fake_shopify, "orders/create", topic_body(fake_shopify, "orders/create", 5))
    inbox_tick(runtime)
    assert session.scalar(select(func.count(Order.id))) == 1


def test_customer_redact_removes_the_customer_everywhere(client, runtime, session, fake_shopify, store_id, clock):
    mine, other = topic_body(fake_shopify, "orders/create", 4), topic_body(fake_shopify, "orders/create", 5)
    webhook(client, fake_shopify, "orders/create", mine)
    webhook(client, fake_shopify, "orders/create", other)
    inbox_tick(runtime)
    outbox_tick(runtime)  # the first events are sent ...
    clock.advance(minutes=5)
    first = session.scalar(select(Shipment).join(Order).where(Order.external_id == str(mine["id"])))
    from app.services.outbox import enqueue

    with runtime.db.session() as s:  # ... and one is still waiting
        shipment = s.get(Shipment, first.id)
        enqueue(s, store=s.get(Store, store_id), order=shipment.order, shipment=shipment, trigger="Shipment In Transit",
                occurred_at=clock.now, now=clock.now, app_url=runtime.app_url)
    webhook(client, fake_shopify, "customers/redact", topic_body(fake_shopify, "customers/redact", 4))
    assert inbox_tick(runtime)["done"] == 1

    session.expire_all()
    redacted = session.scalar(select(Order).where(Order.external_id == str(mine["id"])))
    assert (redacted.email, redacted.phone, redacted.first_name, redacted.last_name, redacted.customer_id) == (None,) * 5
    kept = session.scalar(select(Order).where(Order.external_id == str(other["id"])))
    assert kept.email == other["email"]
    rows = session.scalars(select(OutboxItem).where(OutboxItem.order_id == redacted.id)).all()
    assert rows and all(r.state == OutboxState.SENT for r in rows)  # the unsent event is gone
    assert all(r.payload["profile"] == {"redacted": True} for r in rows)
    for item in _inbox(session):
        if item.topic.startswith("orders/") and json.loads(item.body or b"{}").get("id") == mine["id"]:
            raise AssertionError("the raw delivery still holds the customer's data")
    assert mine["email"].encode() not in b"".join(i.body for i in _inbox(session))


def test_data_request_produces_an_export_the_merchant_can_download(client, runtime, session, fake_shopify, store_id):
    mine = topic_body(fake_shopify, "orders/create", 4)
    webhook(client, fake_shopify, "orders/create", mine)
    inbox_tick(runtime)
    webhook(client, fake_shopify, "customers/data_request", topic_body(fake_shopify, "customers/data_request", 4))
    inbox_tick(runtime)
    export = session.scalar(select(DataExport))
    assert export.store_id == store_id and export.orders_count == 1
    page = client.get(f"/privacy/exports?store={store_id}")
    assert page.status_code == 200 and mine["email"] in page.get_data(as_text=True)
    download = client.get(f"/privacy/exports/{export.id}.json")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    data = download.json
    assert data["orders"][0]["email"] == mine["email"]
    assert data["orders"][0]["shipments"][0]["tracking_number"] == mine["fulfillments"][0]["tracking_number"]
    stranger = client.application.test_client()
    assert stranger.get(f"/privacy/exports/{export.id}.json").status_code == 404


def test_shop_redact_deletes_the_shop_data(client, runtime, session, fake_shopify, store_id):
    webhook(client, fake_shopify, "orders/create", topic_body(fake_shopify, "orders/create", 4))
    inbox_tick(runtime)
    webhook(client, fake_shopify, "app/uninstalled", topic_body(fake_shopify, "app/uninstalled"))
    inbox_tick(runtime)
    webhook(client, fake_shopify, "shop/redact", topic_body(fake_shopify, "shop/redact"))
    assert inbox_tick(runtime) == {"done": 1, "failed": 0, "retry": 0}
    session.expire_all()
    assert session.get(Store, store_id) is None
    for model in (Order, Shipment, OutboxItem):
        assert session.scalar(select(func.count()).select_from(model)) == 0
    [item] = _inbox(session)  # only the redact request itself remains, detached from the deleted shop
    assert item.topic == "shop/redact" and item.store_id is None and item.state == "done"
    assert webhook(client, fake_shopify, "orders/create", topic_body(fake_shopify, "orders/create")).status_code == 200
