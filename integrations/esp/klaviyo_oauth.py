"""Klaviyo OAuth: authorization code with PKCE, code exchange and token refresh (the second way to connect)."""
from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence
from urllib.parse import urlencode

import requests

from integrations.errors import PermanentError, RetryableError
from integrations.http_headers import parse_retry_after

log = logging.getLogger(__name__)

# The consent page lives on www.klaviyo.com; token traffic must go to a.klaviyo.com (Klaviyo has blocked
# /oauth/token on www.klaviyo.com since March 2025).
DEFAULT_AUTHORIZE_BASE_URL = "https://www.klaviyo.com"
DEFAULT_TOKEN_BASE_URL = "https://a.klaviyo.com"
DEFAULT_SCOPES: tuple[str, ...] = ("accounts:read", "events:write")
ACCESS_TOKEN_LIFETIME = timedelta(hours=1)  # used when the answer has no expires_in
_EXPIRY_MARGIN = timedelta(seconds=60)  # refresh a little early so a token never expires mid-request


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the merchant, and what to keep (server-side, with `state`) until the redirect comes back."""

    url: str
    state: str
    code_verifier: str


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str
    refresh_token: str
    expires_at: datetime  # already shortened by a safety margin
    scope: tuple[str, ...] = ()
    token_type: str = "Bearer"

    def __repr__(self) -> str:  # tokens are secrets: keep them out of logs and tracebacks
        return f"OAuthTokens(expires_at={self.expires_at.isoformat()}, scope={self.scope})"


def new_code_verifier() -> str:
    """A PKCE verifier: 64 random bytes, base64url (86 characters, within RFC 7636's 43-128)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(64)).rstrip(b"=").decode()


def code_challenge(code_verifier: str) -> str:
    """The S256 challenge for a verifier: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def build_authorize_url(
    *,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    state: str | None = None,
    code_verifier: str | None = None,
    base_url: str = DEFAULT_AUTHORIZE_BASE_URL,
) -> AuthorizationRequest:
    """The consent URL; keep `state` and `code_verifier` until the redirect comes back (state stops CSRF)."""
    verifier = code_verifier or new_code_verifier()
    state = state or secrets.token_urlsafe(24)
    query = urlencode({
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge_method": "S256",
        "code_challenge": code_challenge(verifier),
    })
    return AuthorizationRequest(url=f"{base_url.rstrip('/')}/oauth/authorize?{query}", state=state,
                                code_verifier=verifier)


def exchange_code(
    *,
    client_id: str,
    client_secret: str,
    code: str,
    code_verifier: str,
    redirect_uri: str,
    base_url: str = DEFAULT_TOKEN_BASE_URL,
    timeout: float = 10.0,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> OAuthTokens:
    """Trade the code from the redirect for tokens. PermanentError("invalid_grant") means: start the flow again."""
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": code_verifier,
            "redirect_uri": redirect_uri}
    answer = _token_request(client_id=client_id, client_secret=client_secret, form=form, base_url=base_url,
                            timeout=timeout, session=session)
    return _tokens(answer, previous_refresh_token=None, now=now)


def refresh(
    *,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    base_url: str = DEFAULT_TOKEN_BASE_URL,
    timeout: float = 10.0,
    session: requests.Session | None = None,
    now: datetime | None = None,
) -> OAuthTokens:
    """A fresh access token. PermanentError("invalid_grant"): the merchant removed the app; ask them to reconnect."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    answer = _token_request(client_id=client_id, client_secret=client_secret, form=form, base_url=base_url,
                            timeout=timeout, session=session)
    return _tokens(answer, previous_refresh_token=refresh_token, now=now)


def _token_request(
    *,
    client_id: str,
    client_secret: str,
    form: dict[str, str],
    base_url: str,
    timeout: float,
    session: requests.Session | None,
) -> dict[str, Any]:
    url = f"{base_url.rstrip('/')}/oauth/token"
    http = session or requests
    try:
        # Klaviyo wants the client credentials as HTTP Basic, not in the form.
        response = http.post(url, data=form, auth=(client_id, client_secret), timeout=timeout,
                             headers={"Accept": "application/json"})
    except requests.Timeout:
        raise RetryableError("Klaviyo's token endpoint timed out") from None
    except requests.RequestException as exc:
        raise RetryableError(f"could not reach Klaviyo's token endpoint: {type(exc).__name__}") from None
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryableError(f"Klaviyo's token endpoint answered HTTP {response.status_code}",
                             retry_after=parse_retry_after(response.headers.get("Retry-After")))
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200:
        error = str(answer.get("error") or f"http_{response.status_code}") if isinstance(answer, dict) else "invalid"
        description = answer.get("error_description", "") if isinstance(answer, dict) else ""
        log.warning("klaviyo oauth %s failed: %s", form.get("grant_type"), error)
        raise PermanentError(f"Klaviyo refused the {form.get('grant_type')} request: {error} {description}".strip(),
                             code=error)
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise PermanentError("Klaviyo's token answer has no access_token", code="invalid_response")
    return answer


def _tokens(answer: dict[str, Any], *, previous_refresh_token: str | None, now: datetime | None) -> OAuthTokens:
    refresh_token = answer.get("refresh_token") or previous_refresh_token
    if not refresh_token:
        raise PermanentError("Klaviyo's token answer has no refresh_token", code="invalid_response")
    try:
        lifetime = timedelta(seconds=int(answer["expires_in"]))
    except (KeyError, TypeError, ValueError):
        lifetime = ACCESS_TOKEN_LIFETIME
    issued = now or datetime.now(timezone.utc)
    return OAuthTokens(
        access_token=str(answer["access_token"]),
        # Keep using the old refresh token when the answer does not rotate it.
        refresh_token=str(refresh_token),
        expires_at=issued + max(lifetime - _EXPIRY_MARGIN, timedelta(0)),
        scope=tuple(str(answer.get("scope") or "").split()),
        token_type=str(answer.get("token_type") or "Bearer"),
    )
