"""A fixed-window rate limiter shared by every worker process through one small table (rate_limit_windows)."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import Integer, String, case, column, table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from app.db import UTCDateTime
from integrations.errors import RetryableError
from integrations.esp.klaviyo import ENDPOINT_LIMITS

log = logging.getLogger(__name__)

# A lightweight table clause (the model is app.models.ratelimit.RateLimitWindow): one row per (scope, window kind),
# holding the current window's start and how many requests it has granted.
WINDOWS = table("rate_limit_windows", column("key", String), column("window_start", UTCDateTime()),
                column("count", Integer))
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def window_start(now: datetime, length: timedelta) -> datetime:
    return _EPOCH + ((now - _EPOCH) // length) * length


def take(engine: Engine, *, key: str, limit: int, length: timedelta, now: datetime) -> float:
    """Count one request in the current window; 0.0 when granted, else the seconds until the window ends.

    One atomic upsert per call: concurrent workers serialise on the row, so the count can never be over-granted.
    A refused request still counts, which only errs on the safe side.
    """
    start = window_start(now, length)
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(WINDOWS).values(key=key, window_start=start, count=1)
    # A worker whose clock runs slightly behind joins the newer window instead of resetting it.
    same_window = WINDOWS.c.window_start >= stmt.excluded.window_start
    stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={
        "count": case((same_window, WINDOWS.c.count + 1), else_=1),
        "window_start": case((same_window, WINDOWS.c.window_start), else_=stmt.excluded.window_start),
    }).returning(WINDOWS.c.count)
    with engine.begin() as connection:
        count = connection.execute(stmt).scalar_one()
    if count <= limit:
        return 0.0
    return max((start + length - now).total_seconds(), 0.001)


class SharedRateLimiter:
    """Holds one ESP account to its documented per-second and per-minute limits across all workers."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime], max_wait: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._engine = engine
        self._clock = clock
        self._max_wait = max_wait  # short waits are slept off; longer ones send the events back to the outbox
        self._sleep = sleep

    def gate(self, scope: str) -> Callable[[str], None]:
        """The callable an adapter runs before each request to `endpoint`; raises RetryableError when throttled."""

        def before_request(endpoint: str) -> None:
            limit = ENDPOINT_LIMITS[endpoint]
            for _attempt in range(3):
                now = self._clock()
                wait = take(self._engine, key=f"{scope}:{endpoint}:s", limit=limit.burst_per_second,
                            length=timedelta(seconds=1), now=now)
                if not wait:
                    wait = take(self._engine, key=f"{scope}:{endpoint}:m", limit=limit.steady_per_minute,
                                length=timedelta(minutes=1), now=now)
                if not wait:
                    return
                if wait > self._max_wait:
                    break
                self._sleep(wait)
            log.info("rate limit for %s %s reached; events wait %.1f s", scope, endpoint, wait)
            raise RetryableError(f"rate limit reached for {endpoint}; waiting {wait:.1f} s", retry_after=wait)

        return before_request
