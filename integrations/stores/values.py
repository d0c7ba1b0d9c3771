"""Value conversions every store platform needs: ISO timestamps and money amounts."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 timestamp with an offset or `Z`, kept aware; a naive one is read as UTC."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        # Shopify never sends naive times and WooCommerce's `*_gmt` fields are UTC without an offset.
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def optional_datetime(value: Any) -> datetime | None:
    return parse_datetime(value) if value else None


def parse_money(value: Any) -> Decimal:
    """Prices arrive as strings ("199.00"); never go through float. Missing means zero."""
    if value is None or value == "":
        return Decimal("0")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
