"""Shopify offline tokens at rest: encrypted credentials, refreshed before expiry, rotated refresh tokens never lost."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from sqlalchemy import select, update

from app.crypto import Vault
from app.db import Database
from app.models import Store
from integrations.errors import PermanentError
from integrations.stores.shopify import oauth

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)
_LOCKS: dict[tuple[int, int], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def wall_clock() -> datetime:
    """Token lifetimes are real time (Shopify's clock), never the app's simulated clock."""
    return datetime.now(timezone.utc)


def credentials_from(token: oauth.OfflineToken) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {"access_token": token.access_token, "scope": token.scope, "expires_at": iso(token.expires_at),
            "refresh_token": token.refresh_token, "refresh_token_expires_at": iso(token.refresh_token_expires_at)}


def needs_refresh(credentials: dict[str, Any] | None, *, now: datetime) -> bool:
    expires = (credentials or {}).get("expires_at")
    if not expires or not (credentials or {}).get("refresh_token"):
        return False  # a non-expiring (legacy) token, or nothing to refresh with
    return now >= datetime.fromisoformat(expires) - REFRESH_MARGIN


def _expired(credentials: dict[str, Any], *, now: datetime) -> bool:
    expires = credentials.get("expires_at")
    return bool(expires) and now >= datetime.fromisoformat(expires)


def _process_lock(db: Database, store_id: int) -> threading.Lock:
    # SQLite ignores FOR UPDATE; the embedded default is one process, so a lock per store and engine suffices there.
    key = (id(db), store_id)
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def refresh_stored_token(*, db: Database, vault: Vault, config: dict[str, Any], store_id: int,
                         seen: str | None, now: Callable[[], datetime] = wall_clock) -> tuple[str, dict[str, Any]]:
    """Refresh the store's token unless another worker already did; returns the (encrypted, plain) credentials.

    `seen` is the encrypted credentials the caller decided were due. The row is locked (FOR UPDATE on
    PostgreSQL) while Shopify is asked, and the new pair is written with a compare-and-swap on the old
    value: the refresh token rotates on every use, so a second concurrent refresh would spend the new one
    and a lost write would strand the store without a usable token.
    """
    with _process_lock(db, store_id), db.session() as session:
        current = session.scalar(select(Store.credentials_encrypted).where(Store.id == store_id).with_for_update())
        credentials = vault.decrypt(current)
        if credentials is None:
            raise PermanentError("Shopify store has no token (uninstalled?)", code="auth")
        if current != seen and not _expired(credentials, now=now()):
            return current, credentials  # another worker refreshed (or the shop re-installed) while we waited
        if not needs_refresh(credentials, now=now()):
            return current, credentials
        shop = session.scalar(select(Store.domain).where(Store.id == store_id))
        token = oauth.refresh_token(shop=shop, refresh_token=credentials["refresh_token"],
                                    api_key=config["SHOPIFY_API_KEY"], secret=config["SHOPIFY_API_SECRET"],
                                    admin_base_url_template=config["SHOPIFY_ADMIN_URL_TEMPLATE"])
        fresh = credentials_from(token)
        encrypted = vault.encrypt(fresh)
        swapped = session.execute(update(Store).where(Store.id == store_id, Store.credentials_encrypted == current)
                                  .values(credentials_encrypted=encrypted)).rowcount
        if swapped != 1:  # cannot happen while we hold the row lock; never overwrite someone else's newer pair
            raise PermanentError("Shopify token changed during refresh", code="token_race")
    log.info("Shopify store %s: offline token refreshed", store_id)
    return encrypted, fresh


class TokenSource:
    """The access token getter handed to the GraphQL client: the current token, refreshed when due."""

    def __init__(self, *, db: Database, vault: Vault, config: dict[str, Any], store_id: int,
                 encrypted: str | None, now: Callable[[], datetime] = wall_clock) -> None:
        self._db, self._vault, self._config, self.store_id = db, vault, config, store_id
        self._encrypted = encrypted
        self._credentials = vault.decrypt(encrypted)
        self._now = now
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenSource(store_id={self.store_id})"

    def __call__(self) -> str:
        with self._lock:
            if not self._credentials:
                raise PermanentError("Shopify store has no token (uninstalled?)", code="auth")
            if needs_refresh(self._credentials, now=self._now()):
                self._encrypted, self._credentials = refresh_stored_token(
                    db=self._db, vault=self._vault, config=self._config, store_id=self.store_id,
                    seen=self._encrypted, now=self._now)
            return self._credentials["access_token"]
