"""WooCommerce bookkeeping: one-time WC Auth grants in flight, and each store's claimable reconcile schedule."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class WooAuthGrant(Base):
    """A WC Auth key request: `nonce` is the `user_id` WooCommerce echoes back; valid once, until it expires."""

    __tablename__ = "woocommerce_auth_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    site_url: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)  # why the keys were refused, shown on the return page
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WooSync(Base):
    """One row per WooCommerce store; the reconcile job claims due rows (lease, SKIP LOCKED)."""

    __tablename__ = "woocommerce_sync"

    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    backfill_pending: Mapped[bool] = mapped_column(Boolean, default=True)  # set on (re)connect
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    synced_through: Mapped[datetime | None] = mapped_column(UTCDateTime)  # modified_after for the next run
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    orders_synced: Mapped[int] = mapped_column(Integer, default=0)  # by the last run
    webhooks_reenabled: Mapped[int] = mapped_column(Integer, default=0)  # in total
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
