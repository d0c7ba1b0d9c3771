"""The outbox: write one row per (shipment, trigger) in the caller's transaction; the delivery step sends it later."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.db import dialect_insert
from app.models import Order, OutboxItem, Shipment, Store
from app.models.outbox import OutboxState
from app.services.catalog import trigger_enabled
from app.services.event_payload import build_payload

log = logging.getLogger(__name__)


def outbox_key(*, store: Store, trigger: str, shipment: Shipment | None = None, order: Order | None = None,
               episode: int | None = None) -> str:
    subject = str(shipment.id) if shipment is not None else f"order-{order.id}"  # type: ignore[union-attr]
    key = f"{store.id}:{subject}:{trigger}"
    return f"{key}:{episode}" if episode else key


def is_stale(occurred_at: datetime, *, now: datetime, store: Store, default_hours: int) -> bool:
    """News older than the store's backfill window goes on the timeline without firing flows."""
    window = timedelta(hours=int(store.setting("backfill_window_hours", default_hours)))
    return now - occurred_at > window


def insert_outbox_row(session: Session, **values: Any) -> OutboxItem | None:
    """Insert one outbox row unless its key exists; returns the new row, or None when it was already there.

    ON CONFLICT DO NOTHING: a key that exists (a repeat, or another worker's concurrent insert) is not an error,
    and the common case costs one statement, without the savepoint an IntegrityError fallback would need."""
    stmt = dialect_insert(session, OutboxItem).values(**values).on_conflict_do_nothing(index_elements=["key"])
    item = session.scalars(stmt.returning(OutboxItem)).first()
    if item is None:
        log.debug("outbox key %s exists already", values["key"])
    return item


def enqueue(session: Session, *, store: Store, order: Order, trigger: str, occurred_at: datetime, now: datetime,
            app_url: str, shipment: Shipment | None = None, episode: int | None = None, backfill: bool = False,
            extra: dict[str, Any] | None = None) -> OutboxItem | None:
    """Insert the ESP row unless its key exists; returns the new row, or None when it was already there."""
    key = outbox_key(store=store, trigger=trigger, shipment=shipment, order=order, episode=episode)
    payload = build_payload(metric=trigger, unique_id=key, occurred_at=occurred_at, backfill=backfill, store=store,
                            order=order, shipment=shipment, app_url=app_url, extra=extra)
    enabled = trigger_enabled(store.settings, trigger)
    return insert_outbox_row(
        session, key=key, store_id=store.id, order_id=order.id, shipment_id=shipment.id if shipment else None,
        trigger=trigger, destination="esp", occurred_at=occurred_at, backfill=backfill, payload=payload,
        state=OutboxState.PENDING if enabled else OutboxState.SKIPPED, attempts=0, next_attempt_at=now, created_at=now,
        last_error=None if enabled else "trigger switched off for this store",
    )


def replay(session: Session, *, item_id: int, now: datetime) -> OutboxItem:
    """Make a failed (or skipped) row due again; a sent row is never resent."""
    item = session.get(OutboxItem, item_id)
    if item is None:
        raise LookupError(f"outbox row {item_id} does not exist")
    if item.state == OutboxState.SENT:
        raise ValueError(f"outbox row {item_id} was already sent")
    item.state = OutboxState.PENDING
    item.next_attempt_at = now
    item.last_error = None
    return item
