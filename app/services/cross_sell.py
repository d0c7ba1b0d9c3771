"""The tracking page's cross-sell block: the merchant's pick, else what the store's other shoppers buy most."""
from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Order, Store

SETTING = "cross_sell_products"
MAX_PRODUCTS = 3
MAX_PICKS = 6
RECENT_ORDERS = 200  # enough to know what sells, small enough to read on every page view


class PickError(ValueError):
    """A line of the merchant's pick that cannot be shown; the message says how to write it."""


def _https(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.netloc) and not any(c in url for c in "\"'<> ")


def parse_picks(text: str) -> list[dict[str, Any]]:
    """One product a line: `Title | https://product-url | https://image-url | 29.90` (image and price optional)."""
    picks = []
    for number, line in enumerate((l.strip() for l in text.splitlines()), start=1):
        if not line:
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 2 or not parts[0] or not _https(parts[1]):
            raise PickError(f"line {number}: write `Title | https://product-url | https://image-url | price`")
        image = parts[2] if len(parts) > 2 and parts[2] else None
        if image and not _https(image):
            raise PickError(f"line {number}: the image must be an https:// address")
        price = None
        if len(parts) > 3 and parts[3]:
            try:
                price = float(Decimal(parts[3].replace(",", ".")))
            except InvalidOperation:
                raise PickError(f"line {number}: the price must be a number like 29.90") from None
        picks.append({"title": parts[0][:120], "product_url": parts[1], "image_url": image, "price": price})
    if len(picks) > MAX_PICKS:
        raise PickError(f"at most {MAX_PICKS} products")
    return picks


def picks_as_text(picks: list[dict[str, Any]] | None) -> str:
    lines = []
    for p in picks or []:
        price = "" if p.get("price") is None else f"{p['price']:.2f}"
        lines.append(" | ".join([p["title"], p["product_url"], p.get("image_url") or "", price]).rstrip(" |"))
    return "\n".join(lines)


def cross_sell(session: Session, *, store: Store, order: Order, limit: int = MAX_PRODUCTS) -> list[dict[str, Any]]:
    """Products to show next to this order: never one the shopper already bought in it."""
    bought = {item.get("product_url") or item.get("title") for item in order.line_items or []}
    picks = [p for p in store.setting(SETTING, []) if p.get("product_url") not in bought and p.get("title") not in bought]
    if picks:
        return picks[:limit]
    counts: Counter[str] = Counter()
    latest: dict[str, dict[str, Any]] = {}
    recent = session.scalars(select(Order.line_items).where(Order.store_id == store.id, Order.id != order.id)
                             .order_by(Order.id.desc()).limit(RECENT_ORDERS))
    for items in recent:
        for item in items or []:
            key = item.get("product_url") or item.get("title")
            if not key or key in bought or not item.get("product_url"):
                continue  # only products the shopper can open
            counts[key] += int(item.get("quantity") or 1)
            latest.setdefault(key, item)
    return [{"title": latest[key].get("title"), "product_url": latest[key].get("product_url"),
             "image_url": latest[key].get("image_url"), "price": latest[key].get("price")}
            for key, _ in counts.most_common(limit)]
