"""Fault injection: real worker processes on PostgreSQL against loopback fakes, each test bounded in time."""
from __future__ import annotations

import signal
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from bench.common import migrated_schema
from tests.conftest import POSTGRES_URL
from tests.fakes.carriers import FakeFedex
from tests.fakes.klaviyo import FakeKlaviyo

DEFAULT_TIMEOUT = 60


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)


@pytest.fixture(autouse=True)
def time_box(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a fault test that runs past its limit (`@pytest.mark.timeout(s)`) instead of hanging the suite."""
    marker = request.node.get_closest_marker("timeout")
    seconds = int(marker.args[0]) if marker else DEFAULT_TIMEOUT

    def expire(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"fault test exceeded its {seconds} s limit")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The fault tests need PostgreSQL whatever TEST_DATABASE says: several processes share one database."""
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}")
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def target(postgres_url: str) -> Iterator[dict]:
    with migrated_schema(postgres_url, prefix="faults") as schema:
        yield schema


@pytest.fixture
def fake_klaviyo() -> Iterator[FakeKlaviyo]:
    with FakeKlaviyo() as fake:
        yield fake


@pytest.fixture
def fake_fedex() -> Iterator[FakeFedex]:
    with FakeFedex() as fake:
        yield fake
