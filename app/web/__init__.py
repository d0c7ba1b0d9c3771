"""Web blueprints by feature; each request gets one short database session."""
from __future__ import annotations

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from app.runtime import Runtime


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = runtime().db.sessionmaker()
    return g.db_session


def read_body(limit: int) -> bytes | None:
    """The raw body, or None when it is over `limit` bytes: checked on the header and on what is actually read,
    since Content-Length may be absent (chunked) or lie."""
    if request.content_length is not None and request.content_length > limit:
        return None
    body = request.stream.read(limit + 1)
    return None if len(body) > limit else body


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def register_blueprints(app: Flask) -> None:
    from app.web.dashboard import bp as dashboard
    from app.web.esp import bp as esp
    from app.web.health import bp as health

    app.register_blueprint(dashboard)
    app.register_blueprint(esp)
    app.register_blueprint(health)
    from app.web.privacy import bp as privacy
    from app.web.shopify import bp as shopify
    from app.web.shopify_webhooks import bp as shopify_webhooks

    app.register_blueprint(privacy)
    app.register_blueprint(shopify)
    app.register_blueprint(shopify_webhooks)
    from app.web.accounts import bp as accounts, init_login
    from app.web.woocommerce import bp as woocommerce

    init_login(app)
    app.register_blueprint(accounts)
    app.register_blueprint(woocommerce)
    from app.web.carriers import bp as carriers

    app.register_blueprint(carriers)
    from app.web.analytics import bp as analytics
    from app.web.settings import bp as store_settings
    from app.web.tracking import bp as tracking

    app.register_blueprint(analytics)
    app.register_blueprint(store_settings)
    app.register_blueprint(tracking)
    from app.web.metrics import bp as metrics
    from app.web.security_headers import init_security_headers

    app.register_blueprint(metrics)
    init_security_headers(app)
    app.teardown_appcontext(_close_session)
