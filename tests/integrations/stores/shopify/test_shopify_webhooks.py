"""Webhook signatures and payload parsing for every subscribed topic, on Shopify-shaped bodies."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from integrations.stores.base import WebhookChange
from integrations.stores.shopify.returns import RETURN_TOPICS
from integrations.stores.shopify.webhooks import (
    ALL_TOPICS,
    COMPLIANCE_TOPICS,
    parse_webhook,
    read_delivery_headers,
    verify_webhook_hmac,
)
from tests.fakes.shopify import FakeShopify, generate_orders, rest_order, sign_webhook

VENDOR_SAMPLES = Path(__file__).resolve().parents[5] / "shared" / "vendor-samples" / "shopify"

SHOP = "parcel-test.myshopify.com"

# Shaped like Shopify's webhook reference examples (REST payloads, ids as integers).
ORDER = {
    "id": 820982911946154508, "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
    "name": "#9999", "order_number": 1234, "email": "jon@example.com", "contact_email": "jon@example.com",
    "phone": None, "customer_locale": "en", "currency": "USD", "total_price": "403.00",
    "created_at": "2021-12-31T19:00:00-05:00", "updated_at": "2021-12-31T19:00:00-05:00",
    "processed_at": "2021-12-31T19:00:00-05:00", "cancelled_at": None, "cancel_reason": None,
    "order_status_url": "https://jsmith.myshopify.com/548380009/orders/123456abcd/authenticate?key=abcdefg",
    "customer": {"id": 115310627314723954, "email": "john@example.com", "first_name": "John",
                 "last_name": "Smith", "phone": None, "state": "disabled"},
    "shipping_address": {"first_name": "Steve", "last_name": "Shipper", "address1": "123 Shipping Street",
                         "phone": "555-555-SHIP", "city": "Shippington", "zip": "40003", "province": "Kentucky",
                         "country": "United States", "country_code": "US", "province_code": "KY"},
    "line_items": [
        {"id": 866550311766439020, "admin_graphql_api_id": "gid://shopify/LineItem/866550311766439020",
         "title": "IPod Nano - 8GB", "name": "IPod Nano - 8GB", "price": "199.00", "quantity": 1,
         "sku": "IPOD2008PINK", "variant_title": None, "product_id": 632910392, "variant_id": 808950810},
        {"id": 141249953214522974, "title": "IPod Nano - 8GB", "name": "IPod Nano - 8GB - red",
         "price": "199.00", "quantity": 1, "sku": "", "variant_title": "red", "product_id": 632910392},
    ],
    "fulfillments": [],
}

FULFILLMENT = {
    "id": 123456, "admin_graphql_api_id": "gid://shopify/Fulfillment/123456", "order_id": 820982911946154508,
    "status": "success", "created_at": "2021-12-31T19:00:00-05:00", "updated_at": "2021-12-31T19:00:00-05:00",
    "service": "manual", "tracking_company": "UPS", "shipment_status": None, "location_id": None,
    "tracking_number": "1z827wk74630", "tracking_numbers": ["1z827wk74630"],
    "tracking_url": "https://www.ups.com/track?loc=en&tracknum=1z827wk74630",
    "tracking_urls": ["https://www.ups.com/track?loc=en&tracknum=1z827wk74630"],
    "receipt": {}, "name": "#9999.1",
    "line_items": [{"id": 866550311766439020, "title": "IPod Nano - 8GB", "quantity": 1, "price": "199.00",
                    "sku": "IPOD2008PINK"}],
}

APP_UNINSTALLED = {"id": 548380009, "name": "Super Toys", "email": "super@supertoys.com",
                   "domain": None, "myshopify_domain": SHOP, "plan_name": "basic"}
CUSTOMERS_REDACT = {"shop_id": 954889, "shop_domain": SHOP,
                    "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
                    "orders_to_redact": [299938, 280263, 220458]}
CUSTOMERS_DATA_REQUEST = {"shop_id": 954889, "shop_domain": SHOP, "orders_requested": [299938, 280263],
                          "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
                          "data_request": {"id": 9999}}
SHOP_REDACT = {"shop_id": 954889, "shop_domain": SHOP}


def _body(payload: object) -> bytes:
    return json.dumps(payload).encode()


# -- signatures ----------------------------------------------------------------------------------------------


def test_hmac_accepts_a_correctly_signed_raw_body() -> None:
    body = _body(ORDER)
    assert verify_webhook_hmac(body=body, header=sign_webhook(body, "s3cret"), secrets=["s3cret"])


def test_hmac_rejects_a_tampered_body_and_a_reserialized_one() -> None:
    body = _body(ORDER)
    header = sign_webhook(body, "s3cret")
    assert not verify_webhook_hmac(body=body.replace(b"403.00", b"0.01"), header=header, secrets=["s3cret"])
    # Same JSON, different bytes: the signature is over the raw body, never over parsed data.
    assert not verify_webhook_hmac(body=json.dumps(ORDER, indent=2).encode(), header=header, secrets=["s3cret"])


def test_hmac_accepts_the_previous_secret_during_rotation_only_when_listed() -> None:
    body = _body(ORDER)
    header = sign_webhook(body, "old-secret")
    assert verify_webhook_hmac(body=body, header=header, secrets=["new-secret", "old-secret"])
    assert not verify_webhook_hmac(body=body, header=header, secrets=["new-secret"])


@pytest.mark.parametrize("header", [None, "", "not base64!!", "AAAA", sign_webhook(b"{}", "other")])
def test_hmac_rejects_missing_or_garbage_headers(header: str | None) -> None:
    assert not verify_webhook_hmac(body=b"{}", header=header, secrets=["s3cret"])


def test_hmac_with_no_secret_configured_never_matches() -> None:
    assert not verify_webhook_hmac(body=b"{}", header=sign_webhook(b"{}", ""), secrets=[""])


def test_delivery_headers_are_read_case_insensitively() -> None:
    delivery = read_delivery_headers({"x-shopify-topic": "orders/create", "X-Shopify-Shop-Domain": SHOP,
                                      "X-SHOPIFY-EVENT-ID": "evt-1", "X-Shopify-Hmac-Sha256": "abc"})
    assert (delivery.topic, delivery.shop_domain, delivery.event_id, delivery.hmac) == (
        "orders/create", SHOP, "evt-1", "abc")
    assert delivery.webhook_id is None


# -- parsing -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", ["orders/create", "orders/updated"])
def test_order_topics_map_the_order(topic: str) -> None:
    change = parse_webhook(topic=topic, body=_body(ORDER))
    assert change.kind == WebhookChange.KIND_ORDER_UPSERT
    order = change.order
    assert order is not None
    assert order.external_id == "820982911946154508"
    assert order.number == "#9999"
    assert order.updated_at == datetime(2022, 1, 1, 0, 0, tzinfo=timezone.utc)
    assert order.updated_at.utcoffset() is not None
    assert order.total == Decimal("403.00") and order.currency == "USD"
    assert (order.email, order.first_name, order.last_name, order.locale) == (
        "jon@example.com", "John", "Smith", "en")
    assert order.customer_id == "115310627314723954"
    assert order.order_url and order.order_url.endswith("key=abcdefg")
    assert (order.shipping_address.country_code, order.shipping_address.postcode) == ("US", "40003")
    first, second = order.line_items
    assert (first.external_id, first.title, first.sku, first.quantity, first.price) == (
        "866550311766439020", "IPod Nano - 8GB", "IPOD2008PINK", 1, Decimal("199.00"))
    assert second.sku is None and second.variant_title == "red"
    assert not order.cancelled and order.fulfillments == ()


def test_orders_cancelled_marks_the_order_cancelled() -> None:
    payload = {**ORDER, "cancelled_at": "2022-01-02T10:00:00-05:00", "cancel_reason": "customer",
               "updated_at": "2022-01-02T10:00:00-05:00"}
    change = parse_webhook(topic="orders/cancelled", body=_body(payload))
    assert change.kind == WebhookChange.KIND_ORDER_UPSERT and change.order and change.order.cancelled


def test_order_fulfillments_carry_tracking_and_line_items() -> None:
    two_parcels = {**FULFILLMENT, "tracking_numbers": ["1Z1", "1Z2"], "tracking_number": "1Z1",
                   "tracking_urls": ["https://ups.example/1Z1", "https://ups.example/1Z2"]}
    change = parse_webhook(topic="orders/updated", body=_body({**ORDER, "fulfillments": [two_parcels]}))
    assert change.order is not None
    first, second = change.order.fulfillments
    assert (first.external_id, first.tracking_number, first.tracking_url, first.carrier_name) == (
        "123456", "1Z1", "https://ups.example/1Z1", "UPS")
    assert (second.external_id, second.tracking_number, second.tracking_url) == (
        "123456.2", "1Z2", "https://ups.example/1Z2")
    assert first.line_item_ids == ("866550311766439020",)
    assert first.created_at == datetime(2022, 1, 1, tzinfo=timezone.utc)
    assert first.status == "success"


@pytest.mark.parametrize("topic", ["fulfillments/create", "fulfillments/update"])
def test_fulfillment_topics_give_the_fulfillment_and_its_order_id(topic: str) -> None:
    change = parse_webhook(topic=topic, body=_body(FULFILLMENT))
    assert change.kind == WebhookChange.KIND_ORDER_UPSERT
    assert change.order is None and change.order_external_id == "820982911946154508"
    assert change.fulfillment is not None
    assert (change.fulfillment.external_id, change.fulfillment.tracking_number,
            change.fulfillment.carrier_name) == ("123456", "1z827wk74630", "UPS")


def test_app_uninstalled() -> None:
    assert parse_webhook(topic="app/uninstalled", body=_body(APP_UNINSTALLED)).kind == WebhookChange.KIND_UNINSTALLED


def test_customers_redact_names_the_customer_and_the_orders() -> None:
    change = parse_webhook(topic="customers/redact", body=_body(CUSTOMERS_REDACT))
    assert change.kind == WebhookChange.KIND_CUSTOMER_REDACT
    assert (change.customer_id, change.customer_email) == ("191167", "john@example.com")
    assert change.order_external_ids == ("299938", "280263", "220458")


def test_customers_data_request() -> None:
    change = parse_webhook(topic="customers/data_request", body=_body(CUSTOMERS_DATA_REQUEST))
    assert change.kind == WebhookChange.KIND_CUSTOMER_DATA_REQUEST
    assert change.customer_email == "john@example.com" and change.order_external_ids == ("299938", "280263")


def test_shop_redact() -> None:
    assert parse_webhook(topic="shop/redact", body=_body(SHOP_REDACT)).kind == WebhookChange.KIND_SHOP_REDACT


def test_every_topic_we_listen_to_is_understood() -> None:
    bodies = {"orders/create": ORDER, "orders/updated": ORDER, "orders/cancelled": ORDER,
              "fulfillments/create": FULFILLMENT, "fulfillments/update": FULFILLMENT,
              "app/uninstalled": APP_UNINSTALLED, "customers/data_request": CUSTOMERS_DATA_REQUEST,
              "customers/redact": CUSTOMERS_REDACT, "shop/redact": SHOP_REDACT}
    returned = {"id": 77, "status": "requested", "order": {"id": 450789469}, "return_line_items": []}
    bodies.update({topic: returned for topic in RETURN_TOPICS if topic.startswith("returns/")})
    bodies["reverse_deliveries/attach_deliverable"] = {
        "id": 5, "return": {"id": 77}, "shipping_deliverable": {"tracking": {"tracking_number": "1Z999AA10123456784"}}}
    assert set(bodies) == set(ALL_TOPICS)
    assert set(COMPLIANCE_TOPICS) <= set(ALL_TOPICS)
    for topic, payload in bodies.items():
        assert parse_webhook(topic=topic, body=_body(payload)).kind != WebhookChange.KIND_IGNORED, topic


def test_unknown_topics_are_ignored_not_errors() -> None:
    assert parse_webhook(topic="products/update", body=b'{"id": 1}').kind == WebhookChange.KIND_IGNORED


@pytest.mark.parametrize("topic,body", [
    ("orders/create", b"{not json"),
    ("orders/create", b"[1, 2]"),
    ("orders/create", b'{"name": "#1"}'),  # no id
    ("orders/create", _body({**ORDER, "created_at": None})),
    ("orders/create", _body({**ORDER, "line_items": "many"})),
    ("fulfillments/create", _body({"id": 1, "created_at": "2021-12-31T19:00:00-05:00"})),  # no order_id
    ("customers/redact", _body({"shop_domain": SHOP})),
    ("shop/redact", b"{}"),
    ("orders/create", b"\xff\xfe"),
])
def test_malformed_bodies_raise_value_error(topic: str, body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_webhook(topic=topic, body=body)


def test_webhook_and_graphql_sources_agree_on_ids_and_values() -> None:
    from integrations.stores.shopify.sync import parse_graphql_order

    for node in generate_orders(12, shop=SHOP):
        via_graphql = parse_graphql_order(node)
        via_webhook = parse_webhook(topic="orders/updated", body=_body(rest_order(node))).order
        assert via_webhook is not None
        for attribute in ("external_id", "number", "placed_at", "updated_at", "currency", "total", "email",
                          "phone", "locale", "order_url", "shipping_address", "cancelled", "first_name"):
            assert getattr(via_webhook, attribute) == getattr(via_graphql, attribute), attribute
        assert [li.external_id for li in via_webhook.line_items] == [li.external_id for li in via_graphql.line_items]
        assert [(f.external_id, f.tracking_number, f.carrier_name, f.line_item_ids, f.created_at)
                for f in via_webhook.fulfillments] == [
            (f.external_id, f.tracking_number, f.carrier_name, f.line_item_ids, f.created_at)
            for f in via_graphql.fulfillments]


def test_fake_webhook_bodies_parse_for_order_and_fulfillment_topics() -> None:
    fake = FakeShopify(orders=3)
    change = parse_webhook(topic="fulfillments/create", body=fake.webhook_body("fulfillments/create", 1))
    assert change.order_external_id == "5000001" and change.fulfillment is not None


@pytest.mark.skipif(not VENDOR_SAMPLES.is_dir(), reason="vendor samples not available")
def test_vendor_sample_order_parses() -> None:
    sample = VENDOR_SAMPLES / "rest_admin_order_with_fulfillments__shopify_python_api_fixture.json"
    if not sample.is_file():
        pytest.skip("Shopify order sample not available")
    payload = json.loads(sample.read_text())["order"]  # the REST resource wraps it; a webhook body does not
    order = parse_webhook(topic="orders/updated", body=json.dumps(payload).encode()).order
    assert order is not None
    assert (order.external_id, order.number, order.email) == ("450789469", "#1001", "bob.norman@hostmail.com")
    assert len(order.line_items) == 3 and order.line_items[0].variant_title == "green"
    assert order.shipping_address.country_code == "US" and order.shipping_address.postcode == "40202"
    (fulfillment,) = order.fulfillments
    assert (fulfillment.external_id, fulfillment.tracking_number, fulfillment.carrier_name) == (
        "255858046", "1Z2345", None)
    assert fulfillment.tracking_url and "ups.com" in fulfillment.tracking_url
    assert fulfillment.line_item_ids == ("466157049",)
    assert order.updated_at.utcoffset() is not None
