"""The inbox: store a webhook delivery first (deduplicated), then process stored deliveries in claimed batches."""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import dialect_insert
from app.logs import log_context
from app.models import InboxItem, Order, Shipment, Store
from app.models.inbox import InboxState
from app.models.store import StoreStatus
from app.services.aftership import SOURCE as AFTERSHIP_SOURCE, apply_aftership_delivery
from app.services.claims import backoff, claim_due
from app.services.fulfillments import merge_fulfillment
from app.services.orders import sync_order
from app.services.privacy import PRIVACY_HANDLERS
from app.services.shopify_returns import apply_return
from app.services.tracking import TrackingContext
from integrations.stores.base import StorePlatform, WebhookChange

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
MAX_TOPIC = 64  # the column's width; real topics are far shorter


def bounded_key(key: str) -> str:
    """A dedupe key that fits its column: long (sender-chosen) keys become a prefix and their hash."""
    return key if len(key) <= 200 else f"{key[:100]}#{hashlib.sha256(key.encode()).hexdigest()}"


def store_delivery(session: Session, *, source: str, topic: str, dedupe_key: str, body: bytes,
                   headers: dict[str, str] | None = None, store_id: int | None = None, now: datetime) -> bool:
    """Keep a delivery for later processing; False when the same delivery was stored before (a duplicate)."""
    dedupe_key, topic = bounded_key(dedupe_key), topic[:MAX_TOPIC]
    # ON CONFLICT DO NOTHING on the (source, dedupe_key) constraint: a duplicate, also one stored concurrently by
    # another request, inserts nothing and is not an error.
    stmt = (dialect_insert(session, InboxItem)
            .values(source=source, topic=topic, dedupe_key=dedupe_key, body=body, headers=headers or {},
                    store_id=store_id, received_at=now, next_attempt_at=now)
            .on_conflict_do_nothing(index_elements=["source", "dedupe_key"]))
    try:
        # The savepoint stays for other constraints (a store deleted meanwhile fails the foreign key): that delivery
        # is dropped like a duplicate, as before, instead of failing the caller's transaction.
        with session.begin_nested():
            return session.execute(stmt.returning(InboxItem.id)).first() is not None
    except IntegrityError:
        return False


def stop_store(session: Session, store: Store) -> None:
    """Uninstalled: no more polling or sending for this store, and its tokens are gone."""
    store.status = StoreStatus.UNINSTALLED
    store.credentials_encrypted = None
    session.execute(update(Shipment).where(Shipment.store_id == store.id).values(next_poll_at=None))


def apply_change(session: Session, *, store: Store, change: WebhookChange, now: datetime, ctx: TrackingContext,
                 adapter: StorePlatform | None = None) -> None:
    if change.kind == WebhookChange.KIND_ORDER_UPSERT and change.order is not None:
        sync_order(session, store=store, data=change.order, now=now, ctx=ctx)
    elif change.kind == WebhookChange.KIND_ORDER_UPSERT and change.fulfillment is not None:
        merge_fulfillment(session, store=store, change=change, now=now, ctx=ctx, adapter=adapter)
    elif change.kind == WebhookChange.KIND_ORDER_DELETED:
        session.execute(delete(Order).where(Order.store_id == store.id, Order.external_id == change.order_external_id))
    elif change.kind == WebhookChange.KIND_UNINSTALLED:
        stop_store(session, store)
    elif change.kind == WebhookChange.KIND_RETURN and adapter is not None:
        apply_return(session, store=store, change=change, now=now, ctx=ctx, adapter=adapter)
    elif change.kind in HANDLERS:
        HANDLERS[change.kind](session, store=store, change=change, now=now)


# Platform-specific kinds (privacy requests and the like) register their handlers here.
HANDLERS: dict[str, Callable[..., None]] = {**PRIVACY_HANDLERS}
# Deliveries from other services than the store platform, by inbox source.
SOURCE_HANDLERS: dict[str, Callable[..., None]] = {AFTERSHIP_SOURCE: apply_aftership_delivery}


def process_inbox(session: Session, *, adapter_for: Callable[[Store | None, str], StorePlatform], now: datetime,
                  ctx: TrackingContext, limit: int = 100, lease: timedelta = timedelta(minutes=5)) -> dict[str, int]:
    """One pass: claim due deliveries, apply each in its own transaction; returns counts by outcome."""
    claimed = claim_due(session, model=InboxItem, due_column=InboxItem.next_attempt_at, now=now, limit=limit,
                        lease=lease, where=[InboxItem.state == InboxState.PENDING])
    counts = {"done": 0, "failed": 0, "retry": 0}
    for item in claimed:
        with log_context(store=item.store_id, inbox_item=item.id):
            outcome = _process_one(session, item_id=item.id, adapter_for=adapter_for, now=now, ctx=ctx)
        counts[outcome] += 1
    return counts


def _process_one(session: Session, *, item_id: int, adapter_for: Callable[[Store | None, str], StorePlatform],
                 now: datetime, ctx: TrackingContext) -> str:
    item = session.get(InboxItem, item_id)
    assert item is not None
    store = session.get(Store, item.store_id) if item.store_id else None
    try:
        if store is None or store.status == StoreStatus.UNINSTALLED and item.topic != "shop/redact":
            outcome, error = InboxState.DONE, "store unknown or uninstalled: nothing to do"
        elif item.source in SOURCE_HANDLERS:  # not the store platform's webhook (a tracking aggregator's)
            SOURCE_HANDLERS[item.source](session, store=store, item=item, now=now, ctx=ctx)
            outcome, error = InboxState.DONE, None
        else:
            adapter = adapter_for(store, item.source)
            change = adapter.parse_webhook(topic=item.topic, body=item.body)
            apply_change(session, store=store, change=change, now=now, ctx=ctx, adapter=adapter)
            outcome, error = InboxState.DONE, None
        session.flush()
    except ValueError as exc:  # malformed: retrying cannot help; keep it for inspection
        session.rollback()
        item = session.get(InboxItem, item_id)
        assert item is not None
        outcome, error = InboxState.FAILED, str(exc)[:1000]
    except Exception as exc:  # a bug or a database hiccup: try again later, never lose the delivery
        session.rollback()
        log.exception("inbox item %s (%s) failed", item_id, item.topic if item else "?")
        item = session.get(InboxItem, item_id)
        assert item is not None
        item.attempts += 1
        item.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        if item.attempts >= MAX_ATTEMPTS:
            item.state = InboxState.FAILED
        else:
            item.next_attempt_at = now + backoff(item.attempts)
        session.commit()
        return "failed" if item.state == InboxState.FAILED else "retry"
    item.attempts += 1
    item.state = outcome
    item.last_error = error
    item.processed_at = now
    session.commit()
    return "done" if outcome == InboxState.DONE else "failed"


def store_delivery_kwargs(headers: Any) -> dict[str, str]:
    """Headers worth keeping with a delivery (never authorization material)."""
    keep = {}
    for name, value in dict(headers).items():
        lower = name.lower()
        if lower.startswith(("x-shopify-", "x-wc-", "content-type", "user-agent")) and "hmac" not in lower and "signature" not in lower:
            keep[name] = value
    return keep
