"""Claimed work: select due rows in a small batch, skip rows other workers hold, and lease them for a while."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Protocol, Sequence, TypeVar

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.db import for_claim
from integrations.errors import PermanentError, RetryableError

Row = TypeVar("Row")


def claim_due(session: Session, *, model: type[Row], due_column: InstrumentedAttribute[Any], now: datetime,
              limit: int, lease: timedelta, where: Sequence[ColumnElement[bool]] = ()) -> list[Row]:
    """Claim up to `limit` due rows and push their due time `lease` ahead, then commit.

    The lease is what makes a crash harmless: a worker that dies mid-batch never finishes its rows, so they
    simply become due again when the lease runs out. `FOR UPDATE SKIP LOCKED` makes concurrent claimers
    take disjoint batches on PostgreSQL; on SQLite one process runs every step.
    """
    primary_key = model.__mapper__.primary_key[0]  # type: ignore[attr-defined]
    due = for_claim(select(primary_key).where(due_column <= now, *where).order_by(due_column).limit(limit))
    # One statement: pick, lock and lease the batch, and hand the rows back.
    stmt = (update(model).where(primary_key.in_(due.scalar_subquery())).values({due_column.key: now + lease})
            .returning(model).execution_options(populate_existing=True, synchronize_session=False))
    rows = list(session.scalars(stmt))
    session.commit()
    return rows


def backoff(attempts: int, *, base: float = 30.0, cap: float = 3600.0, jitter: float = 0.2) -> timedelta:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min ... capped at an hour."""
    seconds = min(base * (2 ** max(attempts - 1, 0)), cap)
    return timedelta(seconds=seconds * (1 + random.uniform(-jitter, jitter)))


class ScheduledRow(Protocol):
    """A per-store schedule row (backfill / reconcile) that records its failures."""

    failures: int
    last_error: str | None
    next_run_at: datetime


def reschedule_after_failure(row: ScheduledRow, *, error: Exception, now: datetime, permanent_wait: timedelta) -> None:
    """A periodic per-store job failed: record why and when to try again (Retry-After, backoff, or a long wait)."""
    row.failures += 1
    row.last_error = str(error)[:1000]
    if isinstance(error, RetryableError) and error.retry_after:
        row.next_run_at = now + timedelta(seconds=error.retry_after)
    elif isinstance(error, PermanentError):
        row.next_run_at = now + permanent_wait  # e.g. revoked credentials: try again later, not in a loop
    else:
        row.next_run_at = now + backoff(row.failures, base=60.0)
