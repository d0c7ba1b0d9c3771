"""Fixtures for carrier tests: the shared sample folders and a running fake per carrier API."""
from __future__ import annotations

from typing import Iterator

import pytest

from integrations.carriers.transport import clear_token_cache
from tests.fakes.carriers import FakeDhl, FakeDhlParcelDe, FakeFedex, FakeUps, FakeUsps

@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    clear_token_cache()
    yield
    clear_token_cache()


@pytest.fixture
def fake_dhl() -> Iterator[FakeDhl]:
    with FakeDhl() as fake:
        yield fake


@pytest.fixture
def fake_dhl_parcel_de() -> Iterator[FakeDhlParcelDe]:
    with FakeDhlParcelDe() as fake:
        yield fake


@pytest.fixture
def fake_ups() -> Iterator[FakeUps]:
    with FakeUps() as fake:
        yield fake


@pytest.fixture
def fake_fedex() -> Iterator[FakeFedex]:
    with FakeFedex() as fake:
        yield fake


@pytest.fixture
def fake_usps() -> Iterator[FakeUsps]:
    with FakeUsps() as fake:
        yield fake
