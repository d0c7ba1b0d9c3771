"""POST /webhooks/shopify: verify, store in the inbox, answer 200 fast; every topic, routed later by X-Shopify-Topic."""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time

from flask import Blueprint, Response, current_app, request
from sqlalchemy import create_engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.models import InboxItem, Store
from app.models.inbox import InboxState
from app.services.inbox import MAX_TOPIC, bounded_key, store_delivery_kwargs
from app.services.inbox_writer import InboxWriter
from app.web import read_body, runtime
from app.web.shopify import app_secrets
from integrations.stores.shopify.webhooks import read_delivery_headers, verify_webhook_hmac

bp = Blueprint("shopify_webhooks", __name__)
log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Shopify's payloads are far smaller; anything this big is not from Shopify
STORE_CACHE_SECONDS = 60.0  # a shop's store id never changes (re-install reuses the row), so a short cache is safe


class _StoreIds:
    """shop domain -> store id, so a delivery costs one INSERT rather than a SELECT and an INSERT."""

    def __init__(self) -> None:
        self._ids: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def get(self, engine: Engine, shop: str) -> int | None:
        hit = self._ids.get(shop)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        with engine.connect() as connection:
            store_id = connection.scalar(select(Store.id).where(Store.platform == "shopify", Store.domain == shop))
        if store_id is not None:  # unknown shops are not cached: an install must take effect at once
            with self._lock:
                self._ids[shop] = (store_id, time.monotonic() + STORE_CACHE_SECONDS)
        return store_id

    def forget(self, shop: str) -> None:
        with self._lock:
            self._ids.pop(shop, None)


def _store_ids() -> _StoreIds:
    return current_app.extensions.setdefault("shopify_store_ids", _StoreIds())


_INSERTS: dict[str, object] = {}
_WRITER_LOCK = threading.Lock()


def _insert_statement(dialect: str):
    """Built and compiled once per dialect: per-request statement construction costs more than the INSERT."""
    if dialect not in _INSERTS:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        _INSERTS[dialect] = insert(InboxItem.__table__).on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
    return _INSERTS[dialect]


def _ingest_engine() -> Engine:
    """A pool of autocommit connections for the endpoint alone, without the pre-ping round trip on every checkout
    (a connection dropped by a database restart fails one attempt, which is retried below)."""
    engine = current_app.extensions.get("shopify_ingest_engine")
    if engine is None:
        options = dict(current_app.config.get("ENGINE_OPTIONS") or {})
        url = current_app.config["DATABASE_URL"]
        if url.startswith("sqlite"):
            engine = runtime().db.engine  # one process, one file: share the app's engine
        else:
            options.update(pool_pre_ping=False, isolation_level="AUTOCOMMIT")
            options.setdefault("pool_size", 10)
            engine = create_engine(url, **options)
        engine = current_app.extensions.setdefault("shopify_ingest_engine", engine)
    return engine


def _insert_delivery(engine: Engine, values: dict) -> bool:
    """Store the delivery before answering; False for a duplicate.

    On PostgreSQL concurrent requests share one commit through the process's group-commit writer; on SQLite (one
    process) it is one INSERT ... ON CONFLICT DO NOTHING.
    """
    if engine.dialect.name == "postgresql":
        with _WRITER_LOCK:
            writer = current_app.extensions.get("inbox_writer")
            if writer is None:
                writer = current_app.extensions["inbox_writer"] = InboxWriter(engine)
        return writer.write(values)
    statement = _insert_statement(engine.dialect.name)
    for attempt in (1, 2):
        try:
            with engine.connect() as connection:
                inserted = connection.execute(statement, values).rowcount == 1
                connection.commit()  # a no-op on the autocommit pool; commits on the shared SQLite engine
                return inserted
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    return False


def _plain(status: int, text: str = "") -> Response:
    return Response(text, status=status, mimetype="text/plain")


@bp.post("/webhooks/shopify")
def receive():
    body = read_body(MAX_BODY)
    if body is None:
        return _plain(413, "payload too large")
    delivery = read_delivery_headers(request.headers)
    if not verify_webhook_hmac(body=body, header=delivery.hmac, secrets=app_secrets()):
        return _plain(401, "bad signature")
    try:
        if not isinstance(json.loads(body), dict):
            raise ValueError("not an object")
    except ValueError:  # also UnicodeDecodeError
        return _plain(400, "malformed JSON")
    if not delivery.topic or not delivery.shop_domain:
        return _plain(400, "missing X-Shopify-Topic or X-Shopify-Shop-Domain")
    if len(delivery.topic) > MAX_TOPIC:
        return _plain(400, "unknown X-Shopify-Topic")
    engine = _ingest_engine()
    store_id = _store_ids().get(engine, delivery.shop_domain.lower())
    if store_id is None:
        log.info("Shopify %s delivery for unknown shop %s ignored", delivery.topic, delivery.shop_domain)
        return _plain(200)
    key = delivery.event_id or delivery.webhook_id or hashlib.sha256(delivery.topic.encode() + body).hexdigest()
    now = runtime().clock()
    values = {"source": "shopify", "topic": delivery.topic, "dedupe_key": bounded_key(f"{delivery.shop_domain}:{key}"),
              "body": body, "headers": store_delivery_kwargs(request.headers), "store_id": store_id,
              "state": InboxState.PENDING, "attempts": 0, "received_at": now, "next_attempt_at": now}
    try:
        _insert_delivery(engine, values)
    except IntegrityError:  # the cached store was deleted meanwhile (shop/redact): nothing of it to keep
        _store_ids().forget(delivery.shop_domain.lower())
    return _plain(200)
