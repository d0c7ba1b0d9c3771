"""Reconcile and backfill: cursor-paged Admin GraphQL order queries mapped to StoreOrder."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Iterator, Mapping

from integrations.errors import PermanentError
from integrations.stores.base import Address, LineItem, StoreFulfillment, StoreOrder
from integrations.stores.shopify.graphql import ShopifyGraphQL
from integrations.stores.shopify.rest import Tracking, split_parcels
from integrations.stores.shopify.values import (
    blank_to_none,
    connection_nodes,
    isoformat_utc,
    legacy_id,
    optional_datetime,
    parse_datetime,
    parse_money,
)

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 50  # ~50 orders with nested items costs a few hundred points: well inside the bucket
LINE_ITEMS_PER_ORDER = 50
FULFILLMENTS_PER_ORDER = 20
TRACKING_PER_FULFILLMENT = 10

# `Order.customer` needs the read_customers scope; names come from the addresses unless the app has it.
_CUSTOMER_FIELDS = "customer { id firstName lastName }"

_ORDERS_QUERY = """
query ParcelOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      name
      createdAt
      updatedAt
      cancelledAt
      email
      phone
      customerLocale
      statusPageUrl
      currencyCode
      totalPriceSet { shopMoney { amount currencyCode } }
      %(customer)s
      shippingAddress { firstName lastName city zip countryCodeV2 }
      billingAddress { firstName lastName }
      lineItems(first: %(line_items)d) {
        pageInfo { hasNextPage }
        nodes {
          id
          title
          sku
          quantity
          variantTitle
          originalUnitPriceSet { shopMoney { amount currencyCode } }
          image { url }
          product { onlineStoreUrl }
        }
      }
      fulfillments(first: %(fulfillments)d) {
        id
        status
        createdAt
        updatedAt
        trackingInfo(first: %(tracking)d) { number company url }
        fulfillmentLineItems(first: %(line_items)d) { nodes { lineItem { id } } }
      }
    }
  }
}
"""


def orders_query(*, include_customer: bool = False) -> str:
    return _ORDERS_QUERY % {
        "customer": _CUSTOMER_FIELDS if include_customer else "",
        "line_items": LINE_ITEMS_PER_ORDER,
        "fulfillments": FULFILLMENTS_PER_ORDER,
        "tracking": TRACKING_PER_FULFILLMENT,
    }


def search_query(*, updated_since: datetime | None = None, created_since: datetime | None = None) -> str | None:
    """Shopify search syntax for the `query:` argument, e.g. `updated_at:>='2026-01-01T00:00:00Z'`."""
    terms = []
    if updated_since is not None:
        terms.append(f"updated_at:>='{isoformat_utc(updated_since)}'")
    if created_since is not None:
        terms.append(f"created_at:>='{isoformat_utc(created_since)}'")
    return " AND ".join(terms) or None


def _money(value: Any) -> Any:
    if isinstance(value, Mapping) and isinstance(value.get("shopMoney"), Mapping):
        return value["shopMoney"].get("amount")
    return None


def _line_item(node: Mapping[str, Any]) -> LineItem:
    image = node.get("image") if isinstance(node.get("image"), Mapping) else {}
    product = node.get("product") if isinstance(node.get("product"), Mapping) else {}
    return LineItem(
        external_id=legacy_id(node["id"]),
        title=str(node.get("title") or ""),
        quantity=int(node.get("quantity") or 0),
        price=parse_money(_money(node.get("originalUnitPriceSet"))),
        sku=blank_to_none(node.get("sku")),
        image_url=blank_to_none(image.get("url")),
        # onlineStoreUrl is null for products not published to the online store; nothing to link to then.
        product_url=blank_to_none(product.get("onlineStoreUrl")),
        variant_title=blank_to_none(node.get("variantTitle")),
    )


def _fulfillment_parcels(node: Mapping[str, Any]) -> list[StoreFulfillment]:
    """Same parcel ids as the webhook path (rest.fulfillment_parcels): "<id>", "<id>.2", ..."""
    base_id = legacy_id(node["id"])
    infos = [t for t in node.get("trackingInfo") or [] if isinstance(t, Mapping) and t.get("number")]
    line_item_ids = tuple(
        legacy_id(n["lineItem"]["id"]) for n in connection_nodes(node.get("fulfillmentLineItems"))
        if isinstance(n.get("lineItem"), Mapping)
    )
    created_at = parse_datetime(node.get("createdAt") or node.get("updatedAt"))
    tracking = [Tracking(str(info["number"]), blank_to_none(info.get("url")), blank_to_none(info.get("company")))
                for info in infos] or [Tracking(None, None, None)]
    # GraphQL says SUCCESS/CANCELLED/...; lower-case to match the REST webhook's "success"/"cancelled".
    status = str(node["status"]).lower() if node.get("status") else None
    return split_parcels(base_id, tracking, created_at=created_at, line_item_ids=line_item_ids, status=status)


def parse_graphql_order(node: Mapping[str, Any]) -> StoreOrder:
    """An `Order` node of `orders_query()` as a StoreOrder with the same ids a webhook would give."""
    shipping = node.get("shippingAddress") if isinstance(node.get("shippingAddress"), Mapping) else {}
    billing = node.get("billingAddress") if isinstance(node.get("billingAddress"), Mapping) else {}
    customer = node.get("customer") if isinstance(node.get("customer"), Mapping) else {}
    line_items = node.get("lineItems")
    if isinstance(line_items, Mapping) and (line_items.get("pageInfo") or {}).get("hasNextPage"):
        logger.warning("Shopify order %s has more than %d line items; the rest are not synced",
                       node.get("name"), LINE_ITEMS_PER_ORDER)
    created_at = parse_datetime(node.get("createdAt"))
    total = node.get("totalPriceSet")
    currency = node.get("currencyCode") or (
        total["shopMoney"].get("currencyCode") if isinstance(total, Mapping)
        and isinstance(total.get("shopMoney"), Mapping) else None)
    return StoreOrder(
        external_id=legacy_id(node["id"]),
        number=str(node.get("name") or legacy_id(node["id"])),
        placed_at=created_at,
        updated_at=optional_datetime(node.get("updatedAt")) or created_at,
        currency=str(currency or ""),
        total=parse_money(_money(total)),
        line_items=tuple(_line_item(n) for n in connection_nodes(line_items)),
        fulfillments=tuple(p for f in connection_nodes(node.get("fulfillments")) for p in _fulfillment_parcels(f)),
        customer_id=legacy_id(customer["id"]) if customer.get("id") else None,
        email=blank_to_none(node.get("email")),
        phone=blank_to_none(node.get("phone")),
        first_name=blank_to_none(customer.get("firstName") or shipping.get("firstName") or billing.get("firstName")),
        last_name=blank_to_none(customer.get("lastName") or shipping.get("lastName") or billing.get("lastName")),
        locale=blank_to_none(node.get("customerLocale")),
        order_url=blank_to_none(node.get("statusPageUrl")),
        shipping_address=Address(
            country_code=blank_to_none(shipping.get("countryCodeV2")),
            postcode=blank_to_none(shipping.get("zip")),
            city=blank_to_none(shipping.get("city")),
        ),
        cancelled=bool(node.get("cancelledAt")),
        raw=dict(node),
    )


def fetch_orders(client: ShopifyGraphQL, *, updated_since: datetime | None = None,
                 created_since: datetime | None = None, page_size: int = DEFAULT_PAGE_SIZE,
                 include_customer: bool = False) -> Iterator[StoreOrder]:
    """Orders (oldest update first) changed or created since a time, one page at a time.

    Lazily paged: the caller can persist each order (and remember its `updated_at` as the next watermark)
    as it goes, so an interrupted backfill resumes instead of starting over. Without the read_all_orders
    scope Shopify only returns the last 60 days.
    """
    query = orders_query(include_customer=include_customer)
    variables: dict[str, Any] = {"first": page_size, "after": None,
                                 "query": search_query(updated_since=updated_since, created_since=created_since)}
    pages = 0
    while True:
        data = client.execute(query, variables)
        connection = data.get("orders")
        if not isinstance(connection, Mapping):
            raise PermanentError(f"Shopify {client.shop}: orders query answered without orders", code="bad_response")
        pages += 1
        for node in connection_nodes(connection):
            try:
                order = parse_graphql_order(node)
            except (KeyError, TypeError, ValueError) as exc:
                raise PermanentError(f"Shopify {client.shop}: unreadable order {node.get('id')}: {exc!r}",
                                     code="bad_response") from exc
            yield order
        page_info = connection.get("pageInfo") or {}
        if not page_info.get("hasNextPage") or not page_info.get("endCursor"):
            logger.info("Shopify %s: fetched %d page(s) of orders", client.shop, pages)
            return
        variables = {**variables, "after": page_info["endCursor"]}


def fetch_order(client: ShopifyGraphQL, *, external_id: str, include_customer: bool = False) -> StoreOrder | None:
    """One order by its id (for a fulfillment webhook about an order we have not seen), or None."""
    wanted = legacy_id(external_id)
    data = client.execute(orders_query(include_customer=include_customer),
                          {"first": 1, "after": None, "query": f"id:{wanted}"})
    for node in connection_nodes((data.get("orders") or {})):
        if legacy_id(node.get("id")) == wanted:
            return parse_graphql_order(node)
    return None
