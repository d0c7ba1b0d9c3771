"""A store with no network: generates realistic orders and parses its own webhook deliveries like a real platform."""
from __future__ import annotations

import json
import random
import zlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Iterator

from integrations.carriers.sandbox import make_tracking_number, pick_journey
from integrations.stores.base import Address, LineItem, StoreFulfillment, StoreOrder, WebhookChange

SANDBOX_DOMAIN = "demo-shop.sandbox"
SANDBOX_CARRIER_NAME = "Sandbox Express"

PRODUCTS: tuple[tuple[str, str, str, str], ...] = (
    ("Merino Wool Beanie", "MWB-01", "29.90", "Charcoal"),
    ("Organic Cotton Tee", "OCT-22", "24.00", "M / Sand"),
    ("Trail Running Socks", "TRS-03", "14.50", "EU 39-42"),
    ("Ceramic Pour-Over Set", "CPS-10", "49.00", "Matte White"),
    ("Waxed Canvas Tote", "WCT-07", "65.00", "Olive"),
    ("Linen Napkins (4)", "LNP-04", "32.00", "Natural"),
    ("Espresso Beans 1 kg", "ESP-1K", "27.90", "Medium roast"),
    ("Bamboo Cutting Board", "BCB-02", "39.00", "Large"),
    ("Recycled Down Jacket", "RDJ-15", "189.00", "L / Navy"),
    ("Leather Card Wallet", "LCW-05", "45.00", "Cognac"),
)
CUSTOMERS: tuple[tuple[str, str, str, str, str, str], ...] = (
    # first, last, locale, country, postcode, phone
    ("Anna", "Schmidt", "de-DE", "DE", "20095", "+49 151 23456789"),
    ("Lukas", "Weber", "de-DE", "DE", "10115", "0171 2345678"),
    ("Sophie", "Gruber", "de-AT", "AT", "1010", "+43 664 1234567"),
    ("Emma", "Johnson", "en-US", "US", "10001", "(212) 555-0143"),
    ("Oliver", "Brown", "en-GB", "GB", "SW1A 1AA", "+44 7700 900123"),
    ("Camille", "Martin", "fr-FR", "FR", "75001", "06 12 34 56 78"),
    ("Noah", "Meier", "de-CH", "CH", "8001", "not a phone"),
)


def _slug(text: str) -> str:
    return "".join(c.lower() if c.isalnum() else "-" for c in text).strip("-")


def _fulfillment(*, order_id: str, index: int, created_at: datetime, serial: int, items: list[str], journey: str,
                 is_return: bool = False) -> dict[str, Any]:
    return {
        "id": f"{order_id}-F{index}", "tracking_number": make_tracking_number(journey=journey, created_at=created_at, serial=serial),
        "carrier": SANDBOX_CARRIER_NAME, "created_at": created_at.isoformat(), "line_item_ids": items, "is_return": is_return,
    }


def generate_order(*, rng: random.Random, number: int, now: datetime, fulfilled: bool = True) -> dict[str, Any]:
    """One realistic order payload: 1-3 items, sometimes split into two parcels."""
    first, last, locale, country, postcode, phone = rng.choice(CUSTOMERS)
    products = rng.sample(PRODUCTS, k=rng.choice((1, 1, 2, 3)))
    items = [{
        "id": f"{number}-{i}", "title": title, "sku": sku, "quantity": rng.choice((1, 1, 2)), "price": price,
        "variant_title": variant, "image_url": f"https://{SANDBOX_DOMAIN}/images/{sku.lower()}.jpg",
        "product_url": f"https://{SANDBOX_DOMAIN}/products/{_slug(title)}",
    } for i, (title, sku, price, variant) in enumerate(products, start=1)]
    total = sum(Decimal(i["price"]) * i["quantity"] for i in items) + Decimal("4.90")
    # A fulfilled order was placed a while ago; an unfulfilled one just now, so its fulfillment delay can be watched.
    placed_at = now - timedelta(minutes=rng.randint(5, 90)) if fulfilled else now
    order_id = str(number)
    order: dict[str, Any] = {
        "id": order_id, "number": f"#{number}", "placed_at": placed_at.isoformat(), "updated_at": now.isoformat(),
        "currency": "EUR", "total": str(total), "order_url": f"https://{SANDBOX_DOMAIN}/orders/{order_id}/status",
        "customer": {"id": f"C{zlib.crc32(f'{first} {last}'.encode()) % 100000}", "email": f"{first}.{last}@example.com".lower(),
                     "phone": phone, "first_name": first, "last_name": last, "locale": locale},
        "shipping_address": {"country_code": country, "postcode": postcode}, "line_items": items, "fulfillments": [],
    }
    if fulfilled:
        ship(order, rng=rng, now=now)
    return order


def ship(order: dict[str, Any], *, rng: random.Random, now: datetime) -> dict[str, Any]:
    """Fulfil an order: one parcel, or two for a split order with several items."""
    item_ids = [i["id"] for i in order["line_items"]]
    groups = [item_ids[:1], item_ids[1:]] if len(item_ids) > 1 and rng.random() < 0.3 else [item_ids]
    for index, group in enumerate(groups, start=1):
        order["fulfillments"].append(_fulfillment(order_id=order["id"], index=index, created_at=now, serial=rng.randint(0, 99999),
                                                  items=group, journey=pick_journey(rng)))
    order["updated_at"] = now.isoformat()
    return order


def add_return(order: dict[str, Any], *, rng: random.Random, now: datetime) -> dict[str, Any]:
    index = len(order["fulfillments"]) + 1
    order["fulfillments"].append(_fulfillment(order_id=order["id"], index=index, created_at=now, serial=rng.randint(0, 99999),
                                              items=[order["line_items"][0]["id"]], journey="RET", is_return=True))
    order["updated_at"] = now.isoformat()
    return order


def parse_order(data: dict[str, Any]) -> StoreOrder:
    customer = data.get("customer") or {}
    address = data.get("shipping_address") or {}
    return StoreOrder(
        external_id=str(data["id"]), number=str(data["number"]), placed_at=datetime.fromisoformat(data["placed_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]), currency=data["currency"], total=Decimal(data["total"]),
        line_items=tuple(LineItem(external_id=str(i["id"]), title=i["title"], quantity=int(i["quantity"]),
                                  price=Decimal(i["price"]), sku=i.get("sku"), image_url=i.get("image_url"),
                                  product_url=i.get("product_url"), variant_title=i.get("variant_title"))
                         for i in data["line_items"]),
        fulfillments=tuple(StoreFulfillment(external_id=f["id"], tracking_number=f.get("tracking_number"),
                                            carrier_name=f.get("carrier"), created_at=datetime.fromisoformat(f["created_at"]),
                                            line_item_ids=tuple(f.get("line_item_ids") or ()), is_return=bool(f.get("is_return")))
                           for f in data.get("fulfillments", [])),
        customer_id=customer.get("id"), email=customer.get("email"), phone=customer.get("phone"),
        first_name=customer.get("first_name"), last_name=customer.get("last_name"), locale=customer.get("locale"),
        order_url=data.get("order_url"), shipping_address=Address(country_code=address.get("country_code"),
                                                                  postcode=address.get("postcode")),
        origin_country="DE", cancelled=bool(data.get("cancelled")), raw=data,
    )


class SandboxStore:
    platform: ClassVar[str] = "sandbox"

    def parse_webhook(self, *, topic: str, body: bytes) -> WebhookChange:
        try:
            data = json.loads(body)
            if topic in ("orders/create", "orders/updated"):
                return WebhookChange(kind=WebhookChange.KIND_ORDER_UPSERT, order=parse_order(data))
            if topic == "orders/deleted":
                return WebhookChange(kind=WebhookChange.KIND_ORDER_DELETED, order_external_id=str(data["id"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"malformed sandbox {topic} delivery: {exc}") from exc
        return WebhookChange(kind=WebhookChange.KIND_IGNORED)

    def fetch_orders(self, *, updated_since: datetime | None) -> Iterator[StoreOrder]:
        return iter(())  # everything the sandbox has arrives as webhooks
