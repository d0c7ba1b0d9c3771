"""The Admin GraphQL client against the fake: cost-based throttling, THROTTLED, 429, 5xx, timeouts, 401."""
from __future__ import annotations

from typing import Callable

import pytest

from integrations.errors import PermanentError, RetryableError
from integrations.stores.shopify.graphql import QueryCost, RetryPolicy, ShopifyGraphQL
from tests.fakes.http import Response
from tests.fakes.shopify import FakeClock, FakeShopify

ORDERS = "query Orders($first: Int!) { orders(first: $first) { nodes { id } pageInfo { hasNextPage } } }"
GRAPHQL_PATH = "/admin/api/{version}/graphql.json"


def test_pinned_version_and_token_header(fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL]) -> None:
    client = make_client()
    data = client.execute(ORDERS, {"first": 3})
    assert len(data["orders"]["nodes"]) == 3
    assert fake_shopify.graphql_versions == {"2026-10"}
    sent = fake_shopify.requests_to(GRAPHQL_PATH)[-1]
    assert sent.header("x-shopify-access-token", "").startswith("shpat_")
    assert "shpat_" not in repr(client)


def test_waits_for_the_bucket_before_a_call_it_cannot_afford(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL], clock: FakeClock) -> None:
    client = make_client()
    # 50 orders request 252 points and cost 202; a 1000-point bucket restoring 50/s affords four in a row.
    for _ in range(6):
        client.execute(ORDERS, {"first": 50})
    assert fake_shopify.throttled_answers == 0
    assert clock.sleeps, "the fifth call should have waited for the bucket to refill"
    # It waits only for what is missing: (requested - available) / restoreRate, a fraction of a second here.
    assert 0 < clock.sleeps[-1] < 5


def test_throttled_errors_are_waited_out_and_retried(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL], clock: FakeClock) -> None:
    fake_shopify.throttle_next(times=2, requested=252, available=2)
    data = make_client().execute(ORDERS, {"first": 2})
    assert len(data["orders"]["nodes"]) == 2
    assert clock.sleeps == [pytest.approx(5.0), pytest.approx(5.0)]  # (252 - 2) / 50


def test_endless_throttling_becomes_retryable(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL]) -> None:
    fake_shopify.throttle_next(times=50)
    with pytest.raises(RetryableError) as caught:
        make_client(policy=RetryPolicy(throttle_retries=3)).execute(ORDERS, {"first": 2})
    assert caught.value.retry_after == pytest.approx(5.0)


def test_429_honours_retry_after(fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL],
                                 clock: FakeClock) -> None:
    fake_shopify.rate_limit_next(retry_after=2.0)
    make_client().execute(ORDERS, {"first": 1})
    assert clock.sleeps == [2.0]


def test_429_with_a_long_retry_after_goes_back_to_the_scheduler(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL], clock: FakeClock) -> None:
    fake_shopify.rate_limit_next(retry_after=600)
    with pytest.raises(RetryableError) as caught:
        make_client().execute(ORDERS, {"first": 1})
    assert caught.value.retry_after == 600 and clock.sleeps == []


def test_server_errors_are_retried_a_few_times(fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL],
                                               clock: FakeClock) -> None:
    fake_shopify.fail_next(Response.html(status=502), times=2, path=GRAPHQL_PATH)
    make_client().execute(ORDERS, {"first": 1})
    assert clock.sleeps == [0.5, 2.0]
    fake_shopify.fail_next(Response.html(status=503), times=3, path=GRAPHQL_PATH)
    with pytest.raises(RetryableError):
        make_client().execute(ORDERS, {"first": 1})


def test_timeouts_and_dropped_connections_are_retryable(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL]) -> None:
    fake_shopify.fail_next(Response(status=200, delay=0.5), times=3, path=GRAPHQL_PATH)
    with pytest.raises(RetryableError):
        make_client(timeout=0.1).execute(ORDERS, {"first": 1})
    fake_shopify.clear_faults()
    fake_shopify.fail_next(Response(drop=True), times=1, path=GRAPHQL_PATH)
    assert make_client().execute(ORDERS, {"first": 1})["orders"]["nodes"]


def test_a_bad_token_is_a_permanent_auth_error(fake_shopify: FakeShopify,
                                               make_client: Callable[..., ShopifyGraphQL]) -> None:
    with pytest.raises(PermanentError) as caught:
        make_client(token="shpat_revoked").execute(ORDERS, {"first": 1})
    assert caught.value.code == "auth"
    assert len(fake_shopify.requests_to(GRAPHQL_PATH)) == 1  # no retry: the app must refresh or reinstall


def test_an_expired_token_is_an_auth_error_and_a_callable_token_is_asked_each_time(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL], clock: FakeClock) -> None:
    expiring = fake_shopify.issue_access_token(ttl=60)
    client = make_client(token=expiring)
    client.execute(ORDERS, {"first": 1})
    clock.sleep(61)
    with pytest.raises(PermanentError):
        client.execute(ORDERS, {"first": 1})
    fresh = fake_shopify.issue_access_token()
    calls: list[int] = []

    def provider() -> str:
        calls.append(1)
        return fresh

    ShopifyGraphQL(shop=fake_shopify.shop, access_token=provider, admin_base_url_template=fake_shopify.base_url,
                   sleep=clock.sleep, clock=clock).execute(ORDERS, {"first": 1})
    assert calls


def test_graphql_errors_are_permanent(fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL]) -> None:
    fake_shopify.fail_next(Response.json({"errors": [{"message": "Field 'nope' doesn't exist on type 'Order'",
                                                      "extensions": {"code": "undefinedField"}}]}), path=GRAPHQL_PATH)
    with pytest.raises(PermanentError) as caught:
        make_client().execute(ORDERS, {"first": 1})
    assert caught.value.code == "graphql" and "nope" in str(caught.value)
    fake_shopify.fail_next(Response.json({"errors": [{"message": "Access denied for orders field.",
                                                      "extensions": {"code": "ACCESS_DENIED"}}]}), path=GRAPHQL_PATH)
    with pytest.raises(PermanentError) as caught:
        make_client().execute(ORDERS, {"first": 1})
    assert caught.value.code == "forbidden"


def test_query_cost_reads_throttle_status() -> None:
    cost = QueryCost.from_extensions({"cost": {"requestedQueryCost": 101, "actualQueryCost": 46, "throttleStatus": {
        "maximumAvailable": 2000.0, "currentlyAvailable": 1, "restoreRate": 100.0}}})
    assert cost is not None and cost.throttle is not None
    assert cost.wait_for() == pytest.approx(1.0)
    assert QueryCost.from_extensions(None) is None


def test_a_client_that_finds_the_bucket_empty_waits_the_reported_time(
        fake_shopify: FakeShopify, make_client: Callable[..., ShopifyGraphQL], clock: FakeClock) -> None:
    greedy = make_client()
    for _ in range(4):
        greedy.execute(ORDERS, {"first": 50})  # leaves 192 of 1000 points
    newcomer = make_client()  # knows nothing about the bucket yet
    newcomer.execute(ORDERS, {"first": 50})
    assert fake_shopify.throttled_answers == 1
    assert clock.sleeps[-1] == pytest.approx((252 - 192) / 50)
