"""Tracking numbers from the plugins Woo merchants use: Shipment Tracking, Advanced Shipment Tracking, AfterShip.

Shipment Tracking and Advanced Shipment Tracking (AST) both keep `_wc_shipment_tracking_items` in the order's
meta and serve `GET /wp-json/<namespace>/orders/<id>/shipment-trackings`; AfterShip keeps
`_aftership_tracking_items`. Each tracking item is one of our shipments.

Returns: none of the three plugins has a standard return flag. An item counts as a return parcel when it carries
`is_return` (true/"yes"/1) or `tracking_type: "return"` (AfterShip's `additional_fields.tracking_type` too), which
is what return-label add-ons write; every other item is an outbound parcel.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping

from integrations.stores.woocommerce.carriers import provider_carrier

SHIPMENT_TRACKING_META = "_wc_shipment_tracking_items"
AFTERSHIP_META = "_aftership_tracking_items"
# REST namespaces of the Shipment Tracking extension and of AST, tried in this order.
TRACKING_NAMESPACES: tuple[str, ...] = ("wc-shipment-tracking/v3", "wc-ast/v3")
TRACKINGS_ENDPOINT = "orders/{order_id}/shipment-trackings"


@dataclass(frozen=True)
class TrackingItem:
    external_id: str  # stable across the meta and the REST endpoint
    tracking_number: str
    provider: str | None  # the plugin's raw provider slug or name
    carrier_code: str | None
    carrier_name: str | None
    tracking_url: str | None
    date_shipped: datetime | None
    is_return: bool = False
    line_item_ids: tuple[str, ...] = ()


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in {"1", "true", "yes", "on"}


def parse_date_shipped(value: Any) -> datetime | None:
    """Shipment Tracking stores a Unix timestamp, its REST endpoint answers "YYYY-MM-DD", AfterShip "YYYYMMDD"."""
    if value in (None, "", 0, "0"):
        return None
    text = str(value).strip()
    if len(text) == 8 and text.isdigit() and text[:2] in ("19", "20"):  # AfterShip's ship_date: YYYYMMDD
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    elif text.isdigit():
        return datetime.fromtimestamp(int(text), tz=timezone.utc)
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)  # a date only: midday UTC
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _meta_value(meta_data: Iterable[Any], key: str) -> Any:
    for entry in meta_data or ():
        if isinstance(entry, Mapping) and entry.get("key") == key:
            value = entry.get("value")
            if isinstance(value, str) and value[:1] in "[{":  # some sites return the value JSON-encoded
                try:
                    return json.loads(value)
                except ValueError:
                    return None
            return value
    return None


def _items(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, Mapping):  # PHP arrays with non-sequential keys arrive as objects
        value = list(value.values())
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _shipment_tracking_item(raw: Mapping[str, Any]) -> TrackingItem | None:
    number = str(raw.get("tracking_number") or "").strip()
    if not number:
        return None
    provider = str(raw.get("tracking_provider") or raw.get("custom_tracking_provider") or "").strip() or None
    code, name = provider_carrier(provider)
    link = raw.get("custom_tracking_link") or raw.get("tracking_link") or raw.get("formatted_tracking_link") or None
    tracking_id = str(raw.get("tracking_id") or "").strip() or number
    lines = tuple(str(p.get("item_id")) for p in _items(raw.get("products_list")) if p.get("item_id"))
    return TrackingItem(external_id=f"st-{tracking_id}", tracking_number=number, provider=provider,
                        carrier_code=code, carrier_name=name or provider, tracking_url=str(link) if link else None,
                        date_shipped=parse_date_shipped(raw.get("date_shipped")),
                        is_return=_truthy(raw.get("is_return")) or str(raw.get("tracking_type")) == "return",
                        line_item_ids=lines)


def _aftership_item(raw: Mapping[str, Any]) -> TrackingItem | None:
    number = str(raw.get("tracking_number") or "").strip()
    if not number:
        return None
    provider = str(raw.get("slug") or "").strip() or None
    code, name = provider_carrier(provider)
    extra = raw.get("additional_fields") if isinstance(raw.get("additional_fields"), Mapping) else {}
    metrics = raw.get("metrics") if isinstance(raw.get("metrics"), Mapping) else {}
    tracking_id = str(raw.get("tracking_id") or "").strip() or f"{provider}-{number}"
    shipped = parse_date_shipped(extra.get("ship_date")) or parse_date_shipped(metrics.get("created_at"))
    return TrackingItem(external_id=f"as-{tracking_id}", tracking_number=number, provider=provider,
                        carrier_code=code, carrier_name=name or provider, tracking_url=None, date_shipped=shipped,
                        is_return=_truthy(raw.get("is_return")) or "return" in (str(raw.get("tracking_type")),
                                                                                 str(extra.get("tracking_type"))),
                        line_item_ids=tuple(str(li.get("id")) for li in _items(raw.get("line_items")) if li.get("id")))


def items_from_meta(meta_data: Iterable[Any]) -> list[TrackingItem]:
    """Every tracking item an order's `meta_data` holds, from any of the three plugins (deduplicated)."""
    found: list[TrackingItem] = []
    for raw in _items(_meta_value(meta_data, SHIPMENT_TRACKING_META)):
        if (item := _shipment_tracking_item(raw)) is not None:
            found.append(item)
    for raw in _items(_meta_value(meta_data, AFTERSHIP_META)):
        if (item := _aftership_item(raw)) is not None:
            found.append(item)
    unique: dict[tuple[str, str], TrackingItem] = {}
    for item in found:
        unique.setdefault((item.external_id, item.tracking_number), item)
    return list(unique.values())


def items_from_rest(payload: Any) -> list[TrackingItem]:
    """The answer of `GET <namespace>/orders/<id>/shipment-trackings` (Shipment Tracking or AST)."""
    return [item for raw in _items(payload) if (item := _shipment_tracking_item(raw)) is not None]
