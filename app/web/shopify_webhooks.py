"""POST /webhooks/shopify: verify, store in the inbox, answer 200 fast; every topic, routed later by X-Shopify-Topic."""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select

from app.models import Store
from app.services.inbox import store_delivery, store_delivery_kwargs
from app.web import db_session, runtime
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

    def get(self, shop: str) -> int | None:
        hit = self._ids.get(shop)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        store_id = db_session().scalar(select(Store.id).where(Store.platform == "shopify", Store.domain == shop))
        if store_id is not None:  # unknown shops are not cached: an install must take effect at once
            with self._lock:
                self._ids[shop] = (store_id, time.monotonic() + STORE_CACHE_SECONDS)
        return store_id


def _store_ids() -> _StoreIds:
    return current_app.extensions.setdefault("shopify_store_ids", _StoreIds())


def _plain(status: int, text: str = "") -> Response:
    return Response(text, status=status, mimetype="text/plain")


def _read_body() -> bytes | None:
    """The raw body, or None when it is over the limit (checked on the header and on what is actually read)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    body = request.stream.read(MAX_BODY + 1)
    return None if len(body) > MAX_BODY else body


@bp.post("/webhooks/shopify")
def receive():
    body = _read_body()
    if body is None:
        return _plain(413, "payload too large")
    config = current_app.config
    delivery = read_delivery_headers(request.headers)
    if not verify_webhook_hmac(body=body, header=delivery.hmac,
                               secrets=[config.get("SHOPIFY_API_SECRET") or "", config.get("SHOPIFY_API_SECRET_PREVIOUS") or ""]):
        return _plain(401, "bad signature")
    try:
        if not isinstance(json.loads(body), dict):
            raise ValueError("not an object")
    except ValueError:  # also UnicodeDecodeError
        return _plain(400, "malformed JSON")
    if not delivery.topic or not delivery.shop_domain:
        return _plain(400, "missing X-Shopify-Topic or X-Shopify-Shop-Domain")
    store_id = _store_ids().get(delivery.shop_domain.lower())
    if store_id is None:
        log.info("Shopify %s delivery for unknown shop %s ignored", delivery.topic, delivery.shop_domain)
        return _plain(200)
    key = delivery.event_id or delivery.webhook_id or hashlib.sha256(delivery.topic.encode() + body).hexdigest()
    db = db_session()
    store_delivery(db, source="shopify", topic=delivery.topic, dedupe_key=f"{delivery.shop_domain}:{key}", body=body,
                   headers=store_delivery_kwargs(request.headers), store_id=store_id, now=runtime().clock())
    db.commit()
    return _plain(200)
