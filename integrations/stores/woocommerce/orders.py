"""WooCommerce REST v3 order JSON (also the body of `order.*` webhooks) -> StoreOrder."""
from __future__ import annotations

import html
from datetime import datetime
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from integrations.stores.base import Address, LineItem, StoreFulfillment, StoreOrder
from integrations.stores.values import parse_datetime, parse_money
from integrations.stores.woocommerce.tracking import TrackingItem, items_from_meta

CANCELLED_STATUSES = frozenset({"cancelled", "refunded", "failed", "trash"})
# Order meta that multilingual plugins (WPML, Polylang, TranslatePress) leave with the shopper's language.
LOCALE_META_KEYS = ("wpml_language", "_wpml_language", "pll_language", "trp_language", "_locale", "locale")


def _text(value: Any) -> str | None:
    text = html.unescape(str(value)).strip() if value not in (None, "") else ""
    return text or None


def parse_gmt(value: Any) -> datetime | None:
    """WooCommerce's `*_gmt` fields are UTC without an offset ("2017-03-22T19:28:08").

    Not the shared `optional_datetime`: that one rejects non-string values, this one has always read any
    non-empty value as text, and order parsing must not start failing on them.
    """
    return parse_datetime(str(value)) if value else None


def _meta(meta_data: Iterable[Any], keys: Iterable[str]) -> str | None:
    wanted = tuple(keys)
    for entry in meta_data or ():
        if isinstance(entry, Mapping) and entry.get("key") in wanted and isinstance(entry.get("value"), str):
            if entry["value"].strip():
                return entry["value"].strip()
    return None


def _variant_title(item: Mapping[str, Any]) -> str | None:
    """Variation attributes ("Black / M") from the line item's visible meta; underscore keys are internal."""
    values = []
    for entry in item.get("meta_data") or ():
        if not isinstance(entry, Mapping) or str(entry.get("key", "")).startswith("_"):
            continue
        value = entry.get("display_value", entry.get("value"))
        if isinstance(value, (str, int, float)) and str(value).strip():
            values.append(html.unescape(str(value)).strip())
    return " / ".join(values) or None


def _line_item(item: Mapping[str, Any]) -> LineItem:
    image = item.get("image") if isinstance(item.get("image"), Mapping) else {}
    quantity = int(item.get("quantity") or 0)
    price = item.get("price")
    if price in (None, ""):  # older stores: derive the unit price from the line total
        price = parse_money(item.get("subtotal")) / quantity if quantity else 0
    return LineItem(external_id=str(item.get("id")), title=_text(item.get("name")) or "Item", quantity=quantity,
                    price=parse_money(price), sku=_text(item.get("sku")), image_url=_text(image.get("src")),
                    product_url=_text(item.get("permalink")), variant_title=_variant_title(item))


def _fulfillment(item: TrackingItem, *, fallback_time: datetime) -> StoreFulfillment:
    return StoreFulfillment(external_id=item.external_id, tracking_number=item.tracking_number,
                            carrier_name=item.carrier_name, created_at=item.date_shipped or fallback_time,
                            tracking_url=item.tracking_url, line_item_ids=item.line_item_ids,
                            is_return=item.is_return, status="shipped")


def order_received_url(site_url: str, order: Mapping[str, Any]) -> str | None:
    """The shopper's order page: WooCommerce's order-received endpoint opens with the order key, no login."""
    key = order.get("order_key")
    if not site_url or not key:
        return None
    return f"{site_url.rstrip('/')}/checkout/order-received/{order.get('id')}/?key={quote(str(key))}"


def parse_order(order: Mapping[str, Any], *, site_url: str = "",
                tracking: Iterable[TrackingItem] | None = None) -> StoreOrder:
    """Map one order; `tracking` overrides the items read from meta (when fetched from a plugin's endpoint)."""
    if not isinstance(order, Mapping) or order.get("id") in (None, ""):
        raise ValueError("not a WooCommerce order (no id)")
    placed = parse_gmt(order.get("date_created_gmt")) or parse_gmt(order.get("date_created"))
    updated = parse_gmt(order.get("date_modified_gmt")) or placed
    if placed is None or updated is None:
        raise ValueError(f"order {order.get('id')}: no creation date")
    billing = order.get("billing") if isinstance(order.get("billing"), Mapping) else {}
    shipping = order.get("shipping") if isinstance(order.get("shipping"), Mapping) else {}
    meta_data = order.get("meta_data") or []
    items = list(tracking) if tracking is not None else items_from_meta(meta_data)
    fallback = parse_gmt(order.get("date_completed_gmt")) or updated
    customer = order.get("customer_id")
    return StoreOrder(
        external_id=str(order["id"]), number=str(order.get("number") or order["id"]), placed_at=placed,
        updated_at=updated, currency=str(order.get("currency") or "EUR").upper()[:3],
        total=parse_money(order.get("total")),
        line_items=tuple(_line_item(li) for li in order.get("line_items") or () if isinstance(li, Mapping)),
        fulfillments=tuple(_fulfillment(item, fallback_time=fallback) for item in items),
        customer_id=str(customer) if customer not in (None, "", 0, "0") else None,
        email=_text(billing.get("email")), phone=_text(billing.get("phone")) or _text(shipping.get("phone")),
        first_name=_text(shipping.get("first_name")) or _text(billing.get("first_name")),
        last_name=_text(shipping.get("last_name")) or _text(billing.get("last_name")),
        locale=_meta(meta_data, LOCALE_META_KEYS), order_url=order_received_url(site_url, order),
        shipping_address=Address(country_code=_text(shipping.get("country")) or _text(billing.get("country")),
                                 postcode=_text(shipping.get("postcode")) or _text(billing.get("postcode")),
                                 city=_text(shipping.get("city")) or _text(billing.get("city"))),
        cancelled=str(order.get("status")) in CANCELLED_STATUSES, raw=dict(order),
    )
