"""Adaptive cadence: by status and age, jittered, backing off on errors, within the carrier's daily quota."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from app.services.cadence import GIVE_UP_AFTER, next_poll_at, quota_interval
from integrations.carriers.base import TrackingError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
SHIPPED = NOW - timedelta(days=1)


@pytest.mark.parametrize("status,expected", [
    ("label_created", timedelta(hours=6)), ("in_transit", timedelta(hours=2)),
    ("out_for_delivery", timedelta(minutes=30)), ("ready_for_pickup", timedelta(hours=4)),
    ("failed_attempt", timedelta(hours=1)), ("exception", timedelta(hours=3)), ("unknown", timedelta(hours=6)),
])
def test_interval_by_status_within_jitter(status, expected):
    due = next_poll_at(status=status, shipped_at=SHIPPED, now=NOW, rng=random.Random(1))
    assert expected * 0.9 <= due - NOW <= expected * 1.1


@pytest.mark.parametrize("status", ["delivered", "returned_to_sender"])
def test_terminal_parcels_are_never_polled_again(status):
    assert next_poll_at(status=status, shipped_at=SHIPPED, now=NOW) is None


def test_gives_up_after_sixty_days():
    assert next_poll_at(status="in_transit", shipped_at=NOW - GIVE_UP_AFTER - timedelta(hours=1), now=NOW) is None


def test_jitter_spreads_parcels_shipped_together():
    times = {next_poll_at(status="in_transit", shipped_at=SHIPPED, now=NOW, rng=random.Random(i)) for i in range(20)}
    assert len(times) == 20


def test_retry_after_is_honoured():
    error = TrackingError(code="rate_limited", message="429", retry_after=7200)
    assert next_poll_at(status="in_transit", shipped_at=SHIPPED, now=NOW, error=error) == NOW + timedelta(hours=2)


def test_carrier_down_backs_off_exponentially_with_a_cap():
    error = TrackingError(code="carrier_down", message="503")
    gaps = [next_poll_at(status="in_transit", shipped_at=SHIPPED, now=NOW, error=error, failures=n,
                         rng=random.Random(0)) - NOW for n in (1, 2, 3, 10)]
    assert gaps[0] < gaps[1] < gaps[2] and gaps[3] <= timedelta(hours=6.6)


def test_quota_sets_a_floor_on_the_interval():
    # 250 calls a day, 1,000 parcels one number per call: each parcel can be asked about every 4 days at most
    floor = quota_interval(active_parcels=1000, per_day=250, batch_size=1)
    assert floor == timedelta(days=4)
    assert quota_interval(active_parcels=1000, per_day=250, batch_size=20) == timedelta(days=1) * 50 / 250
    due = next_poll_at(status="out_for_delivery", shipped_at=SHIPPED, now=NOW, min_interval=floor)
    assert due - NOW == floor
    assert quota_interval(active_parcels=5, per_day=None, batch_size=1) == timedelta(0)
