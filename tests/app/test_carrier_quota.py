"""Carrier quotas through the shared rate limiter: per-second slots, a daily quota that waits for midnight UTC, shared across workers."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from app.services.carrier_quota import CarrierQuotaGate, limiter_scope
from integrations.errors import RetryableError


def test_per_second_slots_make_the_caller_wait(runtime, clock):
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.advance(seconds=seconds)

    limiter = CarrierQuotaGate(db=runtime.db, scope="test:sec", per_second=2, clock=clock, sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert waits == [1.0, 1.0]  # two per second: the 3rd and 5th request wait for the next window


def test_a_long_wait_is_handed_back_instead_of_blocking(runtime, clock):
    limiter = CarrierQuotaGate(db=runtime.db, scope="test:slow", per_second=0.1, clock=clock, sleep=lambda s: None)
    limiter.acquire()
    clock.advance(seconds=2)
    with pytest.raises(RetryableError) as exc:  # one request per 10 s window: 8 s left is too long to block a worker
        limiter.acquire()
    assert exc.value.retry_after == pytest.approx(8.0)


def test_daily_quota_waits_for_midnight_utc(runtime, clock):
    clock.now = datetime(2026, 11, 23, 22, 0, tzinfo=timezone.utc)
    limiter = CarrierQuotaGate(db=runtime.db, scope="test:day", per_second=100, per_day=3, clock=clock, sleep=lambda s: None)
    for _ in range(3):
        limiter.acquire()
    with pytest.raises(RetryableError) as exc:
        limiter.acquire()
    assert exc.value.retry_after == 2 * 3600
    clock.now = datetime(2026, 11, 24, 0, 0, 1, tzinfo=timezone.utc)
    limiter.acquire()  # a new day, a new quota


def test_scope_hides_credentials():
    scope = limiter_scope("carrier:dhl", {"api_key": "secret-key-123"})
    assert "secret" not in scope and scope.startswith("carrier:dhl:")
    assert scope == limiter_scope("carrier:dhl", {"api_key": "secret-key-123"})
    assert scope != limiter_scope("carrier:dhl", {"api_key": "other"})


def test_workers_share_one_daily_quota(postgres_only, runtime, clock):
    granted: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        limiter = CarrierQuotaGate(db=runtime.db, scope="test:shared", per_second=1000, per_day=25, clock=clock,
                                sleep=lambda s: None)
        for _ in range(20):
            try:
                limiter.acquire()
            except RetryableError:
                return
            with lock:
                granted.append(1)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(granted) == 25
