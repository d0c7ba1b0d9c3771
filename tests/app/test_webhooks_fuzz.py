"""Any request to a webhook endpoint (Shopify, WooCommerce, AfterShip) gets a 4xx or a 200, never a 500; what is
stored then goes through the inbox without crashing a tick."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from app.jobs import inbox_tick
from app.models import CarrierAccount, Store
from tests.fakes.shopify import sign_webhook

SHOPIFY_SECRET = "shpss_fuzz_0123456789abcdef"
WOO_SECRET = "woo-webhook-secret"
AFTERSHIP_SECRET = "aftership-webhook-secret"
FUZZ = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=40),
              st.sampled_from(["2026-11-23T10:00:00+01:00", "gid://shopify/Order/1", "1Z999AA10123456784"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["id", "name", "email", "fulfillments", "tracking_number", "tracking_numbers", "line_items", "updated_at",
         "created_at", "status", "meta_data", "msg", "tag", "checkpoints", "event", "event_id", "orders_to_redact",
         "customer", "shop_domain", "date_modified", "date_modified_gmt", "tracking_company"]), inner, max_size=6)),
    max_leaves=30)
bodies = st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()))
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=300)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SHOPIFY_API_SECRET": SHOPIFY_SECRET, "SHOPIFY_API_KEY": "fuzz"}


@pytest.fixture
def stores(session, runtime):
    shop = Store(platform="shopify", domain="fuzz.myshopify.com", name="fuzz", settings={})
    woo = Store(platform="woocommerce", domain="woo.example", name="woo", settings={},
                credentials_encrypted=runtime.vault.encrypt({"consumer_key": "ck_x", "consumer_secret": "cs_x",
                                                             "webhook_secret": WOO_SECRET}))
    session.add_all([shop, woo])
    session.flush()
    session.add(CarrierAccount(store_id=shop.id, carrier_code="aftership",
                               credentials_encrypted=runtime.vault.encrypt({"api_key": "k", "webhook_secret": AFTERSHIP_SECRET})))
    session.commit()
    return {"shop": shop.id, "woo": woo.id}


def _b64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_shopify_endpoint(client, runtime, stores):
    @FUZZ
    @given(body=bodies, topic=st.one_of(st.sampled_from(["orders/create", "orders/updated", "fulfillments/create",
                                                         "customers/redact", "shop/redact", "app/uninstalled"]), header_text),
           shop=st.one_of(st.just("fuzz.myshopify.com"), header_text), signed=st.booleans(), event_id=header_text)
    @example(body=b'{"id": 1}', topic="t" * 300, shop="fuzz.myshopify.com", signed=True, event_id="e" * 300)
    def check(body, topic, shop, signed, event_id):
        headers = {"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop, "X-Shopify-Event-Id": event_id,
                   "X-Shopify-Hmac-Sha256": sign_webhook(body, SHOPIFY_SECRET) if signed else "bad"}
        response = client.post("/webhooks/shopify", data=body, headers=headers)
        assert response.status_code in (200, 400, 401, 413), response.status_code
        if signed and response.status_code == 200:
            inbox_tick(runtime)  # a stored oddity fails or retries in the inbox; the tick itself never raises
    check()


def test_woocommerce_endpoint(client, runtime, stores):
    @FUZZ
    @given(body=bodies, topic=st.one_of(st.sampled_from(["order.created", "order.updated", "order.deleted"]), header_text),
           source=st.one_of(st.just("https://woo.example/"), header_text), signed=st.booleans())
    @example(body=b'{"id": 1}', topic="t" * 300, source="https://woo.example/", signed=True)
    def check(body, topic, source, signed):
        headers = {"X-WC-Webhook-Source": source, "X-WC-Webhook-Topic": topic, "X-WC-Webhook-ID": "7",
                   "X-WC-Webhook-Signature": _b64_hmac(WOO_SECRET, body) if signed else "bad"}
        response = client.post("/webhooks/woocommerce", data=body, headers=headers)
        assert response.status_code in (200, 400, 401, 413), response.status_code
        if signed and response.status_code == 200:
            inbox_tick(runtime)
    check()


def test_aftership_endpoint(client, runtime, stores):
    @FUZZ
    @given(body=bodies, store=st.one_of(st.just(str(stores["shop"])), header_text), signed=st.booleans())
    @example(body=json.dumps({"event": "e" * 300, "event_id": "i" * 300, "msg": {"tracking_number": "1"}}).encode(),
             store=str(stores["shop"]), signed=True)
    def check(body, store, signed):
        headers = {"aftership-hmac-sha256": _b64_hmac(AFTERSHIP_SECRET, body) if signed else "bad"}
        response = client.post("/webhooks/aftership", data=body, headers=headers, query_string={"store": store})
        assert response.status_code in (200, 400, 401, 413), response.status_code
        if signed and response.status_code == 200:
            inbox_tick(runtime)
    check()
