"""Per-store sync bookkeeping for Shopify: a claimable row that says when the next backfill or reconcile is due."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class ShopifySync(Base):
    """One row per Shopify store; the sync job claims due rows like any other work (lease, SKIP LOCKED)."""

    __tablename__ = "shopify_sync"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    backfill_pending: Mapped[bool] = mapped_column(Boolean, default=True)  # set on (re-)install
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    orders_synced: Mapped[int] = mapped_column(Integer, default=0)  # by the last run
    webhooks_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
