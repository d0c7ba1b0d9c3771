"""Shared benchmark plumbing: a throwaway PostgreSQL schema migrated with the real migration, and an app on it."""
from __future__ import annotations

import os
import statistics
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from app import create_app
from app.cli import upgrade_database

BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://127.0.0.1:5432/test")


@contextmanager
def bench_app(**config: Any) -> Iterator[Any]:
    """An app on its own PostgreSQL schema, dropped afterwards; nothing is left behind."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(BENCH_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    options = {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_size": 40}
    try:
        engine = create_engine(BENCH_DATABASE_URL, **options)
        with engine.begin() as conn:
            upgrade_database(BENCH_DATABASE_URL, conn)
        engine.dispose()
        app = create_app({"DATABASE_URL": BENCH_DATABASE_URL, "ENGINE_OPTIONS": options, "SECRET_KEY": "bench",
                          "ENCRYPTION_KEY": Fernet.generate_key().decode(), "LOG_LEVEL": "WARNING",
                          "APP_URL": "https://bench.example", **config})
        try:
            yield app
        finally:
            app.extensions["runtime"].db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)
