"""Map Shopify's REST-shaped JSON (webhook bodies) to the store contract's dataclasses. Pure, no I/O."""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple, Sequence

from integrations.stores.base import Address, LineItem, StoreFulfillment, StoreOrder
from integrations.stores.shopify.values import (
    blank_to_none,
    legacy_id,
    optional_datetime,
    parse_datetime,
    parse_money,
)


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be an object, got {type(value).__name__}")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{what} must be a list, got {type(value).__name__}")
    return value


def parse_line_item(data: Any) -> LineItem:
    item = _mapping(data, "line item")
    image = item.get("image")
    return LineItem(
        external_id=legacy_id(item["id"]),
        title=str(item.get("title") or item.get("name") or ""),
        quantity=int(item.get("quantity") or 0),
        price=parse_money(item.get("price")),
        sku=blank_to_none(item.get("sku")),
        # Order webhooks carry no image or product URL; some apps add them, so take them when present.
        image_url=blank_to_none(image.get("src") if isinstance(image, Mapping) else image),
        product_url=blank_to_none(item.get("product_url")),
        variant_title=blank_to_none(item.get("variant_title")),
    )


class Tracking(NamedTuple):
    """One parcel's tracking as a fulfillment lists it; number None for a fulfillment without one."""

    number: str | None
    url: str | None
    carrier: str | None


def split_parcels(base_id: str, tracking: Sequence[Tracking], **common: Any) -> list[StoreFulfillment]:
    """One StoreFulfillment per tracking entry of one Shopify fulfillment (REST and GraphQL alike).

    The first keeps the fulfillment's own id; further ones get "<id>.<n>" so each parcel has a stable id of its
    own, the same whichever way the fulfillment arrived. `fulfillment_id_of()` gives the Shopify id back.
    """
    return [
        StoreFulfillment(external_id=base_id if i == 0 else f"{base_id}.{i + 1}", tracking_number=entry.number,
                         tracking_url=entry.url, carrier_name=entry.carrier, **common)
        for i, entry in enumerate(tracking)
    ]


def fulfillment_parcels(data: Any) -> list[StoreFulfillment]:
    """One StoreFulfillment per tracking number of a REST fulfillment (see `split_parcels` for the ids).

    Shopify lets one fulfillment carry several tracking numbers (a multi-parcel shipment). A fulfillment without
    a number still yields one entry (tracking_number None): the order has shipped, the number may follow in an
    update.
    """
    ful = _mapping(data, "fulfillment")
    base_id = legacy_id(ful["id"])
    numbers = [str(n) for n in _list(ful.get("tracking_numbers"), "tracking_numbers") if n]
    if not numbers and ful.get("tracking_number"):
        numbers = [str(ful["tracking_number"])]
    urls = [str(u) for u in _list(ful.get("tracking_urls"), "tracking_urls") if u]
    if not urls and ful.get("tracking_url"):
        urls = [str(ful["tracking_url"])]
    line_item_ids = tuple(
        legacy_id(_mapping(li, "fulfillment line item")["id"])
        for li in _list(ful.get("line_items"), "fulfillment line_items")
    )
    created_at = parse_datetime(ful.get("created_at") or ful.get("updated_at"))
    carrier = blank_to_none(ful.get("tracking_company"))
    # tracking_urls pairs with tracking_numbers by position when both are complete; without numbers the one
    # untracked parcel still keeps the first URL.
    tracking = [Tracking(number, urls[i] if i < len(urls) else None, carrier)
                for i, number in enumerate(numbers or [None])]
    return split_parcels(base_id, tracking, created_at=created_at, line_item_ids=line_item_ids,
                         status=blank_to_none(ful.get("status")))


def fulfillment_id_of(external_id: str) -> str:
    """The Shopify fulfillment id of a parcel id made by `fulfillment_parcels` ("123.2" -> "123")."""
    return external_id.split(".", 1)[0]


def _address(data: Any) -> Address:
    if not isinstance(data, Mapping):
        return Address()
    return Address(
        country_code=blank_to_none(data.get("country_code")),
        postcode=blank_to_none(data.get("zip")),
        city=blank_to_none(data.get("city")),
    )


def parse_order(data: Any) -> StoreOrder:
    """A REST order (the body of orders/create, orders/updated, orders/cancelled) as a StoreOrder."""
    order = _mapping(data, "order")
    if "id" not in order:
        raise ValueError("order has no id")
    customer = order.get("customer") if isinstance(order.get("customer"), Mapping) else {}
    shipping = order.get("shipping_address") if isinstance(order.get("shipping_address"), Mapping) else {}
    billing = order.get("billing_address") if isinstance(order.get("billing_address"), Mapping) else {}
    created_at = parse_datetime(order.get("created_at"))
    updated_at = optional_datetime(order.get("updated_at")) or created_at
    fulfillments = tuple(
        parcel
        for ful in _list(order.get("fulfillments"), "fulfillments")
        for parcel in fulfillment_parcels(ful)
    )
    return StoreOrder(
        external_id=legacy_id(order["id"]),
        number=str(order.get("name") or order.get("order_number") or order["id"]),
        placed_at=created_at,
        updated_at=updated_at,
        currency=str(order.get("currency") or order.get("presentment_currency") or ""),
        total=parse_money(order.get("total_price")),
        line_items=tuple(parse_line_item(li) for li in _list(order.get("line_items"), "line_items")),
        fulfillments=fulfillments,
        customer_id=legacy_id(customer["id"]) if customer.get("id") else None,
        email=blank_to_none(order.get("email") or order.get("contact_email") or customer.get("email")),
        phone=blank_to_none(order.get("phone") or customer.get("phone")),
        first_name=blank_to_none(customer.get("first_name") or shipping.get("first_name")
                                 or billing.get("first_name")),
        last_name=blank_to_none(customer.get("last_name") or shipping.get("last_name")
                                or billing.get("last_name")),
        locale=blank_to_none(order.get("customer_locale")),
        order_url=blank_to_none(order.get("order_status_url")),
        shipping_address=_address(shipping),
        cancelled=bool(order.get("cancelled_at")),
        raw=dict(order),
    )
