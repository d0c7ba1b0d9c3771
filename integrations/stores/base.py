"""The store contract: normalized orders and fulfillments, and what a webhook delivery means."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Iterator, Protocol, runtime_checkable


@dataclass(frozen=True)
class LineItem:
    external_id: str
    title: str
    quantity: int
    price: Decimal
    sku: str | None = None
    image_url: str | None = None
    product_url: str | None = None
    variant_title: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.external_id, "title": self.title, "sku": self.sku, "quantity": self.quantity,
            "price": float(self.price), "image_url": self.image_url, "product_url": self.product_url,
            "variant_title": self.variant_title,
        }


@dataclass(frozen=True)
class StoreFulfillment:
    external_id: str
    tracking_number: str | None
    carrier_name: str | None  # the store's raw carrier/company string ("DHL Express", "dhl-de")
    created_at: datetime
    tracking_url: str | None = None
    service: str | None = None
    line_item_ids: tuple[str, ...] = ()  # which line items travel in this parcel (empty: all)
    is_return: bool = False
    status: str | None = None  # the store's own fulfillment status, informational


@dataclass(frozen=True)
class Address:
    country_code: str | None = None
    postcode: str | None = None
    city: str | None = None


@dataclass(frozen=True)
class StoreOrder:
    external_id: str
    number: str
    placed_at: datetime
    updated_at: datetime
    currency: str
    total: Decimal
    line_items: tuple[LineItem, ...]
    fulfillments: tuple[StoreFulfillment, ...] = ()
    customer_id: str | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None = None
    order_url: str | None = None  # the shopper's order status page
    shipping_address: Address = field(default_factory=Address)
    origin_country: str | None = None
    cancelled: bool = False
    raw: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class WebhookChange:
    """What a stored webhook delivery asks us to do. `kind` is one of the KIND_* constants."""

    KIND_ORDER_UPSERT: ClassVar[str] = "order_upsert"
    KIND_ORDER_DELETED: ClassVar[str] = "order_deleted"
    KIND_UNINSTALLED: ClassVar[str] = "uninstalled"
    KIND_CUSTOMER_REDACT: ClassVar[str] = "customer_redact"
    KIND_CUSTOMER_DATA_REQUEST: ClassVar[str] = "customer_data_request"
    KIND_SHOP_REDACT: ClassVar[str] = "shop_redact"
    KIND_IGNORED: ClassVar[str] = "ignored"
    KIND_RETURN: ClassVar[str] = "return"  # a return's parcels must be looked up (see `return_id`)

    kind: str
    order: StoreOrder | None = None
    order_external_id: str | None = None
    customer_email: str | None = None
    customer_id: str | None = None
    fulfillment: StoreFulfillment | None = None  # for fulfillment-only topics
    return_id: str | None = None  # for returns topics: the platform's return, whose parcels the app fetches
    # Orders a privacy request names explicitly (Shopify's `orders_to_redact` / `orders_requested`); the
    # customer's email and id alone can miss guest orders placed under another address.
    order_external_ids: tuple[str, ...] = ()


@runtime_checkable
class StorePlatform(Protocol):
    platform: ClassVar[str]

    def parse_webhook(self, *, topic: str, body: bytes) -> WebhookChange:
        """Pure: turn a stored delivery into a change; raise ValueError for a malformed body."""

    def fetch_orders(self, *, updated_since: datetime | None) -> Iterator[StoreOrder]:
        """Reconcile: orders changed since a time, paged by the adapter."""
