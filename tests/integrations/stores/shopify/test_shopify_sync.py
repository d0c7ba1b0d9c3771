"""Backfill and reconcile over the fake's GraphQL, webhook subscriptions, fulfillment-event write-back."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable

import pytest

from integrations.errors import PermanentError
from integrations.status import CARRIER_DELAY_SUBSTATUS, ShipmentStatus
from integrations.stores.base import StorePlatform
from integrations.stores.shopify import ShopifyStore
from integrations.stores.shopify.graphql import ShopifyGraphQL
from integrations.stores.shopify.subscriptions import list_webhooks, register_webhooks, topic_enum, topic_name
from integrations.stores.shopify.sync import fetch_orders, search_query
from integrations.stores.shopify.webhooks import ALL_TOPICS, SUBSCRIBED_TOPICS
from integrations.stores.shopify.writeback import create_fulfillment_event, fulfillment_event_status
from tests.fakes.shopify import FakeClock, FakeShopify

CALLBACK = "https://app.example.com/webhooks/shopify"


# -- orders ----------------------------------------------------------------------------------------------


def test_backfill_of_300_orders_across_pages_under_throttling(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL], clock: FakeClock) -> None:
    fake_shopify.throttle_next(times=1)
    fake_shopify.rate_limit_next(retry_after=1.0)
    orders = list(fetch_orders(make_client(), created_since=datetime(2026, 8, 1, tzinfo=timezone.utc)))
    assert len(orders) == 300
    assert len({o.external_id for o in orders}) == 300
    assert len(fake_shopify.requests_to("/admin/api/{version}/graphql.json")) >= 6 + 2  # 6 pages + 2 faults
    assert clock.sleeps, "the client waited for the bucket instead of hammering it"
    assert fake_shopify.throttled_answers == 0  # its own pacing kept it from ever being refused
    assert [o.updated_at for o in orders] == sorted(o.updated_at for o in orders)


def test_orders_map_graphql_ids_to_webhook_ids_and_carry_tracking(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL]) -> None:
    by_id = {o.external_id: o for o in fetch_orders(make_client(), page_size=100)}
    order = by_id["5000004"]  # generated with one fulfillment carrying two tracking numbers
    assert order.number == "#1005" and order.currency == "EUR" and order.total == Decimal("44.90")
    assert order.email == "shopper4@example.com" and order.locale == "en"
    assert order.order_url and order.order_url.startswith("https://parcel-test.myshopify.com/")
    assert (order.shipping_address.country_code, order.shipping_address.postcode) == ("DE", "10004")
    assert (order.first_name, order.last_name) == ("Ada", "Lovelace4")
    assert order.customer_id is None  # not asked for without read_customers
    item = order.line_items[0]
    assert (item.external_id, item.title, item.sku, item.quantity, item.price, item.variant_title) == (
        "7000040", "Trail Sock 1", "SOCK-1", 1, Decimal("12.95"), "M / Blue")
    assert item.image_url and item.product_url
    assert order.line_items[1].image_url is None and order.line_items[1].product_url is None
    parcels = order.fulfillments
    assert [p.external_id for p in parcels] == ["9000040", "9000040.2"]
    assert parcels[0].tracking_number != parcels[1].tracking_number
    assert parcels[0].line_item_ids == ("7000040",)
    assert parcels[0].carrier_name == "DPD" and parcels[0].tracking_url
    assert parcels[0].status == "success"
    assert by_id["5000049"].cancelled and not order.cancelled


def test_customer_fields_are_fetched_when_the_scope_allows(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL]) -> None:
    first = next(iter(fetch_orders(make_client(), page_size=5, include_customer=True)))
    assert first.customer_id == "8000000"


def test_reconcile_asks_only_for_orders_updated_since_the_watermark(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL]) -> None:
    cutoff = datetime(2026, 9, 2, 12, tzinfo=timezone.utc)
    orders = list(fetch_orders(make_client(), updated_since=cutoff))
    assert orders and all(o.updated_at >= cutoff for o in orders)
    assert len(orders) < 300
    sent = fake_shopify.requests_to("/admin/api/{version}/graphql.json")[-1].json()
    assert sent["variables"]["query"] == "updated_at:>='2026-09-02T12:00:00Z'"


def test_search_query_uses_utc_and_needs_aware_times() -> None:
    berlin = timezone(timedelta(hours=2))
    assert search_query(updated_since=datetime(2026, 9, 2, 14, tzinfo=berlin),
                        created_since=datetime(2026, 7, 1, tzinfo=timezone.utc)) == (
        "updated_at:>='2026-09-02T12:00:00Z' AND created_at:>='2026-07-01T00:00:00Z'")
    assert search_query() is None
    with pytest.raises(ValueError):
        search_query(updated_since=datetime(2026, 9, 2))


def test_store_implements_the_protocol(fake_shopify: FakeShopify, clock: FakeClock) -> None:
    store = ShopifyStore(shop=fake_shopify.shop, access_token=fake_shopify.issue_access_token(),
                         admin_base_url_template=fake_shopify.base_url, sleep=clock.sleep)
    assert isinstance(store, StorePlatform) and store.platform == "shopify"
    assert len(list(store.fetch_orders(updated_since=None))) == 300
    change = store.parse_webhook(topic="orders/create", body=fake_shopify.webhook_body("orders/create", 7))
    assert change.order is not None and change.order.external_id == "5000007"


# -- webhook subscriptions -------------------------------------------------------------------------------


def test_register_webhooks_subscribes_each_api_topic_once(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL]) -> None:
    client = make_client()
    created = register_webhooks(client, callback_url=CALLBACK, topics=ALL_TOPICS)
    assert {s.topic for s in created} == set(SUBSCRIBED_TOPICS)  # the compliance topics come from the toml only
    assert {(s["topic"], s["uri"]) for s in fake_shopify.subscriptions} == {
        (topic_enum(s.topic), CALLBACK) for s in created}
    # Reconcile: nothing missing, nothing created; a deleted one comes back.
    assert register_webhooks(client, callback_url=CALLBACK, topics=ALL_TOPICS) == []
    fake_shopify.subscriptions = [s for s in fake_shopify.subscriptions if s["topic"] != "ORDERS_UPDATED"]
    again = register_webhooks(client, callback_url=CALLBACK, topics=ALL_TOPICS)
    assert [s.topic for s in again] == ["orders/updated"]
    assert {s.topic for s in list_webhooks(client, page_size=2)} == {s.topic for s in created}


def test_a_refused_subscription_is_permanent(fake_shopify: FakeShopify,
                                             make_client: Callable[..., ShopifyGraphQL]) -> None:
    with pytest.raises(PermanentError) as caught:
        register_webhooks(make_client(), callback_url="http://insecure.example.com/hook", topics=["orders/create"])
    assert caught.value.code == "validation"


def test_topic_spelling_round_trips() -> None:
    for topic in ("orders/create", "fulfillments/update", "app/uninstalled", "orders/cancelled"):
        assert topic_name(topic_enum(topic)) == topic


# -- write-back ------------------------------------------------------------------------------------------


def test_fulfillment_event_is_created_with_time_location_and_eta(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL]) -> None:
    event = create_fulfillment_event(
        make_client(), fulfillment_id="9000040.2", status="OUT_FOR_DELIVERY",
        happened_at=datetime(2026, 9, 3, 8, 15, tzinfo=timezone(timedelta(hours=2))),
        estimated_delivery_at=datetime(2026, 9, 3, 18, tzinfo=timezone.utc), city="Berlin", country="DE",
        zip_code="10115", message="Out for delivery")
    assert event.status == "OUT_FOR_DELIVERY" and event.id.startswith("gid://shopify/FulfillmentEvent/")
    (sent,) = fake_shopify.fulfillment_events
    assert sent == {"fulfillmentId": "gid://shopify/Fulfillment/9000040", "status": "OUT_FOR_DELIVERY",
                    "happenedAt": "2026-09-03T06:15:00Z", "estimatedDeliveryAt": "2026-09-03T18:00:00Z",
                    "city": "Berlin", "country": "DE", "zip": "10115", "message": "Out for delivery"}


def test_fulfillment_event_for_an_unknown_fulfillment_is_permanent(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL]) -> None:
    with pytest.raises(PermanentError):
        create_fulfillment_event(make_client(), fulfillment_id="gid://shopify/Fulfillment/1", status="DELIVERED",
                                 happened_at=datetime(2026, 9, 3, tzinfo=timezone.utc))
    with pytest.raises(ValueError):
        create_fulfillment_event(make_client(), fulfillment_id="9000040", status="LOST",
                                 happened_at=datetime(2026, 9, 3, tzinfo=timezone.utc))


@pytest.mark.parametrize("status,substatus,expected", [
    (ShipmentStatus.LABEL_CREATED, None, None),
    (ShipmentStatus.IN_TRANSIT, None, "IN_TRANSIT"),
    (ShipmentStatus.IN_TRANSIT, CARRIER_DELAY_SUBSTATUS, "DELAYED"),
    (ShipmentStatus.OUT_FOR_DELIVERY, None, "OUT_FOR_DELIVERY"),
    (ShipmentStatus.READY_FOR_PICKUP, None, "READY_FOR_PICKUP"),
    (ShipmentStatus.DELIVERED, "parcel_locker", "DELIVERED"),
    (ShipmentStatus.FAILED_ATTEMPT, None, "ATTEMPTED_DELIVERY"),
    (ShipmentStatus.EXCEPTION, "address_issue", "FAILURE"),
    (ShipmentStatus.EXCEPTION, "weather", "DELAYED"),
    (ShipmentStatus.RETURNED_TO_SENDER, None, "FAILURE"),
    (ShipmentStatus.UNKNOWN, None, None),
])
def test_canonical_status_to_fulfillment_event_status(status: ShipmentStatus, substatus: str | None,
                                                      expected: str | None) -> None:
    assert fulfillment_event_status(status, substatus=substatus) == expected
