"""Customer data exports produced for privacy requests (Shopify's customers/data_request), shown to the merchant."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class DataExport(Base):
    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_store_created", "store_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    customer_id: Mapped[str | None] = mapped_column(String(64))
    customer_email: Mapped[str | None] = mapped_column(String(320))
    request_id: Mapped[str | None] = mapped_column(String(64))  # the platform's data request id, if any
    orders_count: Mapped[int] = mapped_column(default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # everything we hold about the customer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
