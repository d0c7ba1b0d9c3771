"""Small value conversions shared by the Shopify modules: global ids, timestamps, money, GraphQL connections."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

# Timestamps and money read the same for every store; re-exported so Shopify modules import from one place.
from integrations.stores.values import optional_datetime, parse_datetime, parse_money  # noqa: F401

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


def connection_nodes(connection: Any) -> list[Any]:
    """The objects of a GraphQL connection, whether it came as `nodes`, `edges { node }` or a plain list."""
    if isinstance(connection, Mapping):
        nodes = connection.get("nodes")
        if nodes is None and isinstance(connection.get("edges"), list):
            nodes = [edge.get("node") for edge in connection["edges"]]
        return [n for n in nodes or [] if isinstance(n, Mapping)]
    if isinstance(connection, list):
        return [n for n in connection if isinstance(n, Mapping)]
    return []


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
