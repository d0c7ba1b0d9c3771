"""Orders as the store knows them, with the customer fields events are addressed to."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow


def _placed_at(context: Any) -> datetime | None:
    """A new order is first checked at the time it was placed; the check itself works out the due date."""
    return context.get_current_parameters().get("placed_at")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store_id", "external_id"),
        Index("ix_orders_store_number", "store_id", "number"),
        Index("ix_orders_store_email", "store_id", "email"),
        # The fulfillment-delay check reads only orders still waiting to ship: O(batch), not O(table).
        Index("ix_orders_fulfillment_check", "fulfillment_check_at", postgresql_where=text("fulfillment_check_at IS NOT NULL"),
              sqlite_where=text("fulfillment_check_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    remote_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the store's updated_at, to drop stale webhooks
    customer_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(255))
    last_name: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    line_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    order_url: Mapped[str | None] = mapped_column(Text)
    shipping_country: Mapped[str | None] = mapped_column(String(2))
    shipping_postcode: Mapped[str | None] = mapped_column(String(32))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    # When to next ask "still unfulfilled?" (Fulfillment Delayed); None once shipped, cancelled or announced.
    fulfillment_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=_placed_at)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    shipments: Mapped[list["Shipment"]] = relationship(back_populates="order", order_by="Shipment.id")  # noqa: F821

    @property
    def customer_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)
