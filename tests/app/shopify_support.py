"""Fixtures and helpers for the app-side Shopify tests: a fake Shopify on loopback and an app pointed at it."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import FakeClock
from tests.fakes.shopify import FakeClock as ShopClock
from tests.fakes.shopify import FakeShopify, sign_webhook

# The fake's orders were placed 2026-09-01..03; the app's clock sits just after, so all are inside 60 days.
APP_NOW = datetime(2026, 9, 4, 8, 0, tzinfo=timezone.utc)
PREVIOUS_SECRET = "shpss_previous0123456789abcdef01234567"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(APP_NOW)


@pytest.fixture
def shop_clock() -> ShopClock:
    return ShopClock()


@pytest.fixture
def shop_orders() -> int:
    return 12


@pytest.fixture
def fake_shopify(shop_clock: ShopClock, shop_orders: int) -> Iterator[FakeShopify]:
    with FakeShopify(orders=shop_orders, clock=shop_clock) as fake:
        yield fake


@pytest.fixture
def app_config(app_config: dict, fake_shopify: FakeShopify, shop_clock: ShopClock) -> dict:
    return {**app_config, "SHOPIFY_API_KEY": fake_shopify.api_key, "SHOPIFY_API_SECRET": fake_shopify.secret,
            "SHOPIFY_API_SECRET_PREVIOUS": PREVIOUS_SECRET, "SHOPIFY_ADMIN_URL_TEMPLATE": fake_shopify.base_url,
            "SHOPIFY_SLEEP": shop_clock.sleep}


def install_via_oauth(client: Any, fake: FakeShopify) -> int:
    """The standalone install as a merchant's browser does it; returns the new store's id."""
    started = client.get(f"/shopify/install?shop={fake.shop}")
    assert started.status_code == 302, started.data
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    answered = client.get("/shopify/callback", query_string=fake.signed_callback(code=fake.issue_code(), state=state))
    assert answered.status_code == 302, answered.data
    return int(parse_qs(urlsplit(answered.headers["Location"]).query)["store"][0])


def webhook(client: Any, fake: FakeShopify, topic: str, body: bytes | dict, *, event_id: str | None = None,
            secret: str | None = None, shop: str | None = None, signature: str | None = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop or fake.shop,
               "X-Shopify-Event-Id": event_id or str(uuid.uuid4()), "X-Shopify-Webhook-Id": str(uuid.uuid4()),
               "X-Shopify-API-Version": "2026-10", "X-Shopify-Triggered-At": "2026-09-04T08:00:00Z",
               "X-Shopify-Hmac-Sha256": signature if signature is not None else sign_webhook(raw, secret or fake.secret)}
    return client.post("/webhooks/shopify", data=raw, headers=headers, content_type="application/json")


def topic_body(fake: FakeShopify, topic: str, index: int = 4) -> dict[str, Any]:
    """Shopify's payload shape for each subscribed and compliance topic, about generated order `index`."""
    if topic.startswith(("orders/", "fulfillments/")):
        return json.loads(fake.webhook_body(topic, index))
    order = fake.orders[index]
    customer = {"id": int(order["customer"]["id"].rsplit("/", 1)[-1]), "email": order["email"], "phone": order["phone"]}
    order_id = int(order["id"].rsplit("/", 1)[-1])
    if topic == "app/uninstalled":
        return {"id": 548380009, "name": "Parcel Test", "email": "owner@example.com", "domain": fake.shop,
                "myshopify_domain": fake.shop}
    if topic == "customers/redact":
        return {"shop_id": 954889, "shop_domain": fake.shop, "customer": customer, "orders_to_redact": [order_id]}
    if topic == "customers/data_request":
        return {"shop_id": 954889, "shop_domain": fake.shop, "orders_requested": [order_id], "customer": customer,
                "data_request": {"id": 9999}}
    if topic == "shop/redact":
        return {"shop_id": 954889, "shop_domain": fake.shop}
    raise ValueError(topic)
