"""Backfill and reconcile: orders modified since a time, page by page (per_page=100, X-WP-TotalPages)."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

from integrations.errors import PermanentError
from integrations.stores.base import StoreOrder
from integrations.stores.woocommerce.client import WooClient
from integrations.stores.woocommerce.orders import parse_order
from integrations.stores.woocommerce.tracking import TRACKINGS_ENDPOINT, items_from_meta, items_from_rest

log = logging.getLogger(__name__)
# Orders in these statuses may have tracking numbers that only the plugin's endpoint shows (meta hidden).
SHIPPED_STATUSES = frozenset({"completed", "shipped", "partial-shipped", "delivered"})


def _gmt(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def fetch_trackings(client: WooClient, *, order_id: str, namespace: str) -> list[Any]:
    """The tracking plugin's own list for one order (Shipment Tracking or AST)."""
    payload = client.get_json(TRACKINGS_ENDPOINT.format(order_id=order_id), namespace=namespace)
    return items_from_rest(payload)


def _map(client: WooClient, raw: Mapping[str, Any], *, site_url: str, tracking_namespace: str | None) -> StoreOrder:
    # Read the meta once and hand it to parse_order, which would otherwise read it again.
    tracking = items_from_meta(raw.get("meta_data") or [])
    if tracking_namespace and raw.get("status") in SHIPPED_STATUSES and not tracking:
        try:
            tracking = fetch_trackings(client, order_id=str(raw["id"]), namespace=tracking_namespace)
        except PermanentError as exc:  # plugin removed since connect, or the order has none: meta is all we have
            log.info("WooCommerce %s: no tracking endpoint for order %s (%s)", client.url, raw.get("id"), exc)
    return parse_order(raw, site_url=site_url, tracking=tracking)


def order_pages(client: WooClient, *, modified_after: datetime | None, site_url: str = "",
                tracking_namespace: str | None = None) -> Iterator[list[StoreOrder]]:
    """One list of orders per REST page, oldest id first so pages stay stable while the shop takes orders.

    The caller commits after each page: nothing holds a transaction open across remote calls.
    """
    params: dict[str, Any] = {"orderby": "id", "order": "asc"}
    if modified_after is not None:
        params.update(modified_after=_gmt(modified_after), dates_are_gmt=True)
    for page in client.pages("orders", params=params):
        orders = []
        for raw in page.items:
            if not isinstance(raw, dict):
                continue
            try:
                orders.append(_map(client, raw, site_url=site_url, tracking_namespace=tracking_namespace))
            except ValueError as exc:  # one broken order must not stop the rest
                log.warning("WooCommerce %s: skipped order %s: %s", client.url, raw.get("id"), exc)
        yield orders
