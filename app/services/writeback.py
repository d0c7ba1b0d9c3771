"""Write-back: each shipment status change on a Shopify store becomes a fulfillment event, sent through the outbox."""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import OutboxItem, Shipment, Store
from app.models.outbox import OutboxState
from app.models.store import StoreStatus
from app.services import woocommerce_writeback
from app.services.claims import backoff, claim_due
from app.services.outbox import insert_outbox_row
from integrations.errors import PermanentError, RetryableError
from integrations.status import ShipmentStatus
from integrations.stores.shopify.values import parse_datetime
from integrations.stores.shopify.writeback import create_fulfillment_event, fulfillment_event_status

if TYPE_CHECKING:  # tracking imports this module
    from app.services.tracking import TrackingContext

log = logging.getLogger(__name__)

DESTINATION = "writeback"
SETTING = "shopify_writeback"  # per store; on unless set to false


def writeback_enabled(store: Store) -> bool:
    if store.platform == woocommerce_writeback.PLATFORM:
        return woocommerce_writeback.writeback_enabled(store)
    return store.platform == "shopify" and store.setting(SETTING, True) is not False


def enqueue_writeback(session: Session, *, store: Store, shipment: Shipment, previous: tuple[str, str | None],
                      now: datetime, ctx: TrackingContext) -> OutboxItem | None:
    """Called by the state machine after a result was applied: one row per change of the Shopify-visible status."""
    if store.platform == woocommerce_writeback.PLATFORM:  # order notes; `ctx` gives links and the backfill window
        return woocommerce_writeback.enqueue(session, store=store, shipment=shipment, previous=previous, now=now,
                                             app_url=ctx.app_url, backfill_hours=ctx.backfill_window_hours)
    if not writeback_enabled(store) or shipment.is_return:
        return None
    status = fulfillment_event_status(ShipmentStatus(shipment.status), substatus=shipment.substatus)
    before = fulfillment_event_status(ShipmentStatus(previous[0]), substatus=previous[1])
    if status is None or status == before:
        return None
    happened = shipment.last_event_at or now
    key = f"{store.id}:{shipment.id}:{status}:{happened.isoformat()}@{DESTINATION}"
    eta = (shipment.estimated_delivery or {}).get("earliest")
    payload: dict[str, Any] = {"fulfillment_id": shipment.fulfillment_external_id, "status": status,
                               "happened_at": happened.isoformat(), "estimated_delivery_at": eta,
                               "message": shipment.last_event_description, "city": shipment.last_event_location}
    # The unique key makes a re-applied result a no-op (None).
    return insert_outbox_row(session, key=key, store_id=store.id, order_id=shipment.order_id, shipment_id=shipment.id,
                             trigger=f"fulfillment event {status}", destination=DESTINATION, occurred_at=happened,
                             payload=payload, state=OutboxState.PENDING, next_attempt_at=now, created_at=now)


def _send(adapter: Any, item: OutboxItem) -> None:
    payload = item.payload
    platform_send = getattr(adapter, "send_writeback", None)  # platforms other than Shopify bring their own
    if platform_send is not None:
        platform_send(payload=payload, retry=item.attempts > 1)
        return
    eta = payload.get("estimated_delivery_at")
    create_fulfillment_event(adapter.graphql, fulfillment_id=payload["fulfillment_id"], status=payload["status"],
                             happened_at=parse_datetime(payload["happened_at"]),
                             estimated_delivery_at=parse_datetime(eta) if eta else None,
                             message=payload.get("message"), city=payload.get("city"))


def deliver_writeback_due(session: Session, *, adapter_for: Callable[[Store], Any], now: datetime, limit: int = 100,
                          lease: timedelta = timedelta(minutes=5)) -> dict[str, int]:
    """One pass: claim due write-back rows and send each once; retried with backoff like ESP events."""
    claimed = claim_due(session, model=OutboxItem, due_column=OutboxItem.next_attempt_at, now=now, limit=limit,
                        lease=lease, where=[OutboxItem.state == OutboxState.PENDING,
                                            OutboxItem.destination == DESTINATION])
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    by_store: dict[int, list[OutboxItem]] = defaultdict(list)
    for item in claimed:
        by_store[item.store_id].append(item)
    stores = {s.id: s for s in session.scalars(select(Store).where(Store.id.in_(list(by_store))))}
    session.commit()  # no transaction is held while Shopify answers
    for store_id, items in by_store.items():
        store = stores.get(store_id)
        if store is None or store.status != StoreStatus.ACTIVE or not writeback_enabled(store):
            for item in items:
                item.state, item.last_error = OutboxState.SKIPPED, "write-back off or store not active"
            counts["skipped"] += len(items)
            session.commit()
            continue
        adapter = adapter_for(store)
        for item in items:
            counts[_deliver_one(adapter, item, now=now)] += 1
            session.commit()
    return counts


def _deliver_one(adapter: Any, item: OutboxItem, *, now: datetime) -> str:
    item.attempts += 1
    try:
        _send(adapter, item)
    except RetryableError as exc:
        item.last_error = str(exc)[:1000]
        item.next_attempt_at = now + (timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(item.attempts))
        return "retry"
    except PermanentError as exc:
        item.last_error = str(exc)[:1000]
        if exc.code in ("auth", "token_race"):  # a token problem can heal (re-install, refresh): keep trying slowly
            item.next_attempt_at = now + backoff(item.attempts, base=300.0)
            return "retry"
        item.state = OutboxState.FAILED
        return "failed"
    except Exception as exc:  # an adapter bug must not lose the row
        log.exception("write-back %s failed", item.key)
        item.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        item.next_attempt_at = now + backoff(item.attempts)
        return "retry"
    item.state, item.sent_at, item.delivered_via, item.last_error = OutboxState.SENT, now, getattr(adapter, "platform", "shopify"), None
    return "sent"
