"""What the Shopify and WooCommerce syncs share: claiming the stores that are due, writing order pages one
transaction each, and rescheduling a store whose run failed."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from sqlalchemy.orm import Session

from app.models import Store
from app.models.store import StoreStatus
from app.services.claims import claim_due, reschedule_after_failure
from app.services.orders import sync_order
from integrations.errors import IntegrationError

if TYPE_CHECKING:
    from app.runtime import Runtime

log = logging.getLogger(__name__)

SyncOne = Callable[..., dict[str, int]]


def write_order_pages(runtime: Runtime, *, store_id: int, pages: Iterable[Sequence[dict[str, Any]]],
                      now: datetime) -> tuple[int, bool]:
    """Write each page of orders in a transaction of its own, so an interrupted run keeps what it did.
    Returns (orders written, finished); not finished means the store was disconnected mid-run."""
    count = 0
    for page in pages:
        with runtime.db.session() as session:
            store = session.get(Store, store_id)
            if store is None or store.status != StoreStatus.ACTIVE:
                return count, False
            for data in page:
                sync_order(session, store=store, data=data, now=now, ctx=runtime.tracking_context)
        count += len(page)
    return count, True


def sync_due_stores(session: Session, runtime: Runtime, *, model: Any, sync_store: SyncOne, platform: str,
                    permanent_wait: timedelta, count_keys: Sequence[str], now: datetime, limit: int,
                    lease: timedelta) -> dict[str, int]:
    """The sync job: claim stores whose backfill or reconcile is due (leased, so workers never sync one store
    twice at once), run each, and reschedule the ones that failed."""
    claimed = [row.store_id for row in claim_due(session, model=model, due_column=model.next_run_at,
                                                 now=now, limit=limit, lease=lease)]
    session.close()
    counts = {"stores": 0, **{key: 0 for key in count_keys}, "errors": 0}
    for store_id in claimed:
        try:
            result = sync_store(runtime, store_id=store_id, now=now)
        except IntegrationError as exc:
            log.warning("%s store %s: sync failed: %s", platform, store_id, exc)
            with runtime.db.session() as failed:
                row = failed.get(model, store_id)
                if row is not None:
                    reschedule_after_failure(row, error=exc, now=now, permanent_wait=permanent_wait)
            counts["errors"] += 1
            continue
        counts["stores"] += 1
        for key in count_keys:
            counts[key] += result[key]
    return counts
