"""Claimed work: select due rows in a small batch, skip rows other workers hold, and lease them for a while."""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Sequence, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.db import for_claim

Row = TypeVar("Row")


def claim_due(session: Session, *, model: type[Row], due_column: InstrumentedAttribute[Any], now: datetime,
              limit: int, lease: timedelta, where: Sequence[ColumnElement[bool]] = ()) -> list[Row]:
    """Claim up to `limit` due rows and push their due time `lease` ahead, then commit.

    The lease is what makes a crash harmless: a worker that dies mid-batch never finishes its rows, so they
    simply become due again when the lease runs out. `FOR UPDATE SKIP LOCKED` makes concurrent claimers
    take disjoint batches on PostgreSQL; on SQLite one process runs every step.
    """
    stmt = for_claim(select(model).where(due_column <= now, *where).order_by(due_column).limit(limit))
    rows = list(session.scalars(stmt))
    for row in rows:
        setattr(row, due_column.key, now + lease)
    session.commit()
    return rows


def backoff(attempts: int, *, base: float = 30.0, cap: float = 3600.0, jitter: float = 0.2) -> timedelta:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min ... capped at an hour."""
    seconds = min(base * (2 ** max(attempts - 1, 0)), cap)
    return timedelta(seconds=seconds * (1 + random.uniform(-jitter, jitter)))
