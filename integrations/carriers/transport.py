"""The one HTTP seam of every carrier: timeouts, bounded retries, Retry-After, quota gate and OAuth token cache."""
from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import requests
import requests.adapters

from integrations.carriers.base import OpenGate, RequestGate
from integrations.errors import PermanentError, RetryableError
from integrations.http_headers import parse_retry_after  # also re-exported: callers import it from here

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 10.0)
USER_AGENT = "parcelwise-tracking/1.0"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before giving up; small on purpose, the poller retries later anyway."""

    retries: int = 2  # extra attempts after the first
    backoff: float = 0.3  # seconds, doubled per attempt, with jitter
    max_backoff: float = 2.0
    max_total_wait: float = 4.0  # never sleep longer than this in one call
    max_retry_after_sleep: float = 2.0  # a longer 429 Retry-After is handed to the caller instead
    retry_statuses: frozenset[int] = frozenset({500, 502, 503, 504})

    def delay(self, attempt: int) -> float:
        base = min(self.max_backoff, self.backoff * (2 ** attempt))
        return base * random.uniform(0.5, 1.0)  # jitter: workers that failed together do not retry together


NO_RETRY = RetryPolicy(retries=0, max_retry_after_sleep=0.0)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").lower()

    @property
    def looks_like_html(self) -> bool:
        head = self.content[:200].lstrip().lower()
        return "html" in self.content_type or head.startswith((b"<!doctype html", b"<html"))

    def json(self) -> Any:
        """The JSON body; ValueError for an empty, HTML or otherwise non-JSON body."""
        if not self.content.strip():
            raise ValueError(f"empty body (HTTP {self.status})")
        if self.looks_like_html:
            raise ValueError(f"HTML page instead of JSON (HTTP {self.status})")
        return json.loads(self.content)

    def summary(self) -> str:
        """A short, secret-free description for error messages."""
        if not self.content.strip():
            return f"HTTP {self.status} with an empty body"
        if self.looks_like_html:
            return f"HTTP {self.status} with an HTML page"
        return f"HTTP {self.status}: {self.text[:160].strip()}"


POOL_SIZE = 32  # connections kept per carrier host: the poller asks one carrier from many threads at once


def _pooled_session() -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class Transport:
    """HTTP for one carrier and one credential set.

    `request` returns the response for 2xx-4xx (carriers read their own 400/404 bodies), except:
    401/403 -> PermanentError(code="auth") (after one token refresh when OAuth is used), 429 -> sleep briefly
    or RetryableError(retry_after=...), timeouts/connection errors/5xx -> bounded retries, then RetryableError.
    """

    def __init__(self, *, base_url: str, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 gate: RequestGate | None = None, policy: RetryPolicy | None = None,
                 headers: Mapping[str, str] | None = None, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep, carrier: str = "carrier") -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.gate: RequestGate = gate or OpenGate()
        self.policy = policy or RetryPolicy()
        self.session = session or _pooled_session()
        self.session.headers.update({"User-Agent": USER_AGENT, **(headers or {})})
        self.sleep = sleep
        self.carrier = carrier

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json_body: Any = None, data: Mapping[str, str] | str | None = None,
                headers: Mapping[str, str] | None = None, oauth: OAuthClient | None = None,
                auth: tuple[str, str] | None = None) -> HttpResponse:
        refreshed = False
        while True:
            extra = dict(headers or {})
            if oauth is not None:
                extra["Authorization"] = f"Bearer {oauth.token(transport=self)}"
            response = self._send(method, path, params=params, json_body=json_body, data=data, headers=extra,
                                  auth=auth)
            if response.status in (401, 403):
                if oauth is not None and response.status == 401 and not refreshed:
                    # A token can be revoked or expire early on the carrier's side: fetch a new one, once.
                    oauth.invalidate()
                    refreshed = True
                    continue
                raise PermanentError(f"{self.carrier}: credentials rejected ({response.summary()})", code="auth")
            return response

    def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None, json_body: Any,
              data: Mapping[str, str] | str | None, headers: Mapping[str, str],
              auth: tuple[str, str] | None) -> HttpResponse:
        url = self.url(path)
        waited = 0.0
        attempt = 0
        while True:
            self.gate.acquire()  # raises RetryableError(retry_after=...) when the quota is used up
            problem: str
            try:
                raw = self.session.request(method, url, params=params, json=json_body, data=data,
                                           headers=headers, auth=auth, timeout=self.timeout)
            except requests.Timeout:
                problem = f"timed out after {self.timeout}"
            except requests.ConnectionError as exc:
                problem = f"connection failed ({type(exc).__name__})"
            else:
                response = HttpResponse(raw.status_code, dict(raw.headers), raw.content)
                if response.status == 429:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    wait = retry_after if retry_after is not None else self.policy.delay(attempt)
                    if (attempt >= self.policy.retries or wait > self.policy.max_retry_after_sleep
                            or waited + wait > self.policy.max_total_wait):
                        raise RetryableError(f"{self.carrier}: rate limited (HTTP 429)",
                                             retry_after=retry_after if retry_after is not None else wait)
                    logger.info("%s %s: 429, retrying in %.2fs", self.carrier, path, wait)
                    self.sleep(wait)
                    waited += wait
                    attempt += 1
                    continue
                if response.status not in self.policy.retry_statuses:
                    return response
                problem = response.summary()
            delay = self.policy.delay(attempt)
            if attempt >= self.policy.retries or waited + delay > self.policy.max_total_wait:
                raise RetryableError(f"{self.carrier}: {problem}")
            logger.info("%s %s %s: %s, retry %d in %.2fs", self.carrier, method, path, problem, attempt + 1, delay)
            self.sleep(delay)
            waited += delay
            attempt += 1


# -- OAuth client credentials ---------------------------------------------------------------------------------


@dataclass
class _Token:
    value: str
    refresh_at: float  # time.monotonic(): shortly before the carrier's expiry


_TOKENS: dict[str, _Token] = {}
_TOKENS_LOCK = threading.Lock()
REFRESH_MARGIN = 60.0  # seconds before expiry when a token counts as stale (at most a tenth of its lifetime)


def clear_token_cache() -> None:
    """For tests and credential rotation."""
    with _TOKENS_LOCK:
        _TOKENS.clear()


@dataclass
class OAuthClient:
    """Client-credentials tokens for one credential set, cached process-wide and shared by every instance.

    `style="basic"` sends the client id/secret as HTTP Basic auth (UPS), `"form"` in the form body (FedEx),
    `"json"` in a JSON body (USPS).
    """

    token_path: str
    client_id: str
    client_secret: str
    style: str = "form"
    extra: Mapping[str, str] = field(default_factory=dict)
    _key: str = field(default="", init=False, repr=False)

    def cache_key(self, base_url: str) -> str:
        material = "\x00".join((base_url, self.token_path, self.client_id, self.client_secret))
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def invalidate(self) -> None:
        with _TOKENS_LOCK:
            _TOKENS.pop(self._key, None)

    def token(self, *, transport: Transport) -> str:
        self._key = self.cache_key(transport.base_url)
        with _TOKENS_LOCK:
            cached = _TOKENS.get(self._key)
            if cached and cached.refresh_at > time.monotonic():
                return cached.value
            # Holding the lock while fetching keeps N threads from fetching N tokens; fetches are rare.
            fresh = self._fetch(transport)
            _TOKENS[self._key] = fresh
            return fresh.value

    def _fetch(self, transport: Transport) -> _Token:
        form = {"grant_type": "client_credentials", **self.extra}
        auth: tuple[str, str] | None = None
        json_body: dict[str, str] | None = None
        data: dict[str, str] | None = None
        if self.style == "basic":
            auth, data = (self.client_id, self.client_secret), form
        elif self.style == "json":
            json_body = {**form, "client_id": self.client_id, "client_secret": self.client_secret}
        else:
            data = {**form, "client_id": self.client_id, "client_secret": self.client_secret}
        response = transport._send("POST", self.token_path, params=None, json_body=json_body, data=data,
                                   headers={"Accept": "application/json"}, auth=auth)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status in (400, 401, 403):
            reason = ""
            if isinstance(payload, dict):
                reason = str(payload.get("error_description") or payload.get("error") or "")
            raise PermanentError(f"{transport.carrier}: token request rejected (HTTP {response.status}) {reason}".strip(),
                                 code="auth")
        if response.status >= 300 or not isinstance(payload, dict) or not payload.get("access_token"):
            raise RetryableError(f"{transport.carrier}: no token ({response.summary()})")
        try:
            lifetime = float(payload.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        logger.info("%s: fetched an access token valid for %.0fs", transport.carrier, lifetime)
        margin = min(REFRESH_MARGIN, lifetime / 10)
        return _Token(value=str(payload["access_token"]), refresh_at=time.monotonic() + lifetime - margin)
