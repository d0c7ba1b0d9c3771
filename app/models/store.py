"""Stores (a Shopify shop, a WooCommerce site, the sandbox) and the connections they own."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow


class StoreStatus:
    ACTIVE = "active"
    PAUSED = "paused"
    UNINSTALLED = "uninstalled"


class Store(Base):
    __tablename__ = "stores"
    __table_args__ = (UniqueConstraint("platform", "domain"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))  # a key of integrations.stores.STORES
    domain: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default=StoreStatus.ACTIVE)
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    # Per-store choices: disabled triggers, backfill window, delay thresholds, write-back switches, branding.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    country: Mapped[str | None] = mapped_column(String(2))  # where parcels ship from, for holidays and transit stats
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    esp_connections: Mapped[list[EspConnection]] = relationship(back_populates="store", cascade="all, delete-orphan")

    def setting(self, key: str, default: Any) -> Any:
        return (self.settings or {}).get(key, default)


class EspConnection(Base):
    __tablename__ = "esp_connections"
    __table_args__ = (UniqueConstraint("store_id", "provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))  # a key of integrations.esp.ESPS
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    account_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default="active")  # active | paused
    paused_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    store: Mapped[Store] = relationship(back_populates="esp_connections")


class CarrierAccount(Base):
    """A merchant's own credentials for one carrier API (encrypted)."""

    __tablename__ = "carrier_accounts"
    __table_args__ = (UniqueConstraint("store_id", "carrier_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    carrier_code: Mapped[str] = mapped_column(String(32))
    credentials_encrypted: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
