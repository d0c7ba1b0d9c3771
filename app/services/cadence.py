"""When to ask the carrier again: by status and age, jittered, backing off on errors, never after 60 days."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from integrations.carriers.base import TrackingError, TrackingErrorCode
from integrations.status import ShipmentStatus

# How often a parcel in each status is worth asking about; a parcel on the van changes within the hour,
# one with only a label may sit for days.
POLL_INTERVALS: dict[ShipmentStatus, timedelta] = {
    ShipmentStatus.LABEL_CREATED: timedelta(hours=6),
    ShipmentStatus.IN_TRANSIT: timedelta(hours=2),
    ShipmentStatus.OUT_FOR_DELIVERY: timedelta(minutes=30),
    ShipmentStatus.READY_FOR_PICKUP: timedelta(hours=4),
    ShipmentStatus.FAILED_ATTEMPT: timedelta(hours=1),
    ShipmentStatus.EXCEPTION: timedelta(hours=3),
    ShipmentStatus.UNKNOWN: timedelta(hours=6),
}
GIVE_UP_AFTER = timedelta(days=60)
JITTER = 0.1  # +-10%, so parcels shipped together do not hit the carrier together forever
ERROR_BACKOFF_BASE = timedelta(minutes=15)
ERROR_BACKOFF_MAX = timedelta(hours=6)
ERROR_INTERVALS: dict[str, timedelta] = {
    TrackingErrorCode.NOT_FOUND: timedelta(hours=6),  # carriers often learn of a label hours after it is printed
    TrackingErrorCode.INVALID_NUMBER: timedelta(hours=24),  # the merchant may correct it
    TrackingErrorCode.AUTH: timedelta(hours=1),
}


def _jittered(interval: timedelta, rng: random.Random) -> timedelta:
    return interval * (1 + rng.uniform(-JITTER, JITTER))


def quota_interval(*, active_parcels: int, per_day: int | None, batch_size: int) -> timedelta:
    """The shortest interval at which every active parcel of one credential set fits in the daily quota."""
    if not per_day:
        return timedelta(0)
    calls_per_round = -(-active_parcels // max(batch_size, 1))
    return timedelta(days=1) * calls_per_round / per_day


def next_poll_at(*, status: str, shipped_at: datetime, now: datetime, error: TrackingError | None = None,
                 failures: int = 0, scale: float = 1.0, rng: random.Random | None = None,
                 min_interval: timedelta = timedelta(0)) -> datetime | None:
    """None means stop polling (terminal status, or tracked for longer than any parcel travels)."""
    rng = rng or random.Random()
    state = ShipmentStatus(status)
    if state.is_terminal or now - shipped_at > GIVE_UP_AFTER:
        return None
    if error is not None:
        if error.retry_after:
            return now + timedelta(seconds=error.retry_after)
        interval = ERROR_INTERVALS.get(error.code)
        if interval is None:  # carrier down, rate limited without a hint, bad answer: back off exponentially
            interval = min(ERROR_BACKOFF_BASE * (2 ** max(failures - 1, 0)), ERROR_BACKOFF_MAX)
        return now + max(_jittered(interval * scale, rng), min_interval)
    return now + max(_jittered(POLL_INTERVALS[state] * scale, rng), min_interval)
