"""Carrier quotas (requests/second and requests/day per credential set), shared by every worker via the database.

Why the database and not Redis: carrier quotas are small (DHL's default is 1 request/s and 250/day), so one
atomic upsert per request costs little, and the counters live, and survive restarts, next to the data they
protect, with no other service to run. The daily window is aligned to midnight UTC, when carriers reset.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from app.db import Database, utcnow
from app.services.ratelimit import take
from integrations.errors import RetryableError

MAX_WAIT_SECONDS = 5.0  # wait this long for the next per-second slot; beyond that, hand the wait back to the poller
DAY = timedelta(days=1)


def limiter_scope(prefix: str, credentials: object | None) -> str:
    """A stable key per credential set that does not reveal the credentials."""
    material = sorted(credentials.items()) if isinstance(credentials, dict) else credentials
    return f"{prefix}:{hashlib.sha256(repr(material).encode()).hexdigest()[:16]}"


@dataclass
class CarrierQuotaGate:
    """The RequestGate a carrier's transport calls before each request."""

    db: Database
    scope: str
    per_second: float
    per_day: int | None = None
    clock: Callable[[], datetime] = field(default=utcnow)
    sleep: Callable[[float], None] = field(default=time.sleep)

    @property
    def window(self) -> timedelta:
        # Below one request per second the window widens so that it still holds one whole request.
        return timedelta(seconds=max(1.0, 1.0 / self.per_second))

    @property
    def capacity(self) -> int:
        return max(1, int(self.per_second * self.window.total_seconds()))

    def acquire(self) -> None:
        while True:
            now = self.clock()
            if self.per_day is not None:
                until_reset = take(self.db.engine, key=f"{self.scope}:day", limit=self.per_day, length=DAY, now=now)
                if until_reset:  # the day's quota is used up: parcels wait for the reset instead of retrying in a loop
                    raise RetryableError("daily carrier quota used up", retry_after=until_reset)
            wait = take(self.db.engine, key=f"{self.scope}:sec", limit=self.capacity, length=self.window, now=now)
            if not wait:
                return
            if wait > MAX_WAIT_SECONDS:
                raise RetryableError("carrier rate limit reached", retry_after=wait)
            self.sleep(wait)
