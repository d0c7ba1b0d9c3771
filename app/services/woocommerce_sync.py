"""WooCommerce backfill on connect and periodic reconcile: orders modified since the last run, page by page,
each page committed on its own; and the webhook health check (WooCommerce disables failing webhooks)."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from app.models import Store, WooSync
from app.models.store import StoreStatus
from app.services.store_sync import sync_due_stores, write_order_pages
from app.services.woocommerce_connect import WEBHOOK_PATH
from integrations.stores.woocommerce import webhooks

if TYPE_CHECKING:
    from app.runtime import Runtime

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)  # re-read a little: the site's clock differs and an update may land mid-run


def reconcile_every(runtime: Runtime) -> timedelta:
    return timedelta(seconds=float(runtime.config.get("WOOCOMMERCE_RECONCILE_SECONDS", 900)))


def sync_store(runtime: Runtime, *, store_id: int, now: datetime) -> dict[str, int]:
    """One backfill or reconcile. The remote paging runs outside any transaction; each page is written and
    committed on its own, and the cursor only moves once every page is in (a broken run is simply redone)."""
    with runtime.db.session() as session:
        store = session.get(Store, store_id)
        sync = session.get(WooSync, store_id)
        if store is None or sync is None or store.status != StoreStatus.ACTIVE:
            return {"orders": 0, "reenabled": 0}
        backfill = sync.backfill_pending or sync.synced_through is None
        since = now - timedelta(days=int(runtime.config.get("WOOCOMMERCE_BACKFILL_DAYS", 60))) if backfill \
            else sync.synced_through - OVERLAP  # type: ignore[operator]
        credentials = runtime.vault.decrypt(store.credentials_encrypted) or {}
        adapter = runtime.store_adapter(store)
    started = runtime.clock()
    count, finished = write_order_pages(runtime, store_id=store_id, now=now,
                                        pages=adapter.order_pages(updated_since=since))  # type: ignore[attr-defined]
    if not finished:
        return {"orders": count, "reenabled": 0}  # disconnected mid-run: stop quietly
    report = webhooks.ensure_webhooks(adapter.client, delivery_url=f"{runtime.app_url}{WEBHOOK_PATH}",  # type: ignore[attr-defined]
                                      secret=credentials.get("webhook_secret") or "")
    with runtime.db.session() as session:
        store = session.get(Store, store_id)
        sync = session.get(WooSync, store_id)
        if store is not None and sync is not None:
            store.last_synced_at = now
            sync.synced_through = min(started, now)
            sync.backfill_pending = False
            sync.last_run_at, sync.orders_synced, sync.failures, sync.last_error = now, count, 0, None
            sync.webhooks_reenabled += len(report.reenabled) + len(report.created)
            sync.next_run_at = now + reconcile_every(runtime)
    log.info("WooCommerce store %s: %s synced %d orders; webhooks re-enabled %s, created %s", store_id,
             "backfill" if backfill else "reconcile", count, list(report.reenabled), list(report.created))
    return {"orders": count, "reenabled": len(report.reenabled) + len(report.created)}


def sync_due(session: Session, runtime: Runtime, *, now: datetime, limit: int = 10,
             lease: timedelta = timedelta(minutes=30)) -> dict[str, int]:
    """The job: every WooCommerce store whose backfill or reconcile is due."""
    return sync_due_stores(session, runtime, model=WooSync, sync_store=sync_store, platform="WooCommerce",
                           permanent_wait=timedelta(hours=1), count_keys=("orders", "reenabled"), now=now,
                           limit=limit, lease=lease)
