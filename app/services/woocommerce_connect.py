"""Connecting a WooCommerce store: the WC Auth key grant (one-time nonce), manual keys, webhooks and a queued backfill."""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Store, WooAuthGrant, WooSync
from app.models.store import StoreStatus
from app.services.accounts import link_store
from app.services.woocommerce_writeback import COMPLETE_SETTING, NOTES_SETTING, PLATFORM  # noqa: F401 (re-exported)
from integrations.errors import IntegrationError
from integrations.stores.woocommerce import auth, webhooks
from integrations.stores.woocommerce.client import WooClient, WooCommerceError
from integrations.stores.woocommerce.site import ConnectError, SiteUrl, parse_site_url
from integrations.stores.woocommerce.verify import verify_keys

if TYPE_CHECKING:
    from app.runtime import Runtime

log = logging.getLogger(__name__)

APP_NAME = "Parcelwise"
GRANT_TTL = timedelta(minutes=30)
WEBHOOK_PATH = "/webhooks/woocommerce"
CALLBACK_PATH = "/woocommerce/auth/callback"
RETURN_PATH = "/woocommerce/auth/return"


def site_from_input(runtime: Runtime, raw_url: str) -> SiteUrl:
    return parse_site_url(raw_url, allow_http=bool(runtime.config.get("WOOCOMMERCE_ALLOW_HTTP")))


def client_for(runtime: Runtime, *, site: SiteUrl, consumer_key: str, consumer_secret: str) -> WooClient:
    return WooClient(url=site.url, consumer_key=consumer_key, consumer_secret=consumer_secret,
                     timeout=float(runtime.config.get("WOOCOMMERCE_TIMEOUT_SECONDS", 15.0)))


def start_key_grant(session: Session, runtime: Runtime, *, account_id: int, raw_url: str, now: datetime) -> str:
    """Remember a one-time nonce for this account and site; returns the store's authorize URL."""
    site = site_from_input(runtime, raw_url)
    nonce = secrets.token_urlsafe(32)
    session.add(WooAuthGrant(nonce=nonce, account_id=account_id, site_url=site.url, expires_at=now + GRANT_TTL,
                             created_at=now))
    session.commit()
    app_url = runtime.app_url
    return auth.authorize_url(site_url=site.url, app_name=APP_NAME, user_id=nonce,
                              return_url=f"{app_url}{RETURN_PATH}", callback_url=f"{app_url}{CALLBACK_PATH}")


def accept_key_grant(session: Session, runtime: Runtime, *, body: bytes, now: datetime) -> int:
    """WooCommerce's POST to our callback; the HTTP status to answer. Exactly 200 only when the keys were
    accepted: anything else makes WooCommerce show an error and delete the key it just made."""
    try:
        grant_data = auth.parse_key_grant(body)
    except ValueError:
        return 400
    # Claim the nonce atomically: a replayed or concurrent callback finds it used.
    claimed = session.execute(update(WooAuthGrant)
                              .where(WooAuthGrant.nonce == grant_data.user_id, WooAuthGrant.used_at.is_(None),
                                     WooAuthGrant.expires_at > now)
                              .values(used_at=now)).rowcount
    session.commit()
    if claimed != 1:
        log.warning("WooCommerce key grant for an unknown, used or expired nonce refused")
        return 404
    grant = session.scalar(select(WooAuthGrant).where(WooAuthGrant.nonce == grant_data.user_id))
    assert grant is not None
    account_id, site_url = grant.account_id, grant.site_url
    session.commit()  # no transaction stays open while the store answers
    try:
        if grant_data.key_permissions != "read_write":
            raise ConnectError("Parcelwise needs Read/Write access to write order notes.", code="read_only_key")
        store = connect_store(session, runtime, account_id=account_id, site=site_from_input(runtime, site_url),
                             consumer_key=grant_data.consumer_key, consumer_secret=grant_data.consumer_secret,
                             now=now)
    except ConnectError as exc:
        grant = session.scalar(select(WooAuthGrant).where(WooAuthGrant.nonce == grant_data.user_id))
        if grant is not None:
            grant.error = str(exc)
            session.commit()
        return 400
    grant = session.scalar(select(WooAuthGrant).where(WooAuthGrant.nonce == grant_data.user_id))
    if grant is not None:
        grant.store_id = store.id
        session.commit()
    return 200


def connect_store(session: Session, runtime: Runtime, *, account_id: int, site: SiteUrl, consumer_key: str,
                  consumer_secret: str, now: datetime) -> Store:
    """Verify the keys, register the webhooks, then save the store and queue its backfill.

    Nothing is saved before the store accepted both: a key that cannot create webhooks is no connection.
    """
    if not site.is_https and not runtime.config.get("WOOCOMMERCE_ALLOW_HTTP"):
        raise ConnectError("Your store must be served over HTTPS.", code="plain_http")
    consumer_key, consumer_secret = consumer_key.strip(), consumer_secret.strip()
    if not consumer_key.startswith("ck_") or not consumer_secret.startswith("cs_"):
        raise ConnectError("WooCommerce consumer keys start with ck_ and secrets with cs_: copy both from "
                           "WooCommerce > Settings > Advanced > REST API.", code="wrong_keys")
    client = client_for(runtime, site=site, consumer_key=consumer_key, consumer_secret=consumer_secret)
    info = verify_keys(client)
    existing = session.scalar(select(Store).where(Store.platform == PLATFORM, Store.domain == site.domain))
    old = (runtime.vault.decrypt(existing.credentials_encrypted) or {}) if existing is not None else {}
    secret = old.get("webhook_secret") or webhooks.new_secret()
    session.commit()
    try:
        webhooks.ensure_webhooks(client, delivery_url=f"{runtime.app_url}{WEBHOOK_PATH}", secret=secret,
                                 reset_secret=True)
    except WooCommerceError as exc:
        if exc.status in (401, 403):
            raise ConnectError("These API keys can read but not write: create a key with Read/Write permission "
                               "so Parcelwise can register webhooks and add order notes.", code="read_only_key") from exc
        raise ConnectError(f"Your store refused to create webhooks ({exc.code}).", code="webhooks") from exc
    except IntegrationError as exc:
        raise ConnectError(f"Could not reach {site.url} to create webhooks: {exc}", code="unreachable") from exc
    return _save_store(session, runtime, account_id=account_id, site=site, tracking_namespace=info.tracking_namespace,
                       credentials={"consumer_key": consumer_key, "consumer_secret": consumer_secret,
                                    "webhook_secret": secret}, now=now)


def _save_store(session: Session, runtime: Runtime, *, account_id: int, site: SiteUrl, tracking_namespace: str | None,
                credentials: dict[str, Any], now: datetime) -> Store:
    store = session.scalar(select(Store).where(Store.platform == PLATFORM, Store.domain == site.domain))
    if store is None:
        store = Store(platform=PLATFORM, domain=site.domain, name=site.domain.split("/")[0], settings={},
                      created_at=now)
        session.add(store)
    settings = dict(store.settings or {})
    settings.update(site_url=site.url, tracking_namespace=tracking_namespace)
    settings.setdefault(NOTES_SETTING, True)
    settings.setdefault(COMPLETE_SETTING, False)
    store.settings = settings
    store.status = StoreStatus.ACTIVE
    store.credentials_encrypted = runtime.vault.encrypt(credentials)
    session.flush()
    link_store(session, account_id=account_id, store_id=store.id)
    sync = session.get(WooSync, store.id)
    if sync is None:
        sync = WooSync(store_id=store.id, created_at=now)
        session.add(sync)
    sync.backfill_pending, sync.next_run_at, sync.failures, sync.last_error = True, now, 0, None
    session.commit()
    log.info("WooCommerce store %s connected (%s), backfill queued", store.id, site.domain)
    return store


def grant_outcome(session: Session, *, nonce: str) -> WooAuthGrant | None:
    return session.scalar(select(WooAuthGrant).where(WooAuthGrant.nonce == nonce))
