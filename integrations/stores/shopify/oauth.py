"""Shopify app auth: shop domains, the authorization-code grant, expiring offline tokens, session tokens."""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets as secrets_module
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Sequence
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from shopify import session_token as shopify_session_token
from shopify.utils import shop_url

from integrations.errors import PermanentError, RetryableError
from integrations.http_headers import parse_retry_after

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL_TEMPLATE = "https://{shop}"
DEFAULT_TIMEOUT = 10.0
CALLBACK_MAX_AGE = timedelta(hours=24)

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"


class InvalidShopDomain(ValueError):
    """Not a `<name>.myshopify.com` domain."""


class InvalidCallback(ValueError):
    """An OAuth callback that must not be trusted (bad HMAC, too old, wrong state, bad shop)."""


class InvalidSessionToken(ValueError):
    """An App Bridge session token that does not verify."""


# -- shop domains ------------------------------------------------------------------------------------------


def sanitize_shop(shop: str | None) -> str | None:
    """`name.myshopify.com` for a trustworthy shop parameter, else None (Shopify's own validation)."""
    if not shop:
        return None
    return shop_url.sanitize_shop_domain(shop) or None


def require_shop(shop: str | None) -> str:
    clean = sanitize_shop(shop)
    if clean is None:
        raise InvalidShopDomain("not a myshopify.com shop domain")
    return clean


def admin_url(shop: str, path: str, *, admin_base_url_template: str = DEFAULT_BASE_URL_TEMPLATE) -> str:
    """`https://{shop}` + path; the template lets a loopback fake stand in for every shop in tests."""
    return admin_base_url_template.format(shop=shop).rstrip("/") + path


# -- authorization-code grant -----------------------------------------------------------------------------


def new_state() -> str:
    """A one-time nonce for the `state` parameter (bind it to the browser, e.g. in a signed cookie)."""
    return secrets_module.token_urlsafe(32)


def build_authorize_url(*, shop: str, api_key: str, scopes: Sequence[str], redirect_uri: str, state: str,
                        admin_base_url_template: str = DEFAULT_BASE_URL_TEMPLATE) -> str:
    """The page the merchant approves the app on.

    No `grant_options[]=per-user`: that would ask for an online token, and background work needs an offline
    one. Expiry is not chosen here but at the token endpoint (`expiring=1` in `exchange_code`).
    """
    clean = require_shop(shop)
    query = urlencode({"client_id": api_key, "scope": ",".join(scopes), "redirect_uri": redirect_uri,
                       "state": state})
    return admin_url(clean, f"/admin/oauth/authorize?{query}", admin_base_url_template=admin_base_url_template)


def _flat_params(params: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Accept `request.args.to_dict(flat=False)`-style lists as well as plain strings."""
    flat: dict[str, str | list[str]] = {}
    for key, value in params.items():
        if isinstance(value, (list, tuple)):
            if key.endswith("[]"):
                flat[key] = [str(v) for v in value]
            elif len(value) == 1:
                flat[key] = str(value[0])
            else:
                raise InvalidCallback(f"parameter {key} given more than once")
        else:
            flat[key] = str(value)
    return flat


def callback_message(params: Mapping[str, Any]) -> str:
    """The string Shopify signs: every parameter but `hmac` (and legacy `signature`), `k=v`, sorted, `&`-joined.

    `%`, `&` and `=` in keys (and `%`, `&` in values) are escaped so one parameter cannot pose as two; array
    parameters (`ids[]=1&ids[]=2`) are signed as `ids=["1", "2"]`.
    """
    pairs = []
    for key, value in _flat_params(params).items():
        if key in ("hmac", "signature"):
            continue
        if isinstance(value, list):
            key = key[:-2]
            value = "[" + ", ".join(f'"{v}"' for v in value) + "]"
        k = key.replace("%", "%25").replace("&", "%26").replace("=", "%3D")
        v = value.replace("%", "%25").replace("&", "%26")
        pairs.append(f"{k}={v}")
    return "&".join(sorted(pairs))


def _secret_list(secret: str | Sequence[str]) -> list[str]:
    return [secret] if isinstance(secret, str) else [s for s in secret if s]


def verify_callback_query(*, params: Mapping[str, Any], secret: str | Sequence[str],
                          max_age: timedelta = CALLBACK_MAX_AGE, expected_state: str | None = None,
                          now: float | None = None) -> str:
    """Check an OAuth callback's (or an app URL launch's) query; return the shop domain or raise InvalidCallback.

    `secret` may be a list (current, previous) during a secret rotation. Pass `expected_state` for the OAuth
    callback (the nonce stored in the browser's session); leave it None for other signed launches.
    """
    flat = _flat_params(params)
    given = flat.get("hmac")
    if not isinstance(given, str) or not given:
        raise InvalidCallback("missing hmac")
    message = callback_message(flat).encode("utf-8")
    matched = False
    for key in _secret_list(secret):
        expected = hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()
        matched |= hmac.compare_digest(expected, given.lower())
    if not matched:
        raise InvalidCallback("hmac does not match")
    try:
        timestamp = int(str(flat.get("timestamp", "")))
    except ValueError:
        raise InvalidCallback("missing or bad timestamp") from None
    current = time.time() if now is None else now
    if timestamp < current - max_age.total_seconds():
        raise InvalidCallback("callback is too old")
    if expected_state is not None:
        state = flat.get("state")
        if not isinstance(state, str) or not hmac.compare_digest(state.encode(), expected_state.encode()):
            raise InvalidCallback("state does not match")
    shop = sanitize_shop(flat.get("shop") if isinstance(flat.get("shop"), str) else None)
    if shop is None:
        raise InvalidCallback("shop parameter is not a myshopify.com domain")
    return shop


# -- tokens -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineToken:
    """An offline access token; expiring ones come with a refresh token that rotates on every use.

    Tokens are kept out of repr() so they cannot end up in a log line or a traceback by accident.
    """

    access_token: str = field(repr=False)
    scope: str
    expires_at: datetime | None = None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_token_expires_at: datetime | None = None

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.scope.split(",") if s.strip())

    def needs_refresh(self, *, now: datetime | None = None, margin: timedelta = timedelta(minutes=5)) -> bool:
        """Refresh a little before expiry so a request never starts with a token about to die."""
        if self.expires_at is None:
            return False
        return (now or datetime.now(timezone.utc)) >= self.expires_at - margin


def _token_from_response(payload: Any, *, received_at: datetime) -> OfflineToken:
    if not isinstance(payload, Mapping) or not payload.get("access_token"):
        raise PermanentError("Shopify token response has no access_token", code="bad_response")

    def at(seconds: Any) -> datetime | None:
        return received_at + timedelta(seconds=int(seconds)) if seconds not in (None, "") else None

    return OfflineToken(
        access_token=str(payload["access_token"]),
        scope=str(payload.get("scope") or ""),
        expires_at=at(payload.get("expires_in")),
        refresh_token=str(payload["refresh_token"]) if payload.get("refresh_token") else None,
        refresh_token_expires_at=at(payload.get("refresh_token_expires_in")),
    )


def _post_token(*, shop: str, body: dict[str, str], grant: str, timeout: float,
                admin_base_url_template: str, session: requests.Session | None) -> OfflineToken:
    """The one HTTP seam for /admin/oauth/access_token. No automatic retry: codes and refresh tokens are
    single-use, so a blind retry could burn one; the caller decides (RetryableError vs PermanentError)."""
    clean = require_shop(shop)
    url = admin_url(clean, "/admin/oauth/access_token", admin_base_url_template=admin_base_url_template)
    sender = session or requests
    received_at = datetime.now(timezone.utc)
    try:
        response = sender.post(url, json=body, headers={"Accept": "application/json"}, timeout=timeout)
    except requests.Timeout as exc:
        raise RetryableError(f"Shopify {grant} timed out for {clean}") from exc
    except requests.ConnectionError as exc:
        raise RetryableError(f"Shopify {grant} connection failed for {clean}") from exc
    status = response.status_code
    if status == 429 or status >= 500:
        raise RetryableError(f"Shopify {grant} answered {status} for {clean}",
                             retry_after=parse_retry_after(response.headers.get("Retry-After")))
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if status != 200:
        error = payload.get("error") if isinstance(payload, Mapping) else None
        # invalid_grant / invalid_subject_token: the code, refresh token or session token is spent or wrong;
        # only a new install (or a new session token) helps.
        code = str(error) if error else ("auth" if status in (401, 403) else "token_request")
        logger.warning("Shopify %s refused for %s: HTTP %s %s", grant, clean, status, code)
        raise PermanentError(f"Shopify {grant} refused for {clean}: HTTP {status} {code}", code=code)
    token = _token_from_response(payload, received_at=received_at)
    logger.info("Shopify %s succeeded for %s (scope=%s, expiring=%s)", grant, clean, token.scope,
                token.expires_at is not None)
    return token


def exchange_code(*, shop: str, code: str, api_key: str, secret: str, expiring: bool = True,
                  timeout: float = DEFAULT_TIMEOUT, admin_base_url_template: str = DEFAULT_BASE_URL_TEMPLATE,
                  session: requests.Session | None = None) -> OfflineToken:
    """Authorization-code grant: the callback's `code` -> an (expiring) offline token."""
    body = {"client_id": api_key, "client_secret": secret, "code": code}
    if expiring:
        body["expiring"] = "1"
    return _post_token(shop=shop, body=body, grant="code exchange", timeout=timeout,
                       admin_base_url_template=admin_base_url_template, session=session)


def refresh_token(*, shop: str, refresh_token: str, api_key: str, secret: str,
                  timeout: float = DEFAULT_TIMEOUT, admin_base_url_template: str = DEFAULT_BASE_URL_TEMPLATE,
                  session: requests.Session | None = None) -> OfflineToken:
    """A new access token and a NEW refresh token; the old refresh token is spent, so store the result
    atomically (compare-and-swap on the old refresh token) before using it."""
    body = {"client_id": api_key, "client_secret": secret, "grant_type": "refresh_token",
            "refresh_token": refresh_token}
    return _post_token(shop=shop, body=body, grant="token refresh", timeout=timeout,
                       admin_base_url_template=admin_base_url_template, session=session)


def token_exchange(*, shop: str, session_token: str, api_key: str, secret: str, expiring: bool = True,
                   timeout: float = DEFAULT_TIMEOUT, admin_base_url_template: str = DEFAULT_BASE_URL_TEMPLATE,
                   session: requests.Session | None = None) -> OfflineToken:
    """Embedded install (Shopify-managed): an App Bridge session token -> an offline token."""
    body = {"client_id": api_key, "client_secret": secret, "grant_type": TOKEN_EXCHANGE_GRANT,
            "subject_token": session_token, "subject_token_type": ID_TOKEN_TYPE,
            "requested_token_type": OFFLINE_TOKEN_TYPE}
    if expiring:
        body["expiring"] = "1"
    return _post_token(shop=shop, body=body, grant="token exchange", timeout=timeout,
                       admin_base_url_template=admin_base_url_template, session=session)


# -- session tokens (embedded admin) ---------------------------------------------------------------------


def decode_session_token(*, authorization: str | None, api_key: str, secret: str | Sequence[str]) -> str:
    """Verify `Authorization: Bearer <session token>` from App Bridge; return the shop it was issued for.

    HS256 with the app secret, `aud` = API key, `exp`/`nbf` with Shopify's library leeway, `iss` and `dest`
    naming the same myshopify.com shop. Raises InvalidSessionToken otherwise.
    """
    if not authorization:
        raise InvalidSessionToken("no Authorization header")
    last_error: Exception | None = None
    for key in _secret_list(secret):
        try:
            payload = shopify_session_token.decode_from_header(authorization, api_key, key)
        except shopify_session_token.SessionTokenError as exc:
            last_error = exc
            # Only a signature mismatch can be the rotation case; an expired or misaddressed token stays bad.
            if isinstance(exc.__cause__, jwt.InvalidSignatureError):
                continue
            break
        shop = sanitize_shop(urlsplit(str(payload.get("dest", ""))).hostname)
        if shop is None:
            raise InvalidSessionToken("session token destination is not a shop")
        return shop
    raise InvalidSessionToken(f"session token rejected: {last_error}") from last_error
