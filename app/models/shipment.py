"""Shipments (one per tracking number of a fulfillment) and the carrier events seen for them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow
from integrations.status import ShipmentStatus


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("store_id", "fulfillment_external_id", "tracking_number"),
        # The poller's "what is due" query reads only this partial index: O(batch), not O(table).
        Index("ix_shipments_due", "next_poll_at", postgresql_where=text("next_poll_at IS NOT NULL"),
              sqlite_where=text("next_poll_at IS NOT NULL")),
        Index("ix_shipments_store_created", "store_id", "created_at"),
        Index("ix_shipments_tracking_number", "tracking_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    fulfillment_external_id: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str] = mapped_column(String(64))
    carrier_code: Mapped[str | None] = mapped_column(String(32))  # None: no adapter for it (yet)
    carrier_name: Mapped[str | None] = mapped_column(String(255))  # what the store called it
    service: Mapped[str | None] = mapped_column(String(255))
    carrier_tracking_url: Mapped[str | None] = mapped_column(Text)
    is_return: Mapped[bool] = mapped_column(Boolean, default=False)
    line_item_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(32), default=ShipmentStatus.LABEL_CREATED.value)  # ShipmentStatus value
    substatus: Mapped[str | None] = mapped_column(String(64))
    estimated_delivery: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"earliest": iso, "latest": iso|None}
    delivered_to: Mapped[str | None] = mapped_column(String(32))
    pickup_location: Mapped[str | None] = mapped_column(Text)
    pickup_deadline: Mapped[str | None] = mapped_column(String(40))
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_event_description: Mapped[str | None] = mapped_column(Text)
    last_event_location: Mapped[str | None] = mapped_column(Text)
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: not polled (terminal or given up)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    poll_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    tracking_stopped_reason: Mapped[str | None] = mapped_column(String(64))
    delay_episode: Mapped[int] = mapped_column(Integer, default=0)  # count of Shipment Delayed episodes opened
    delay_open: Mapped[bool] = mapped_column(Boolean, default=False)
    raw_payload: Mapped[Any] = mapped_column(JSON, nullable=True)  # the carrier's last answer for this number, for re-mapping
    tracking_token: Mapped[str] = mapped_column(String(64), unique=True)  # the shopper's tracking page link
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order: Mapped["Order"] = relationship(back_populates="shipments")  # noqa: F821
    events: Mapped[list[TrackingEventRecord]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="TrackingEventRecord.occurred_at.desc()")

    @property
    def status_enum(self) -> ShipmentStatus:
        return ShipmentStatus(self.status)


class TrackingEventRecord(Base):
    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("shipment_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # hash of time+code+text: a re-polled event is not stored twice
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    utc_offset_minutes: Mapped[int | None] = mapped_column(Integer)  # the carrier's local offset, to show local time
    status: Mapped[str] = mapped_column(String(32))
    substatus: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    shipment: Mapped[Shipment] = relationship(back_populates="events")

    @property
    def local_time(self) -> datetime:
        if self.utc_offset_minutes is None:
            return self.occurred_at
        return self.occurred_at.astimezone(timezone(timedelta(minutes=self.utc_offset_minutes)))
