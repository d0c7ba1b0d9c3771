"""Connecting a store's ESP: Klaviyo by private key or OAuth, a signed webhook; pausing, resuming, token refresh."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import EspConnection, OutboxItem, Store
from app.models.outbox import OutboxState
from integrations.esp.base import EspEvent, SendOutcome
from integrations.esp.klaviyo import KlaviyoAccount, validate_private_key
from integrations.esp.klaviyo_oauth import OAuthTokens, refresh

if TYPE_CHECKING:
    from app.runtime import Runtime

log = logging.getLogger(__name__)

REFRESH_AHEAD = timedelta(minutes=5)  # refresh this long before expiry so a batch never starts with a dying token
KeyValidator = Callable[..., KlaviyoAccount]


def current_connection(session: Session, store: Store | int) -> EspConnection | None:
    """The store's ESP connection (one per store; None means the console), paused ones included.

    Takes the store or just its id: the delivery step knows only the ids of the rows it claimed.
    """
    store_id = store if isinstance(store, int) else store.id
    return session.scalars(select(EspConnection).where(EspConnection.store_id == store_id, EspConnection.provider != "console")
                           .order_by(EspConnection.id.desc())).first()


def _attach(session: Session, *, store: Store, provider: str, credentials: dict[str, Any], account_name: str,
            vault: Any, now: datetime) -> EspConnection:
    """Store the credentials encrypted, make this the store's only ESP, and let held events go at once."""
    for other in session.scalars(select(EspConnection).where(EspConnection.store_id == store.id,
                                                            EspConnection.provider != provider)):
        session.delete(other)  # one ESP per store: connecting a new one replaces the old
    connection = session.scalar(select(EspConnection).where(EspConnection.store_id == store.id,
                                                            EspConnection.provider == provider))
    if connection is None:
        connection = EspConnection(store_id=store.id, provider=provider)
        session.add(connection)
    connection.credentials_encrypted = vault.encrypt(credentials)
    connection.account_name = account_name
    connection.status = "active"
    connection.paused_reason = None
    session.flush()
    release_held(session, store_id=store.id, now=now)
    return connection


def release_held(session: Session, *, store_id: int, now: datetime) -> int:
    """Rows waiting on a paused connection (or backing off) become due now; returns how many."""
    result = session.execute(update(OutboxItem).where(
        OutboxItem.store_id == store_id, OutboxItem.state == OutboxState.PENDING, OutboxItem.destination == "esp",
        OutboxItem.next_attempt_at > now).values(next_attempt_at=now))
    return result.rowcount or 0


def connect_klaviyo_key(session: Session, *, store: Store, key: str, runtime: Runtime,
                        validate: KeyValidator = validate_private_key) -> EspConnection:
    """Validate a pasted private key (GET /api/accounts) and attach it; raises PermanentError / RetryableError."""
    key = (key or "").strip()
    account = validate(api_key=key, base_url=runtime.config["KLAVIYO_API_URL"],
                       timeout=runtime.config["KLAVIYO_TIMEOUT_SECONDS"])
    connection = _attach(session, store=store, provider="klaviyo", vault=runtime.vault, now=runtime.clock(),
                         credentials={"api_key": key, "account_id": account.id}, account_name=account.name)
    log.info("store %s connected Klaviyo account %s by private key", store.id, account.id)
    return connection


def connect_klaviyo_oauth(session: Session, *, store: Store, tokens: OAuthTokens, runtime: Runtime) -> EspConnection:
    """Attach OAuth tokens; the account name is read with the new token (a failure leaves the name blank)."""
    from integrations.esp.klaviyo import KlaviyoEsp
    from integrations.errors import IntegrationError

    account_id, name = None, "Klaviyo (OAuth)"
    try:
        account = KlaviyoEsp(access_token=tokens.access_token, base_url=runtime.config["KLAVIYO_API_URL"],
                             timeout=runtime.config["KLAVIYO_TIMEOUT_SECONDS"]).account()
        account_id, name = account.id, account.name
    except IntegrationError as exc:
        log.warning("store %s: could not read the Klaviyo account after OAuth: %s", store.id, exc)
    credentials = _token_credentials(tokens) | {"account_id": account_id}
    return _attach(session, store=store, provider="klaviyo", vault=runtime.vault, now=runtime.clock(),
                   credentials=credentials, account_name=name)


def connect_webhook(session: Session, *, store: Store, url: str, runtime: Runtime) -> tuple[EspConnection, str]:
    """Attach a signed webhook; returns the connection and the new signing secret (shown to the merchant once)."""
    url = (url or "").strip()
    if not url.startswith(("https://", "http://")):
        raise ValueError("the webhook URL must start with https://")
    secret = "whsec_" + secrets.token_urlsafe(32)
    connection = _attach(session, store=store, provider="webhook", vault=runtime.vault, now=runtime.clock(),
                         credentials={"url": url, "secret": secret}, account_name=url)
    return connection, secret


def disconnect(session: Session, *, store: Store) -> bool:
    """Remove the store's ESP; events go to the console (the event log) from now on."""
    removed = False
    for connection in session.scalars(select(EspConnection).where(EspConnection.store_id == store.id)):
        session.delete(connection)
        removed = True
    return removed


def masked(secret: str | None) -> str:
    """Enough of a secret to recognise it, never enough to use it."""
    if not secret:
        return ""
    return f"{secret[:4]}…{secret[-4:]}" if len(secret) > 12 else "…"


def _token_credentials(tokens: OAuthTokens) -> dict[str, Any]:
    return {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
            "expires_at": tokens.expires_at.isoformat()}


def fresh_klaviyo_credentials(runtime: Runtime, *, connection_id: int) -> dict[str, Any]:
    """The connection's OAuth credentials, refreshed first when the access token is close to expiry.

    The row is locked while refreshing, so when several workers notice at once only one calls Klaviyo; the others
    wait and then read the new token (a refresh token may be single-use).
    """
    now = runtime.clock()
    with runtime.db.session() as session:
        connection = session.scalars(select(EspConnection).where(EspConnection.id == connection_id)
                                     .with_for_update()).one()
        credentials = runtime.vault.decrypt(connection.credentials_encrypted) or {}
        expires_at = datetime.fromisoformat(credentials.get("expires_at") or now.isoformat())
        if expires_at - now > REFRESH_AHEAD:
            return credentials
        tokens = refresh(client_id=runtime.config["KLAVIYO_CLIENT_ID"] or "",
                         client_secret=runtime.config["KLAVIYO_CLIENT_SECRET"] or "",
                         refresh_token=credentials["refresh_token"], base_url=runtime.config["KLAVIYO_API_URL"],
                         timeout=runtime.config["KLAVIYO_TIMEOUT_SECONDS"], now=now)
        credentials = credentials | _token_credentials(tokens)
        connection.credentials_encrypted = runtime.vault.encrypt(credentials)
        log.info("refreshed the Klaviyo access token of connection %s", connection_id)
        return credentials


@dataclass
class UnavailableEsp:
    """Stands in when the ESP cannot be built (token refresh refused or failing): every event gets the same answer."""

    error: str
    auth_failed: bool = False
    code: ClassVar[str] = "unavailable"
    max_batch: ClassVar[int] = 1000

    def send(self, *, events: Sequence[EspEvent]) -> list[SendOutcome]:
        if self.auth_failed:  # the merchant removed the app: pause and ask them to reconnect
            reason = f"Klaviyo refused to renew access ({self.error}); reconnect Klaviyo"
            return [SendOutcome(unique_id=e.unique_id, auth_failed=True, error=reason) for e in events]
        return [SendOutcome(unique_id=e.unique_id, error=self.error) for e in events]
