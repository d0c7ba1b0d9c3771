"""Shared fixtures: one migrated database per run (SQLite, or PostgreSQL with TEST_DATABASE=postgresql), an app per test."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from app import create_app
from app.cli import upgrade_database
from app.db import Base

TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://127.0.0.1:5432/test")
SHARED = Path(__file__).resolve().parents[2] / "shared"


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {TEST_DATABASE}"


class FakeClock:
    """A clock the test moves by hand, so time-based behaviour is tested without sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def database_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A freshly migrated database (by the real Alembic migration), removed at the end of the run."""
    if TEST_DATABASE == "postgresql":
        schema = f"test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        options = {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_size": 20}
        engine = create_engine(POSTGRES_URL, **options)
        with engine.begin() as conn:
            upgrade_database(POSTGRES_URL, conn)
        engine.dispose()
        try:
            yield {"DATABASE_URL": POSTGRES_URL, "ENGINE_OPTIONS": options, "schema": schema}
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    else:
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite:///{path}"
        engine = create_engine(url)
        with engine.begin() as conn:
            upgrade_database(url, conn)
        engine.dispose()
        yield {"DATABASE_URL": url, "ENGINE_OPTIONS": None}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def encryption_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def app_config(database_target: dict, tmp_path: Path, clock: FakeClock, encryption_key: str) -> dict:
    return {
        "DATABASE_URL": database_target["DATABASE_URL"], "ENGINE_OPTIONS": database_target["ENGINE_OPTIONS"],
        "INSTANCE_DIR": str(tmp_path / "instance"), "ENCRYPTION_KEY": encryption_key, "SECRET_KEY": "test-secret",
        "APP_URL": "https://app.example.test", "TESTING": True, "CLOCK": clock, "SANDBOX_STEP_SECONDS": 60,
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def app(app_config: dict):
    application = create_app(app_config)
    yield application
    runtime = application.extensions["runtime"]
    with runtime.db.engine.begin() as conn:  # leave nothing behind for the next test
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    runtime.db.dispose()


@pytest.fixture
def runtime(app):
    return app.extensions["runtime"]


@pytest.fixture
def session(runtime):
    s = runtime.db.sessionmaker()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def postgres_only() -> None:
    if TEST_DATABASE != "postgresql":
        pytest.skip("needs PostgreSQL (run with TEST_DATABASE=postgresql)")
