"""Admin GraphQL client: one request seam, cost-based throttling, bounded retries, errors as the two kinds."""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import requests

from integrations.errors import PermanentError, RetryableError
from integrations.http_headers import parse_retry_after
from integrations.stores.shopify.oauth import DEFAULT_BASE_URL_TEMPLATE, admin_url

logger = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2026-10"
ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before giving the decision back to the caller (as RetryableError)."""

    server_retries: int = 2  # extra attempts after a 5xx, timeout or dropped connection
    backoff: tuple[float, ...] = (0.5, 2.0)  # seconds before retry 1, 2, ... (last value repeats)
    throttle_retries: int = 8  # THROTTLED errors and 429s waited out within one call
    max_wait: float = 60.0  # never sleep longer than this inside a call; hand back to the scheduler instead

    def backoff_for(self, attempt: int) -> float:
        return self.backoff[min(attempt, len(self.backoff)) - 1] if self.backoff else 0.0


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float


@dataclass(frozen=True)
class QueryCost:
    requested: float
    actual: float | None
    throttle: ThrottleStatus | None

    @classmethod
    def from_extensions(cls, extensions: Any) -> QueryCost | None:
        cost = extensions.get("cost") if isinstance(extensions, Mapping) else None
        if not isinstance(cost, Mapping):
            return None
        status = cost.get("throttleStatus")
        throttle = None
        if isinstance(status, Mapping):
            try:
                throttle = ThrottleStatus(float(status["maximumAvailable"]), float(status["currentlyAvailable"]),
                                          float(status["restoreRate"]))
            except (KeyError, TypeError, ValueError):
                throttle = None
        try:
            requested = float(cost.get("requestedQueryCost") or 0)
        except (TypeError, ValueError):
            requested = 0.0
        actual = cost.get("actualQueryCost")
        return cls(requested=requested, actual=float(actual) if isinstance(actual, (int, float)) else None,
                   throttle=throttle)

    def wait_for(self, needed: float | None = None) -> float:
        """Seconds until the bucket holds `needed` points (default: this query's requested cost)."""
        if self.throttle is None or self.throttle.restore_rate <= 0:
            return 1.0
        missing = (self.requested if needed is None else needed) - self.throttle.currently_available
        return max(missing, 0.0) / self.throttle.restore_rate


def _error_codes(errors: Any) -> list[str]:
    codes = []
    if isinstance(errors, list):
        for error in errors:
            ext = error.get("extensions") if isinstance(error, Mapping) else None
            if isinstance(ext, Mapping) and ext.get("code"):
                codes.append(str(ext["code"]))
    return codes


def _error_text(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors)[:500]
    return str(errors)[:500]


class ShopifyGraphQL:
    """A client for one shop's Admin GraphQL API at a pinned version."""

    def __init__(self, *, shop: str, access_token: str | Callable[[], str], api_version: str = DEFAULT_API_VERSION,
                 admin_base_url_template: str = DEFAULT_BASE_URL_TEMPLATE, timeout: float = 10.0,
                 session: requests.Session | None = None, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.shop = shop
        self.api_version = api_version
        self.url = admin_url(shop, f"/admin/api/{api_version}/graphql.json",
                             admin_base_url_template=admin_base_url_template)
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        # A callable lets the app hand in "the current token, refreshed if due" for long backfills.
        self._access_token = access_token
        self._session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._last_cost: QueryCost | None = None
        self._last_cost_at = 0.0
        self._query_costs: dict[str, float] = {}

    def __repr__(self) -> str:  # the token is deliberately absent
        return f"ShopifyGraphQL(shop={self.shop!r}, api_version={self.api_version!r})"

    # -- the seam ----------------------------------------------------------------------------------------

    def _token(self) -> str:
        return self._access_token() if callable(self._access_token) else self._access_token

    def _request(self, payload: Mapping[str, Any]) -> requests.Response:
        return self._session.post(
            self.url, json=payload, timeout=self.timeout,
            headers={ACCESS_TOKEN_HEADER: self._token(), "Content-Type": "application/json",
                     "Accept": "application/json"})

    # -- throttling --------------------------------------------------------------------------------------

    @staticmethod
    def _query_key(query: str) -> str:
        return hashlib.sha1(query.encode("utf-8"), usedforsecurity=False).hexdigest()

    def _note_cost(self, query: str, cost: QueryCost | None) -> None:
        if cost is None:
            return
        self._last_cost = cost
        self._last_cost_at = self._clock()
        if cost.requested:
            self._query_costs[self._query_key(query)] = cost.requested

    def _wait_for_budget(self, query: str) -> None:
        """Before a call, wait until the bucket (as last reported, plus what has leaked back since) holds what
        this query cost last time: cheaper than being THROTTLED and retrying."""
        needed = self._query_costs.get(self._query_key(query))
        last = self._last_cost
        if needed is None or last is None or last.throttle is None or last.throttle.restore_rate <= 0:
            return
        status = last.throttle
        elapsed = max(self._clock() - self._last_cost_at, 0.0)
        available = min(status.maximum_available, status.currently_available + elapsed * status.restore_rate)
        if needed > available:
            wait = min((needed - available) / status.restore_rate, self.policy.max_wait)
            logger.debug("Shopify %s: waiting %.2fs for %s cost points", self.shop, wait, needed)
            self._sleep(wait)

    def _throttle_pause(self, attempt: int, wait: float, why: str) -> None:
        if attempt > self.policy.throttle_retries or wait > self.policy.max_wait:
            raise RetryableError(f"Shopify {self.shop} {why}", retry_after=wait)
        logger.info("Shopify %s %s; retrying in %.2fs", self.shop, why, wait)
        self._sleep(wait)

    def _server_pause(self, failures: int, why: str, cause: BaseException | None = None) -> int:
        """Count one more server-side failure: back off and return the new count, or raise once retries are spent."""
        failures += 1
        if failures > self.policy.server_retries:
            raise RetryableError(f"Shopify {self.shop} {why}") from cause
        self._sleep(self.policy.backoff_for(failures))
        return failures

    # -- public ------------------------------------------------------------------------------------------

    def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run a query or mutation and return its `data`. Raises RetryableError / PermanentError."""
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = dict(variables)
        self._wait_for_budget(query)
        failures = 0
        throttled = 0
        while True:
            try:
                response = self._request(payload)
            except (requests.Timeout, requests.ConnectionError) as exc:
                failures = self._server_pause(failures, f"unreachable: {type(exc).__name__}", exc)
                continue
            status = response.status_code
            if status == 429:
                throttled += 1
                wait = parse_retry_after(response.headers.get("Retry-After"))
                self._throttle_pause(throttled, 1.0 if wait is None else wait, "answered 429")  # no hint: a second
                continue
            if status >= 500:
                failures = self._server_pause(failures, f"answered {status}")
                continue
            if status == 401:
                # Expired or revoked token: refreshing (or reinstalling) is the app's call, not a retry.
                raise PermanentError(f"Shopify {self.shop} rejected the access token", code="auth")
            if status in (402, 423):
                raise PermanentError(f"Shopify {self.shop} is frozen or locked (HTTP {status})",
                                     code="shop_unavailable")
            if status == 403:
                raise PermanentError(f"Shopify {self.shop} denied access (scope missing?)", code="forbidden")
            if status == 404:
                raise PermanentError(f"Shopify {self.shop} not found (HTTP 404)", code="not_found")
            if status != 200:
                raise PermanentError(f"Shopify {self.shop} answered HTTP {status}", code=f"http_{status}")
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, Mapping):
                failures = self._server_pause(failures, "answered 200 without a JSON object")
                continue
            cost = QueryCost.from_extensions(body.get("extensions"))
            self._note_cost(query, cost)
            errors = body.get("errors")
            if errors:
                codes = _error_codes(errors)
                if "THROTTLED" in codes:
                    throttled += 1
                    self._throttle_pause(throttled, cost.wait_for() if cost else 1.0, "throttled the query")
                    continue
                if "INTERNAL_SERVER_ERROR" in codes:
                    failures = self._server_pause(failures, f"internal error: {_error_text(errors)}")
                    continue
                if "ACCESS_DENIED" in codes:
                    raise PermanentError(f"Shopify {self.shop} denied access: {_error_text(errors)}",
                                         code="forbidden")
                if "MAX_COST_EXCEEDED" in codes:
                    raise PermanentError(f"query too expensive for {self.shop}: {_error_text(errors)}",
                                         code="query_cost")
                raise PermanentError(f"Shopify {self.shop} GraphQL error: {_error_text(errors)}", code="graphql")
            data = body.get("data")
            if not isinstance(data, dict):
                raise PermanentError(f"Shopify {self.shop} answered without data", code="bad_response")
            return data
