"""The delivery step: claim due outbox rows, send them through each store's ESP in batches, record every outcome."""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.logs import log_context
from app.models import EspConnection, OutboxItem
from app.models.outbox import OutboxState
from app.services.claims import backoff, claim_due
from app.services.counters import Tally
from app.services.esp_connections import current_connection
from integrations.esp.base import Esp, EspEvent, Profile, SendOutcome

log = logging.getLogger(__name__)

EspFactory = Callable[[EspConnection | None], Esp]
PAUSED_RECHECK = timedelta(hours=1)  # rows of a paused connection wait; reconnecting makes them due at once


def to_esp_event(item: OutboxItem) -> EspEvent:
    payload = item.payload
    return EspEvent(unique_id=item.key, metric=payload["metric"], time=item.occurred_at,
                    properties=payload["properties"], profile=Profile(**payload["profile"]), backfill=item.backfill)


def _record(item: OutboxItem, outcome: SendOutcome, *, now: datetime) -> str:
    """A refused event: failed for good, or due again later."""
    item.attempts += 1
    item.last_error = (outcome.error or "ESP did not accept the event")[:1000]
    if outcome.permanent:
        item.state = OutboxState.FAILED
        return "failed"
    delay = timedelta(seconds=outcome.retry_after) if outcome.retry_after else backoff(item.attempts)
    item.next_attempt_at = now + delay
    return "retry"


def _mark_sent(session: Session, ids: list[int], *, provider: str, now: datetime) -> int:
    """The common case in one statement, not one UPDATE per event."""
    if ids:
        session.execute(update(OutboxItem).where(OutboxItem.id.in_(ids)).values(
            state=OutboxState.SENT, sent_at=now, delivered_via=provider, last_error=None,
            attempts=OutboxItem.attempts + 1).execution_options(synchronize_session=False))
        session.expire_all()  # the rows in this session are stale now; reload them if anyone looks
    return len(ids)


def deliver_due(session: Session, *, esp_for: EspFactory, now: datetime, limit: int = 500,
                lease: timedelta = timedelta(minutes=5)) -> dict[str, int]:
    """One pass: returns counts of sent, retry, failed and held (paused connection) rows."""
    claimed = claim_due(session, model=OutboxItem, due_column=OutboxItem.next_attempt_at, now=now, limit=limit,
                        lease=lease, where=[OutboxItem.state == OutboxState.PENDING, OutboxItem.destination == "esp"])
    counts = {"sent": 0, "retry": 0, "failed": 0, "held": 0}
    by_store: dict[int, list[OutboxItem]] = defaultdict(list)
    for item in claimed:
        by_store[item.store_id].append(item)
    for store_id, items in by_store.items():
        with log_context(store=store_id):
            _deliver_store(session, store_id=store_id, items=items, esp_for=esp_for, now=now, counts=counts)
    return counts


def _deliver_store(session: Session, *, store_id: int, items: list[OutboxItem], esp_for: EspFactory, now: datetime,
                   counts: dict[str, int]) -> None:
    # Read per store, not once per pass: _mark_sent expires the whole session (so an up-front load would be re-read
    # anyway), and a merchant who reconnects mid-pass must not leave a later store holding a deleted row.
    connection = current_connection(session, store_id)
    provider = connection.provider if connection is not None else "console"
    tally = Tally()
    if connection is not None and connection.status == "paused":
        for item in items:
            item.next_attempt_at = now + PAUSED_RECHECK
            item.last_error = f"ESP connection paused: {connection.paused_reason or 'reconnect it'}"
        counts["held"] += len(items)
        tally.add("esp_deliveries_total", len(items), provider=provider, outcome="held")
        tally.flush_to(session)
        session.commit()
        return
    esp = esp_for(connection)
    for start in range(0, len(items), max(esp.max_batch, 1)):
        chunk = items[start:start + esp.max_batch]
        began = time.perf_counter()
        try:
            outcomes = {o.unique_id: o for o in esp.send(events=[to_esp_event(i) for i in chunk])}
        except Exception as exc:  # an adapter that raises still must not lose or drop the rows
            log.exception("ESP %s raised for store %s", provider, store_id)
            outcomes = {i.key: SendOutcome(unique_id=i.key, error=f"{type(exc).__name__}: {exc}") for i in chunk}
        tally.observe("esp_request_seconds", time.perf_counter() - began, provider=provider)
        accepted = []
        for item in chunk:
            outcome = outcomes.get(item.key) or SendOutcome(unique_id=item.key, error="ESP gave no answer for this event")
            if outcome.accepted:
                accepted.append(item.id)
                # From the row being written (the status change) to the ESP accepting it.
                tally.observe("esp_delivery_lag_seconds", (now - item.created_at).total_seconds(), provider=provider)
                continue
            result = _record(item, outcome, now=now)
            counts[result] += 1
            tally.add("esp_deliveries_total", provider=provider, outcome=result)
            if outcome.auth_failed and connection is not None:
                connection.status = "paused"
                connection.paused_reason = outcome.error or "the ESP rejected the credentials"
        session.flush()
        counts["sent"] += _mark_sent(session, accepted, provider=provider, now=now)
        if accepted:
            tally.add("esp_deliveries_total", len(accepted), provider=provider, outcome="sent")
        tally.flush_to(session)
        session.commit()
