"""The WooCommerce store platform: WC Auth keys, webhooks in, REST reconcile and write-back out."""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Iterator, Mapping

from integrations.stores.base import StoreOrder, WebhookChange
from integrations.stores.woocommerce import sync, webhooks, writeback
from integrations.stores.woocommerce.client import WooClient, WooCommerceError
from integrations.stores.woocommerce.site import ConnectError, SiteUrl, parse_site_url

__all__ = ["ConnectError", "SiteUrl", "WooClient", "WooCommerceError", "WooCommerceStore", "parse_site_url"]


class WooCommerceStore:
    """One connected site. `parse_webhook` is pure; `fetch_orders` pages through the REST API."""

    platform: ClassVar[str] = "woocommerce"

    def __init__(self, *, site_url: str = "", consumer_key: str = "", consumer_secret: str = "",
                 timeout: float = 15.0, tracking_namespace: str | None = None) -> None:
        self.site_url = site_url
        self.tracking_namespace = tracking_namespace
        self.client = WooClient(url=site_url or "https://invalid.invalid", consumer_key=consumer_key,
                                consumer_secret=consumer_secret, timeout=timeout)

    @classmethod
    def from_runtime(cls, *, store: Any, credentials: Mapping[str, Any] | None,
                     config: Mapping[str, Any]) -> WooCommerceStore:
        settings = (store.settings or {}) if store is not None else {}
        creds = credentials or {}
        return cls(site_url=settings.get("site_url", ""), consumer_key=creds.get("consumer_key", ""),
                   consumer_secret=creds.get("consumer_secret", ""),
                   timeout=float(config.get("WOOCOMMERCE_TIMEOUT_SECONDS", 15.0)),
                   tracking_namespace=settings.get("tracking_namespace"))

    def __repr__(self) -> str:
        return f"WooCommerceStore(site_url={self.site_url!r})"

    def parse_webhook(self, *, topic: str, body: bytes) -> WebhookChange:
        return webhooks.parse_webhook(topic=topic, body=body, site_url=self.site_url)

    def order_pages(self, *, updated_since: datetime | None) -> Iterator[list[StoreOrder]]:
        return sync.order_pages(self.client, modified_after=updated_since, site_url=self.site_url,
                                tracking_namespace=self.tracking_namespace)

    def fetch_orders(self, *, updated_since: datetime | None) -> Iterator[StoreOrder]:
        for page in self.order_pages(updated_since=updated_since):
            yield from page

    def send_writeback(self, *, payload: Mapping[str, Any], retry: bool = False) -> None:
        """One write-back row: the private note (skipped when a lost-answer retry finds it written), then
        `completed` when asked. Raises RetryableError / WooCommerceError like every call."""
        order_id = str(payload["order_external_id"])
        note = payload.get("note")
        if note and not (retry and writeback.note_exists(self.client, order_id=order_id,
                                                         reference=str(payload.get("reference")))):
            writeback.add_private_note(self.client, order_id=order_id, note=str(note))
        if payload.get("complete"):
            writeback.complete_order(self.client, order_id=order_id)
