"""Installing a Shopify shop: upsert the store by domain, keep its token encrypted, subscribe webhooks, queue a backfill."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ShopifySync, Store
from app.models.store import StoreStatus
from app.services.shopify_tokens import credentials_from
from integrations.stores.shopify.oauth import OfflineToken
from integrations.stores.shopify.subscriptions import WebhookSubscription, register_webhooks
from integrations.stores.shopify.webhooks import SUBSCRIBED_TOPICS

if TYPE_CHECKING:
    from app.runtime import Runtime

log = logging.getLogger(__name__)

# The minimum (keep in step with shopify.app.toml): orders and fulfillments to track parcels, write_fulfillments
# for the fulfillment events of the write-back.
SCOPES: tuple[str, ...] = ("read_orders", "read_fulfillments", "write_fulfillments", "read_returns")
WEBHOOK_PATH = "/webhooks/shopify"


def webhook_url(runtime: Runtime) -> str:
    return runtime.app_url + WEBHOOK_PATH


def install_store(session: Session, *, runtime: Runtime, shop: str, token: OfflineToken, now: datetime) -> Store:
    """Create the store or, on re-install, give the existing row the new token (never a second row)."""
    store = session.scalar(select(Store).where(Store.platform == "shopify", Store.domain == shop))
    if store is None:
        store = Store(platform="shopify", domain=shop, name=shop.split(".", 1)[0], settings={}, created_at=now)
        session.add(store)
    store.credentials_encrypted = runtime.vault.encrypt(credentials_from(token))
    store.status = StoreStatus.ACTIVE
    session.flush()
    sync = session.get(ShopifySync, store.id)
    if sync is None:
        sync = ShopifySync(store_id=store.id, created_at=now)
        session.add(sync)
    sync.backfill_pending, sync.next_run_at, sync.failures, sync.last_error = True, now, 0, None
    log.info("Shopify shop %s installed as store %s", shop, store.id)
    return store


def subscribe_webhooks(runtime: Runtime, *, store_id: int) -> list[WebhookSubscription]:
    """Create the subscriptions that are missing (idempotent: also the reconcile's check). No transaction held."""
    with runtime.db.session() as session:
        store = session.get(Store, store_id)
        if store is None or store.status != StoreStatus.ACTIVE:
            return []
        adapter = runtime.store_adapter(store)
    created = register_webhooks(adapter.graphql, callback_url=webhook_url(runtime),  # type: ignore[attr-defined]
                                topics=SUBSCRIBED_TOPICS)
    with runtime.db.session() as session:
        sync = session.get(ShopifySync, store_id)
        if sync is not None:
            sync.webhooks_checked_at = runtime.clock()
    return created


def after_install(runtime: Runtime, *, store_id: int) -> None:
    """Subscribe webhooks right away; if Shopify is unreachable now, the sync job's check retries it."""
    try:
        subscribe_webhooks(runtime, store_id=store_id)
    except Exception:
        log.exception("Shopify store %s: webhook subscription failed; the reconcile will retry", store_id)
