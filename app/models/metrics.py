"""Operational counters (polls, ESP deliveries) kept in the database, so every worker process adds to the same ones."""
from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class MetricCounter(Base):
    __tablename__ = "metric_counters"

    # e.g. "polls_total" with labels "carrier=dhl,outcome=ok": one row per label set, only ever incremented.
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    labels: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[float] = mapped_column(Float, default=0.0)
