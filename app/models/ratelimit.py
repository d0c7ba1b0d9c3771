"""Shared rate-limit windows: one row per limited scope, counted by app.services.ratelimit across workers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class RateLimitWindow(Base):
    __tablename__ = "rate_limit_windows"

    # "{provider}:{account}:{auth}:{endpoint}:{s|m}": one row per window kind, reset in place when a new window starts.
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)
