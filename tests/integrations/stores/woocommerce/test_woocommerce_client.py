"""The adapter against the fake site: key checks with clear errors, paging, webhooks, tracking endpoint, notes."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest

from integrations.errors import RetryableError
from integrations.stores.woocommerce import WooCommerceStore, auth, webhooks
from integrations.stores.woocommerce.client import WooClient, WooCommerceError
from integrations.stores.woocommerce.site import ConnectError, domain_of, parse_site_url
from integrations.stores.woocommerce.sync import order_pages
from integrations.stores.woocommerce.verify import verify_keys
from tests.fakes.http import Response
from tests.fakes.woocommerce import FakeWooCommerce


def test_valid_keys_verify_and_report_the_tracking_plugin(fake_wc, wc_client):
    info = verify_keys(wc_client)
    assert "wc/v3" in info.namespaces and info.tracking_namespace == "wc-shipment-tracking/v3"
    signed = fake_wc.requests_to("/wp-json/wc/v3/orders")[0]
    assert signed.arg("oauth_signature_method") == "HMAC-SHA256"  # plain HTTP: OAuth 1.0a, as WooCommerce wants


@pytest.mark.parametrize("setup, code", [
    (lambda fake: None, "wrong_keys"),
    (lambda fake: setattr(fake, "pretty_permalinks", False), "permalinks"),
    (lambda fake: setattr(fake, "woocommerce_active", False), "not_woocommerce"),
])
def test_key_check_failures_say_what_to_fix(fake_wc, setup, code):
    setup(fake_wc)
    if code == "wrong_keys":
        client = WooClient(url=fake_wc.base_url, consumer_key="ck_wrong", consumer_secret="cs_wrong", timeout=5)
    else:
        key, secret = fake_wc.issue_key()
        client = WooClient(url=fake_wc.base_url, consumer_key=key, consumer_secret=secret, timeout=5)
    with pytest.raises(ConnectError) as caught:
        verify_keys(client)
    assert caught.value.code == code
    assert "cs_" not in str(caught.value)  # never echo a secret


def test_a_wrong_secret_fails_the_signature(fake_wc):
    key, _ = fake_wc.issue_key()
    with pytest.raises(ConnectError) as caught:
        verify_keys(WooClient(url=fake_wc.base_url, consumer_key=key, consumer_secret="cs_nope", timeout=5))
    assert caught.value.code == "wrong_keys"


def test_a_site_that_is_not_wordpress(fake_wc, wc_client):
    fake_wc.pretty_permalinks = False
    fake_wc.add_route("GET", "/", lambda request: Response.text("<html>just a site</html>", content_type="text/html"))
    fake_wc._routes.insert(0, fake_wc._routes.pop())  # answer before the fake's own index
    with pytest.raises(ConnectError) as caught:
        verify_keys(wc_client)
    assert caught.value.code == "not_woocommerce"


def test_an_unreachable_site_and_a_timeout():
    client = WooClient(url="http://127.0.0.1:9", consumer_key="ck_x", consumer_secret="cs_x", timeout=1)
    with pytest.raises(ConnectError) as caught:
        verify_keys(client)
    assert caught.value.code == "unreachable"


def test_timeouts_and_server_errors_are_retryable(fake_wc, wc_client):
    fake_wc.fail_next(Response.json({"code": "internal_server_error", "message": "boom", "data": {"status": 500}},
                                    status=500))
    with pytest.raises(RetryableError):
        wc_client.get_json("orders")
    slow = WooClient(url=fake_wc.base_url, consumer_key="ck", consumer_secret="cs", timeout=0.2)
    fake_wc.fail_next(Response.json([], delay=1.0))
    with pytest.raises(RetryableError, match="timed out"):
        slow.get_json("orders")


def test_errors_keep_woocommerces_code(fake_wc, wc_client):
    with pytest.raises(WooCommerceError) as caught:
        wc_client.get_json("orders/999999")
    assert caught.value.code == "woocommerce_rest_shop_order_invalid_id" and caught.value.status == 404


def test_plain_http_is_refused_unless_allowed():
    with pytest.raises(ConnectError) as caught:
        parse_site_url("http://shop.example.com")
    assert caught.value.code == "plain_http"
    assert parse_site_url("shop.example.com/").url == "https://shop.example.com"
    assert parse_site_url("https://Example.com/store/wp-admin/").domain == "example.com/store"
    assert domain_of("https://shop.example.com/") == "shop.example.com"


def test_authorize_url_carries_the_nonce_and_https_callback():
    url = auth.authorize_url(site_url="https://shop.example.com", app_name="Parcelwise", user_id="n1",
                             return_url="https://app.test/r", callback_url="https://app.test/c")
    assert url.startswith("https://shop.example.com/wc-auth/v1/authorize?app_name=Parcelwise&scope=read_write&user_id=n1")
    grant = auth.parse_key_grant(b'{"key_id": 1, "user_id": "n1", "consumer_key": "ck_a", "consumer_secret": "cs_b", '
                                 b'"key_permissions": "read_write"}')
    assert grant.consumer_key == "ck_a" and "cs_b" not in repr(grant)
    with pytest.raises(ValueError):
        auth.parse_key_grant(b'{"user_id": "n1"}')


def test_paging_follows_total_pages_with_modified_after(fake_wc, wc_client):
    for i in range(250):
        fake_wc.add_order(created=datetime(2026, 11, 1, tzinfo=timezone.utc) + timedelta(minutes=i))
    pages = list(order_pages(wc_client, modified_after=datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc)))
    assert [len(p) for p in pages] == [100, 89]  # 189 modified after 01:00, 100 a page
    calls = fake_wc.requests_to("/wp-json/wc/v3/orders")
    assert calls[0].arg("per_page") == "100" and calls[0].arg("modified_after") == "2026-11-01T01:00:00"
    assert calls[0].arg("dates_are_gmt") == "true" and [c.arg("page") for c in calls] == ["1", "2"]


def test_tracking_kept_out_of_meta_is_read_from_the_plugins_endpoint(fake_wc, wc_client):
    order = fake_wc.add_order()
    fake_wc.add_tracking(order["id"], number="1Z999AA10123456784", provider="ups", in_meta=False)
    (mapped,), = list(order_pages(wc_client, modified_after=None, tracking_namespace="wc-shipment-tracking/v3"))
    assert [(f.tracking_number, f.carrier_name) for f in mapped.fulfillments] == [("1Z999AA10123456784", "UPS")]


@pytest.mark.parametrize("plugin, provider, code", [("shipment_tracking", "dhl-de", "DHL Paket"),
                                                     ("ast", "deutsche-post", "DHL Paket"),
                                                     ("aftership", "usps", "USPS")])
def test_orders_carry_each_plugins_tracking(plugin, provider, code):
    with FakeWooCommerce(tracking_plugin=plugin) as fake:
        key, secret = fake.issue_key()
        store = WooCommerceStore(site_url=fake.base_url, consumer_key=key, consumer_secret=secret, timeout=5)
        order = fake.add_order()
        fake.add_tracking(order["id"], number="TRACK-1", provider=provider)
        mapped, = list(store.fetch_orders(updated_since=None))
    assert [(f.tracking_number, f.carrier_name) for f in mapped.fulfillments] == [("TRACK-1", code)]


def test_webhooks_are_created_once_and_disabled_ones_reenabled(fake_wc, wc_client):
    report = webhooks.ensure_webhooks(wc_client, delivery_url="https://app.test/webhooks/woocommerce", secret="s3")
    assert set(report.created) == {"order.created", "order.updated", "order.deleted"}
    assert webhooks.ensure_webhooks(wc_client, delivery_url="https://app.test/webhooks/woocommerce",
                                    secret="s3").created == ()
    hook_id = next(h["id"] for h in fake_wc.webhooks.values() if h["topic"] == "order.updated")
    fake_wc.record_failures(hook_id, 6)
    assert fake_wc.webhooks[hook_id]["status"] == "disabled"
    report = webhooks.ensure_webhooks(wc_client, delivery_url="https://app.test/webhooks/woocommerce", secret="s3")
    assert report.reenabled == ("order.updated",) and fake_wc.webhooks[hook_id]["status"] == "active"
    assert all(h["_secret"] == "s3" for h in fake_wc.webhooks.values())


def test_signatures(fake_wc):
    body = b'{"id": 1}'
    signature = webhooks.sign(body, "secret")
    assert signature == base64.b64encode(hmac.new(b"secret", body, hashlib.sha256).digest()).decode()
    assert webhooks.signature_matches(body=body, signature=webhooks.decode_signature(signature), secret="secret")
    assert not webhooks.signature_matches(body=body + b" ", signature=webhooks.decode_signature(signature),
                                          secret="secret")
    assert webhooks.decode_signature("not base64!") is None and webhooks.decode_signature("YWJj") is None
    assert webhooks.is_ping(b"webhook_id=12", {}) and not webhooks.is_ping(b'{"id": 1}', {})


def test_notes_and_completion(fake_wc):
    key, secret = fake_wc.issue_key()
    store = WooCommerceStore(site_url=fake_wc.base_url, consumer_key=key, consumer_secret=secret, timeout=5)
    order = fake_wc.add_order()
    payload = {"order_external_id": str(order["id"]), "note": "Delivered: UPS 1Z (Parcelwise ref 1-2-delivered)",
               "complete": True, "reference": "1-2-delivered"}
    store.send_writeback(payload=payload)
    store.send_writeback(payload=payload, retry=True)  # the answer was lost: no second note
    notes = fake_wc.notes[order["id"]]
    assert len(notes) == 1 and notes[0]["customer_note"] is False
    assert fake_wc.orders[order["id"]]["status"] == "completed"
