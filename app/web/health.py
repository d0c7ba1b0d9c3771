"""Liveness (/healthz: the process answers) and readiness (/readyz: database reachable, schema at the migrations' head)."""
from __future__ import annotations

import logging
from functools import lru_cache

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.web import db_session

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    db_session().execute(text("SELECT 1"))
    return jsonify(status="ok")


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    """The revisions the code expects (read once: they only change with a deploy)."""
    from alembic.script import ScriptDirectory

    from app.cli import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


@bp.get("/readyz")
def readyz():
    """503 until the database answers and `db upgrade` has run: a load balancer sends no traffic before that."""
    try:
        current = set(db_session().scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError as exc:
        db_session().rollback()
        log.warning("not ready: database unavailable (%s)", type(exc).__name__)
        return jsonify(status="unavailable", database="unreachable or not migrated"), 503
    expected = migration_heads()
    if current != expected:
        return jsonify(status="unavailable", database="migrations pending", current=sorted(current),
                       expected=sorted(expected)), 503
    return jsonify(status="ok", database="ok", revision=sorted(current))
