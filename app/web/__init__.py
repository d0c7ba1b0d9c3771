"""Web blueprints by feature; each request gets one short database session."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from app.runtime import Runtime


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = runtime().db.sessionmaker()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def register_blueprints(app: Flask) -> None:
    from app.web.dashboard import bp as dashboard
    from app.web.health import bp as health

    app.register_blueprint(dashboard)
    app.register_blueprint(health)
    app.teardown_appcontext(_close_session)
