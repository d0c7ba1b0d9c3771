"""Event properties as plain JSON values for every ESP output (money arrives as Decimal, times as datetime)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Mapping


def utc_iso(moment: datetime, *, seconds: bool = False) -> str:
    """ISO 8601 in UTC; naive times are read as UTC (a bug upstream, but losing the offset beats losing the event)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    aware = aware.astimezone(timezone.utc)
    return (aware.replace(microsecond=0) if seconds else aware).isoformat()


def json_safe(value: Any) -> Any:
    """`value` made of JSON primitives, lists and dicts; money becomes a number, as templates need."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(item) for item in value]
    return str(value)
