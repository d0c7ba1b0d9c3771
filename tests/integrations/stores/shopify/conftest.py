"""Fixtures for the Shopify adapter tests: a fake Shopify on loopback sharing a fake clock with the client."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest

from integrations.stores.shopify.graphql import RetryPolicy, ShopifyGraphQL
from tests.fakes.shopify import FakeClock, FakeShopify


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_shopify(clock: FakeClock) -> Iterator[FakeShopify]:
    with FakeShopify(orders=300, clock=clock) as fake:
        yield fake


@pytest.fixture
def make_client(fake_shopify: FakeShopify, clock: FakeClock) -> Callable[..., ShopifyGraphQL]:
    def make(*, token: str | None = None, timeout: float = 5.0, policy: RetryPolicy | None = None) -> ShopifyGraphQL:
        return ShopifyGraphQL(shop=fake_shopify.shop, access_token=token or fake_shopify.issue_access_token(),
                              admin_base_url_template=fake_shopify.base_url, timeout=timeout,
                              policy=policy, sleep=clock.sleep, clock=clock)

    return make
