"""Backfill on install and hourly reconcile for Shopify stores, paged, committing per page (no long transactions)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Iterator, TypeVar

from sqlalchemy.orm import Session

from app.models import ShopifySync, Store
from app.models.store import StoreStatus
from app.services.shopify_install import subscribe_webhooks
from app.services.store_sync import sync_due_stores, write_order_pages
from integrations.stores.shopify.sync import DEFAULT_PAGE_SIZE

if TYPE_CHECKING:
    from app.runtime import Runtime

log = logging.getLogger(__name__)

BACKFILL_DAYS = 60  # what read_orders covers; older orders need read_all_orders
RECONCILE_EVERY = timedelta(hours=1)
OVERLAP = timedelta(minutes=10)  # re-read a little: clocks differ and an update may land mid-run
T = TypeVar("T")


def _pages(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(islice(items, size)):
        yield batch


def sync_store(runtime: Runtime, *, store_id: int, now: datetime) -> dict[str, int]:
    """One backfill or reconcile for a store. The remote paging runs outside any transaction; each page of
    orders is written and committed on its own, so an interrupted run keeps what it did."""
    with runtime.db.session() as session:
        store = session.get(Store, store_id)
        sync = session.get(ShopifySync, store_id)
        if store is None or sync is None or store.status != StoreStatus.ACTIVE:
            return {"orders": 0}
        backfill = sync.backfill_pending
        since = store.last_synced_at
        adapter = runtime.store_adapter(store)
    if backfill or since is None:
        orders = adapter.fetch_orders(created_since=now - timedelta(days=BACKFILL_DAYS))  # type: ignore[call-arg]
    else:
        orders = adapter.fetch_orders(updated_since=since - OVERLAP)
    count, finished = write_order_pages(runtime, store_id=store_id, pages=_pages(iter(orders), DEFAULT_PAGE_SIZE),
                                        now=now)
    if not finished:
        return {"orders": count}  # uninstalled mid-run: stop quietly
    subscribe_webhooks(runtime, store_id=store_id)
    with runtime.db.session() as session:
        store = session.get(Store, store_id)
        sync = session.get(ShopifySync, store_id)
        if store is not None and sync is not None:
            store.last_synced_at = now
            sync.backfill_pending = False
            sync.last_run_at, sync.orders_synced, sync.failures, sync.last_error = now, count, 0, None
            sync.next_run_at = now + RECONCILE_EVERY
    log.info("Shopify store %s: %s synced %d orders", store_id, "backfill" if backfill else "reconcile", count)
    return {"orders": count}


def sync_due(session: Session, runtime: Runtime, *, now: datetime, limit: int = 10,
             lease: timedelta = timedelta(minutes=30)) -> dict[str, int]:
    """The job: every Shopify store whose backfill or reconcile is due."""
    return sync_due_stores(session, runtime, model=ShopifySync, sync_store=sync_store, platform="Shopify",
                           permanent_wait=RECONCILE_EVERY, count_keys=("orders",), now=now, limit=limit, lease=lease)
