"""Small value conversions shared by the Shopify modules: global ids, timestamps, money."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

GID_PREFIX = "gid://shopify/"


def legacy_id(value: Any) -> str:
    """`gid://shopify/Order/123` or `123` -> "123", so webhook (REST) and GraphQL records share external ids."""
    if value is None or isinstance(value, bool):
        raise ValueError(f"not a Shopify id: {value!r}")
    text = str(value).strip()
    if text.startswith(GID_PREFIX):
        # A gid may carry a query string (gid://shopify/LineItem/1?foo=bar); the id is the last path segment.
        text = text.split("?", 1)[0].rsplit("/", 1)[-1]
    if not text:
        raise ValueError(f"empty Shopify id: {value!r}")
    return text


def to_gid(resource: str, value: Any) -> str:
    """The GraphQL global id of a REST id (or the gid itself, unchanged)."""
    text = str(value).strip()
    if text.startswith(GID_PREFIX):
        return text
    if not text.isdigit():
        raise ValueError(f"not a Shopify {resource} id: {value!r}")
    return f"{GID_PREFIX}{resource}/{text}"


def parse_datetime(value: Any) -> datetime:
    """Shopify timestamps are ISO 8601 with an offset (REST) or `Z` (GraphQL); keep them aware."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        # Shopify never sends naive times; if one shows up, UTC is the least surprising reading.
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def optional_datetime(value: Any) -> datetime | None:
    return parse_datetime(value) if value else None


def parse_money(value: Any) -> Decimal:
    """Prices arrive as strings ("199.00"); never go through float."""
    if value is None or value == "":
        return Decimal("0")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def blank_to_none(value: Any) -> str | None:
    """Shopify sends "" for absent SKUs, variant titles and zips; we store None."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def isoformat_utc(moment: datetime) -> str:
    """A DateTime scalar for GraphQL and search queries: aware, in UTC, with `Z`."""
    if moment.tzinfo is None:
        raise ValueError("timestamps sent to Shopify must be timezone-aware")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
