"""Fixtures for the WooCommerce adapter tests: a fake site on loopback and a client holding a valid key."""
from __future__ import annotations

from typing import Iterator

import pytest

from integrations.stores.woocommerce.client import WooClient
from tests.fakes.woocommerce import FakeWooCommerce


@pytest.fixture
def fake_wc() -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce(orders=0) as fake:
        yield fake


@pytest.fixture
def wc_client(fake_wc: FakeWooCommerce) -> WooClient:
    key, secret = fake_wc.issue_key()
    return WooClient(url=fake_wc.base_url, consumer_key=key, consumer_secret=secret, timeout=5.0)
