"""Shopify install: the standalone auth-code grant, the embedded session-token path, re-install, backfill, reconcile."""
from __future__ import annotations

import re

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.jobs import shopify_sync_tick
from app.models import Order, Shipment, ShopifySync, Store
from app.models.store import StoreStatus
from integrations.stores.shopify.webhooks import SUBSCRIBED_TOPICS
from tests.app.shopify_support import app_config, clock, fake_shopify, install_via_oauth, shop_clock, shop_orders  # noqa: F401

WEBHOOK_URI = "https://app.example.test/webhooks/shopify"


def _token_requests(fake, grant: str | None = None) -> list:
    requests = fake.requests_to("/admin/oauth/access_token", method="POST")
    return [r for r in requests if grant is None or r.json().get("grant_type") == grant]


@pytest.mark.parametrize("shop_orders", [300])
def test_standalone_install_stores_token_subscribes_and_backfills_under_throttling(client, runtime, session, fake_shopify,
                                                                                   shop_clock, clock):
    started = client.get(f"/shopify/install?shop={fake_shopify.shop}")
    location = urlsplit(started.headers["Location"])
    query = parse_qs(location.query)
    assert started.status_code == 302 and location.path == "/admin/oauth/authorize"
    assert query["client_id"] == [fake_shopify.api_key]
    assert query["scope"] == ["read_orders,read_fulfillments,write_fulfillments,read_returns"]
    assert query["redirect_uri"] == ["https://app.example.test/shopify/callback"]

    params = fake_shopify.signed_callback(code=fake_shopify.issue_code(), state=query["state"][0])
    answered = client.get("/shopify/callback", query_string=params)
    assert answered.status_code == 302
    store = session.scalar(select(Store).where(Store.domain == fake_shopify.shop))
    assert answered.headers["Location"] == f"/?store={store.id}"
    assert store.platform == "shopify" and store.status == StoreStatus.ACTIVE
    credentials = runtime.vault.decrypt(store.credentials_encrypted)
    assert credentials["access_token"] in fake_shopify.access_tokens and credentials["refresh_token"]
    assert credentials["access_token"] not in store.credentials_encrypted  # encrypted at rest
    assert _token_requests(fake_shopify)[0].json()["expiring"] == "1"  # expiring offline token asked for
    assert {s["topic"] for s in fake_shopify.subscriptions} == {
        "ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "FULFILLMENTS_CREATE", "FULFILLMENTS_UPDATE",
        "APP_UNINSTALLED", "RETURNS_REQUEST", "RETURNS_APPROVE", "RETURNS_UPDATE", "RETURNS_PROCESS", "RETURNS_CLOSE",
        "RETURNS_CANCEL", "RETURNS_DECLINE", "RETURNS_REOPEN", "REVERSE_DELIVERIES_ATTACH_DELIVERABLE"}
    assert {s["uri"] for s in fake_shopify.subscriptions} == {WEBHOOK_URI}
    assert client.get(f"/?store={store.id}").status_code == 200  # signed in to this shop

    # A replayed callback finds no state in the browser any more.
    assert client.get("/shopify/callback", query_string=params).status_code == 400

    fake_shopify.throttle_next()
    fake_shopify.rate_limit_next(retry_after=1.5)
    assert shopify_sync_tick(runtime) == {"stores": 1, "orders": 300, "errors": 0}
    assert session.scalar(select(func.count(Order.id))) == 300
    assert session.scalar(select(func.count(Shipment.id))) > 250
    assert len(fake_shopify.requests_to("/admin/api/{version}/graphql.json")) >= 6 + 2  # pages + the scripted faults
    assert sum(shop_clock.sleeps) > 0  # waited for the cost bucket instead of hammering
    sync = session.get(ShopifySync, store.id)
    session.refresh(sync)
    assert sync.backfill_pending is False and sync.orders_synced == 300
    assert sync.next_run_at == clock.now + timedelta(hours=1)

    # Nothing due until the hour has passed; then the reconcile reads only what changed since.
    assert shopify_sync_tick(runtime) == {"stores": 0, "orders": 0, "errors": 0}
    clock.advance(hours=1, minutes=1)
    assert shopify_sync_tick(runtime)["stores"] == 1
    reads = [r.json() for r in fake_shopify.requests_to("/admin/api/{version}/graphql.json")
             if re.search(r"\borders\s*\(", r.json().get("query", ""))]
    assert "updated_at:>=" in reads[-1]["variables"]["query"]


@pytest.mark.parametrize("shop", ["evil.com", "x.myshopify.com.evil.com", "", "shop.example.com"])
def test_install_rejects_shops_that_are_not_myshopify_domains(client, shop):
    assert client.get("/shopify/install", query_string={"shop": shop}).status_code == 400


def test_callback_rejects_bad_hmac_wrong_state_old_timestamp_and_other_shop(client, fake_shopify, session):
    def start() -> str:
        started = client.get(f"/shopify/install?shop={fake_shopify.shop}")
        return parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]

    state = start()
    tampered = dict(fake_shopify.signed_callback(code=fake_shopify.issue_code(), state=state), code="other")
    assert client.get("/shopify/callback", query_string=tampered).status_code == 400
    start()
    wrong_state = fake_shopify.signed_callback(code=fake_shopify.issue_code(), state="not-the-state")
    assert client.get("/shopify/callback", query_string=wrong_state).status_code == 400
    state = start()
    old = fake_shopify.signed_callback(code=fake_shopify.issue_code(), state=state,
                                       timestamp=int(time.time()) - 25 * 3600)
    assert client.get("/shopify/callback", query_string=old).status_code == 400
    fresh_browser = client.application.test_client()
    unbound = fake_shopify.signed_callback(code=fake_shopify.issue_code(), state=state)
    assert fresh_browser.get("/shopify/callback", query_string=unbound).status_code == 400
    assert session.scalar(select(func.count(Store.id))) == 0
    assert _token_requests(fake_shopify) == []


def test_callback_signed_with_the_previous_secret_is_accepted(client, fake_shopify, session):
    from tests.app.shopify_support import PREVIOUS_SECRET

    started = client.get(f"/shopify/install?shop={fake_shopify.shop}")
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    params = fake_shopify.signed_callback(code=fake_shopify.issue_code(), state=state, secret=PREVIOUS_SECRET)
    assert client.get("/shopify/callback", query_string=params).status_code == 302


def test_reinstall_updates_the_token_and_never_duplicates_the_store(client, runtime, session, fake_shopify):
    first = install_via_oauth(client, fake_shopify)
    token_before = runtime.vault.decrypt(session.get(Store, first).credentials_encrypted)["access_token"]
    with runtime.db.session() as s:  # the merchant uninstalled in between
        store = s.get(Store, first)
        store.status, store.credentials_encrypted = StoreStatus.UNINSTALLED, None
    second = install_via_oauth(client, fake_shopify)
    assert second == first
    assert session.scalar(select(func.count(Store.id))) == 1
    store = session.get(Store, first)
    session.refresh(store)
    assert store.status == StoreStatus.ACTIVE
    assert runtime.vault.decrypt(store.credentials_encrypted)["access_token"] != token_before
    assert len(fake_shopify.subscriptions) == len(SUBSCRIBED_TOPICS)  # existing subscriptions are not created twice
    assert session.get(ShopifySync, first).backfill_pending is True


def test_embedded_app_page_loads_app_bridge_and_may_be_framed_only_by_the_admin(client, fake_shopify):
    page = client.get("/shopify/app", query_string={"shop": fake_shopify.shop, "host": "YWRtaW4uc2hvcGlmeS5jb20"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>' in html
    assert f'<meta name="shopify-api-key" content="{fake_shopify.api_key}">' in html
    assert page.headers["Content-Security-Policy"] == \
        f"frame-ancestors https://{fake_shopify.shop} https://admin.shopify.com"
    assert "Set-Cookie" not in page.headers  # the embedded path needs no (third-party) cookie
    assert client.get("/shopify/app", query_string={"shop": "evil.com"}).status_code == 400


def test_embedded_request_verifies_the_session_token_and_exchanges_it_once(client, runtime, session, fake_shopify):
    bearer = {"Authorization": f"Bearer {fake_shopify.session_token()}"}
    first = client.get("/shopify/api/overview", headers=bearer)
    assert first.status_code == 200, first.data
    assert first.json["shop"] == fake_shopify.shop and first.json["writeback"] is True
    assert "Set-Cookie" not in first.headers
    store = session.scalar(select(Store).where(Store.domain == fake_shopify.shop))
    assert runtime.vault.decrypt(store.credentials_encrypted)["access_token"] in fake_shopify.access_tokens
    exchanges = _token_requests(fake_shopify, "urn:ietf:params:oauth:grant-type:token-exchange")
    assert len(exchanges) == 1 and exchanges[0].json()["expiring"] == "1"
    assert len(fake_shopify.subscriptions) == len(SUBSCRIBED_TOPICS)

    again = client.get("/shopify/api/overview", headers={"Authorization": f"Bearer {fake_shopify.session_token()}"})
    assert again.status_code == 200
    assert len(_token_requests(fake_shopify)) == 1  # the offline token is kept, not exchanged per request

    off = client.post("/shopify/api/settings", json={"shopify_writeback": False},
                      headers={"Authorization": f"Bearer {fake_shopify.session_token()}"})
    assert off.status_code == 200
    session.refresh(store)
    assert store.settings["shopify_writeback"] is False


@pytest.mark.parametrize("claims", [{"secret": "shpss_not_the_app_secret_0123456789abcdef"}, {"aud": "another-app"},
                                    {"exp": int(time.time()) - 120}, {"dest": "https://evil.com"}])
def test_embedded_request_with_a_bad_session_token_is_refused(client, fake_shopify, claims):
    token = fake_shopify.session_token(**claims)
    assert client.get("/shopify/api/overview", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/shopify/api/overview").status_code == 401
    assert _token_requests(fake_shopify) == []


def test_embedded_first_load_with_id_token_installs_the_shop(client, session, fake_shopify):
    page = client.get("/shopify/app", query_string={"shop": fake_shopify.shop, "host": "x",
                                                    "id_token": fake_shopify.session_token()})
    assert page.status_code == 200
    assert session.scalar(select(Store.status).where(Store.domain == fake_shopify.shop)) == StoreStatus.ACTIVE
