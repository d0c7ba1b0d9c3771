"""The Shopify store platform: webhooks in, GraphQL reconcile and write-back out."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, ClassVar, Iterator

import requests

from integrations.stores.base import StoreOrder, WebhookChange
from integrations.stores.shopify import sync, webhooks
from integrations.stores.shopify.returns import RETURN_QUERY, ReturnChange, parse_return_node
from integrations.stores.shopify.graphql import DEFAULT_API_VERSION, RetryPolicy, ShopifyGraphQL
from integrations.stores.shopify.oauth import DEFAULT_BASE_URL_TEMPLATE

__all__ = ["ShopifyStore", "ShopifyGraphQL", "DEFAULT_API_VERSION"]


class ShopifyStore:
    """One installed shop. `parse_webhook` is pure; `fetch_orders` and `graphql` talk to the shop."""

    platform: ClassVar[str] = "shopify"

    def __init__(self, *, shop: str, access_token: str | Callable[[], str] = "",
                 api_version: str = DEFAULT_API_VERSION,
                 admin_base_url_template: str = DEFAULT_BASE_URL_TEMPLATE, timeout: float = 10.0,
                 session: requests.Session | None = None, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] | None = None, include_customer: bool = False) -> None:
        self.shop = shop
        self.include_customer = include_customer
        extra = {"sleep": sleep} if sleep is not None else {}
        self.graphql = ShopifyGraphQL(shop=shop, access_token=access_token, api_version=api_version,
                                      admin_base_url_template=admin_base_url_template, timeout=timeout,
                                      session=session, policy=policy, **extra)

    def __repr__(self) -> str:
        return f"ShopifyStore(shop={self.shop!r})"

    def parse_webhook(self, *, topic: str, body: bytes) -> WebhookChange:
        return webhooks.parse_webhook(topic=topic, body=body)

    def fetch_orders(self, *, updated_since: datetime | None = None,
                     created_since: datetime | None = None) -> Iterator[StoreOrder]:
        return sync.fetch_orders(self.graphql, updated_since=updated_since, created_since=created_since,
                                 include_customer=self.include_customer)

    def fetch_order(self, *, external_id: str) -> StoreOrder | None:
        return sync.fetch_order(self.graphql, external_id=external_id, include_customer=self.include_customer)

    def fetch_return(self, *, return_id: str) -> ReturnChange | None:
        """A return with its order, items and every tracked reverse delivery (None when Shopify has no such return)."""
        data = self.graphql.execute(RETURN_QUERY, {"id": f"gid://shopify/Return/{return_id}"})
        node = data.get("return")
        return parse_return_node(node, received_at=datetime.now(timezone.utc)) if node else None
