"""Store platforms by name (explicit registry, no import-time side effects)."""
from __future__ import annotations

from integrations.stores.sandbox import SandboxStore
from integrations.stores.shopify import ShopifyStore
from integrations.stores.woocommerce import WooCommerceStore

STORES: dict[str, type] = {"sandbox": SandboxStore, "shopify": ShopifyStore, "woocommerce": WooCommerceStore}
