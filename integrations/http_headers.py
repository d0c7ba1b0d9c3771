"""HTTP response headers that every adapter must read the same way, whatever vendor sent them."""
from __future__ import annotations

import time
from datetime import timezone
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT; "-0000" yields a naive datetime
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - time.time())
