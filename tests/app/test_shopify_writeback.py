"""Write-back and tokens: status changes become fulfillment events exactly once; refresh-token rotation races."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from app import create_app
from app.jobs import inbox_tick, writeback_tick
from app.models import OutboxItem, Shipment, Store
from app.models.outbox import OutboxState
from app.services.shopify_install import install_store
from app.services.tracking import apply_tracking_result
from app.services.writeback import DESTINATION
from integrations.status import ShipmentStatus
from integrations.stores.shopify import oauth
from tests.app.factories import event, result
from tests.app.shopify_support import (  # noqa: F401
    app_config, clock, fake_shopify, install_via_oauth, shop_clock, shop_orders, topic_body, webhook)


def _parcel(client, runtime, session, fake, index: int = 7) -> Shipment:
    install_via_oauth(client, fake)
    webhook(client, fake, "orders/create", topic_body(fake, "orders/create", index))
    inbox_tick(runtime)
    return session.scalar(select(Shipment))


def _apply(runtime, shipment_id: int, *events) -> None:
    with runtime.db.session() as s:
        shipment = s.get(Shipment, shipment_id)
        apply_tracking_result(s, store=s.get(Store, shipment.store_id), order=shipment.order, shipment=shipment,
                              result=result(shipment.tracking_number, *events), now=runtime.clock(),
                              ctx=runtime.tracking_context)


def test_status_changes_reach_shopify_as_fulfillment_events_once(client, runtime, session, fake_shopify, clock):
    parcel = _parcel(client, runtime, session, fake_shopify)
    picked_up = event(clock.now - timedelta(hours=3), ShipmentStatus.IN_TRANSIT, location="Leipzig, DE")
    _apply(runtime, parcel.id, picked_up)
    _apply(runtime, parcel.id, picked_up)  # the same answer again writes nothing new
    assert writeback_tick(runtime)["sent"] == 1
    assert writeback_tick(runtime)["sent"] == 0
    [sent] = fake_shopify.fulfillment_events
    assert sent["status"] == "IN_TRANSIT" and sent["fulfillmentId"] == f"gid://shopify/Fulfillment/{parcel.fulfillment_external_id}"
    assert sent["happenedAt"] == (clock.now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sent["city"] == "Leipzig, DE"

    # A later scan in the same status changes nothing Shopify shows; the next milestone does.
    _apply(runtime, parcel.id, event(clock.now - timedelta(hours=2), ShipmentStatus.IN_TRANSIT, code="HUB", text="hub"))
    _apply(runtime, parcel.id, event(clock.now - timedelta(hours=1), ShipmentStatus.OUT_FOR_DELIVERY))
    fake_shopify.fail_next(__import__("tests.fakes.http", fromlist=["Response"]).Response.json({}, status=503),
                           times=3, path="/admin/api/{version}/graphql.json")
    assert writeback_tick(runtime)["retry"] == 1  # Shopify down: retried later, like ESP events
    clock.advance(hours=2)
    assert writeback_tick(runtime)["sent"] == 1
    assert [e["status"] for e in fake_shopify.fulfillment_events] == ["IN_TRANSIT", "OUT_FOR_DELIVERY"]
    rows = session.scalars(select(OutboxItem).where(OutboxItem.destination == DESTINATION)).all()
    assert len(rows) == 2 and {r.state for r in rows} == {OutboxState.SENT}
    assert all("profile" not in r.payload for r in rows)  # no personal data in write-back rows


def test_writeback_can_be_switched_off_per_store(client, runtime, session, fake_shopify, clock):
    parcel = _parcel(client, runtime, session, fake_shopify)
    with runtime.db.session() as s:
        store = s.get(Store, parcel.store_id)
        store.settings = {**store.settings, "shopify_writeback": False}
    _apply(runtime, parcel.id, event(clock.now - timedelta(hours=1), ShipmentStatus.IN_TRANSIT))
    assert session.scalars(select(OutboxItem).where(OutboxItem.destination == DESTINATION)).all() == []
    assert writeback_tick(runtime)["sent"] == 0 and fake_shopify.fulfillment_events == []


def _install_with_expiring_token(runtime, fake) -> int:
    token = oauth.exchange_code(shop=fake.shop, code=fake.issue_code(), api_key=fake.api_key, secret=fake.secret,
                                admin_base_url_template=fake.base_url)
    with runtime.db.session() as s:
        return install_store(s, runtime=runtime, shop=fake.shop, token=token, now=runtime.clock()).id


def _refreshes(fake) -> int:
    return sum(1 for r in fake.requests_to("/admin/oauth/access_token") if r.json().get("grant_type") == "refresh_token")


def test_a_token_about_to_expire_is_refreshed_and_the_new_pair_stored(runtime, session, fake_shopify):
    fake_shopify.access_token_ttl = 120  # inside the refresh margin: due at once
    store_id = _install_with_expiring_token(runtime, fake_shopify)
    adapter = runtime.store_adapter(session.get(Store, store_id))
    token = adapter.graphql._token()
    assert _refreshes(fake_shopify) == 1 and token in fake_shopify.access_tokens
    session.expire_all()
    stored = runtime.vault.decrypt(session.get(Store, store_id).credentials_encrypted)
    assert stored["access_token"] == token and fake_shopify.refresh_tokens[stored["refresh_token"]] is False


def test_two_workers_refreshing_at_once_keep_one_valid_pair(app_config, runtime, session, fake_shopify, postgres_only):
    fake_shopify.access_token_ttl = 120
    store_id = _install_with_expiring_token(runtime, fake_shopify)
    workers = [create_app(app_config) for _ in range(2)]  # two processes' worth of engines and pools
    try:
        getters = []
        for worker in workers:
            rt = worker.extensions["runtime"]
            with rt.db.session() as s:
                getters.append(rt.store_adapter(s.get(Store, store_id)).graphql._token)
        barrier, tokens, errors = threading.Barrier(2), [None, None], []

        def run(i: int) -> None:
            barrier.wait()
            try:
                tokens[i] = getters[i]()
            except Exception as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        for worker in workers:
            worker.extensions["runtime"].db.dispose()
    assert errors == []
    assert _refreshes(fake_shopify) == 1  # the second worker waited for the row lock and used the new token
    assert tokens[0] == tokens[1] and tokens[0] in fake_shopify.access_tokens
    session.expire_all()
    stored = runtime.vault.decrypt(session.get(Store, store_id).credentials_encrypted)
    assert stored["access_token"] == tokens[0]
    assert fake_shopify.refresh_tokens[stored["refresh_token"]] is False  # the stored refresh token is the live one
