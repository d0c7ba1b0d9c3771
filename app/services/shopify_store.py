"""Builds the Shopify adapter for a store: shop domain, pinned API version, admin URL and a refreshing token getter."""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.models import Store
from app.services.shopify_tokens import TokenSource
from integrations.stores.shopify import ShopifyStore

if TYPE_CHECKING:
    from app.runtime import Runtime

PARSE_ONLY_SHOP = "unknown.myshopify.com"  # a delivery with no store is parsed, never sent anywhere


def shopify_adapter(runtime: Runtime, store: Store | None) -> ShopifyStore:
    config = runtime.config
    options = {"api_version": config["SHOPIFY_API_VERSION"],
               "admin_base_url_template": config["SHOPIFY_ADMIN_URL_TEMPLATE"],
               "timeout": float(config.get("SHOPIFY_TIMEOUT_SECONDS", 10.0))}
    if config.get("SHOPIFY_SLEEP") is not None:  # tests share a simulated clock with the fake's rate limiter
        options["sleep"] = config["SHOPIFY_SLEEP"]
    if store is None:
        return ShopifyStore(shop=PARSE_ONLY_SHOP, **options)
    token = TokenSource(db=runtime.db, vault=runtime.vault, config=config, store_id=store.id,
                        encrypted=store.credentials_encrypted)
    return ShopifyStore(shop=store.domain, access_token=token, **options)
