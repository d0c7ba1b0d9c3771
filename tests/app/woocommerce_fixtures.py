"""Shared pieces of the WooCommerce app tests: a fake site, allowed plain HTTP, a signed-in account."""
from __future__ import annotations

import re
from typing import Iterator

import pytest

from tests.fakes.woocommerce import FakeWooCommerce


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "WOOCOMMERCE_ALLOW_HTTP": True, "WOOCOMMERCE_TIMEOUT_SECONDS": 5.0}


@pytest.fixture
def fake_wc(clock) -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce(now=clock) as fake:
        yield fake


def csrf(client, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_up(client, email: str = "merchant@example.com", password: str = "correct horse battery") -> None:
    response = client.post("/signup", data={"email": email, "password": password, "csrf_token": csrf(client, "/signup")})
    assert response.status_code == 302, response.get_data(as_text=True)


def connect_with_keys(client, fake: FakeWooCommerce) -> int:
    key, secret = fake.issue_key()
    response = client.post("/woocommerce/connect/keys", data={"url": fake.base_url, "consumer_key": key,
                                                              "consumer_secret": secret,
                                                              "csrf_token": csrf(client, "/woocommerce/connect")})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].split("store=")[1])
