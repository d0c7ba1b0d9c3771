"""Shared fixtures for the ESP tests: a loopback fake Klaviyo the app is configured to talk to."""
from __future__ import annotations

from typing import Iterator

import pytest

from tests.fakes.klaviyo import FakeKlaviyo

PUBLIC_KEY = "AbC123"
NO_SCOPE_KEY = "pk_test_noscope_0123456789abcdef0123"


@pytest.fixture
def fake_klaviyo() -> Iterator[FakeKlaviyo]:
    from tests.fakes.klaviyo import PRIVATE_KEY

    with FakeKlaviyo(private_keys={PRIVATE_KEY: {"accounts:read", "events:write"}, NO_SCOPE_KEY: {"events:write"}}) as fake:
        yield fake


@pytest.fixture
def app_config(app_config: dict, fake_klaviyo: FakeKlaviyo) -> dict:
    return {**app_config, "KLAVIYO_API_URL": fake_klaviyo.base_url, "KLAVIYO_OAUTH_URL": fake_klaviyo.base_url,
            "KLAVIYO_CLIENT_ID": "client-1", "KLAVIYO_CLIENT_SECRET": "secret-1", "KLAVIYO_TIMEOUT_SECONDS": 2.0}
