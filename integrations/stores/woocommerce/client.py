"""The one HTTP seam to a WooCommerce site: the `woocommerce` API client with a timeout and error mapping."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import requests
from woocommerce import API

from integrations.errors import PermanentError, RetryableError
from integrations.http_headers import parse_retry_after

log = logging.getLogger(__name__)

API_NAMESPACE = "wc/v3"
USER_AGENT = "Parcelwise/1.0 (+woocommerce)"
PER_PAGE = 100  # the REST API's maximum page size


class WooCommerceError(PermanentError):
    """A WooCommerce answer we cannot use; `code` is WooCommerce's error code (or one of ours)."""

    def __init__(self, message: str, *, code: str, status: int | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int | None
    total_pages: int | None


def _int_header(response: requests.Response, name: str) -> int | None:
    try:
        return int(response.headers.get(name, ""))
    except ValueError:
        return None


class WooClient:
    """Consumer key/secret bound to one site. Over HTTPS the library sends Basic auth; over plain HTTP it signs
    each request with OAuth 1.0a (what WooCommerce requires there), which is why HTTP is only for local use."""

    def __init__(self, *, url: str, consumer_key: str, consumer_secret: str, timeout: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._key = consumer_key
        self._secret = consumer_secret
        self._apis: dict[str, API] = {}

    def __repr__(self) -> str:  # never show the keys
        return f"WooClient(url={self.url!r})"

    def _api(self, namespace: str) -> API:
        if namespace not in self._apis:
            self._apis[namespace] = API(url=self.url, consumer_key=self._key, consumer_secret=self._secret,
                                        version=namespace, timeout=self.timeout, user_agent=USER_AGENT)
        return self._apis[namespace]

    def request(self, method: str, endpoint: str, *, params: Mapping[str, Any] | None = None, data: Any = None,
                namespace: str = API_NAMESPACE) -> requests.Response:
        """Send one request; raise RetryableError / WooCommerceError for anything but a 2xx answer."""
        # Over plain HTTP the library signs these into the URL (OAuth 1.0a) and requests repeats them: harmless,
        # the site reads one value per name. A query inside `endpoint` would break that signing.
        query = {k: _param(v) for k, v in (params or {}).items()}
        api = self._api(namespace)
        try:
            if method == "GET":
                response = api.get(endpoint, params=query)
            elif method == "POST":
                response = api.post(endpoint, data, params=query)
            elif method == "PUT":
                response = api.put(endpoint, data, params=query)
            elif method == "DELETE":
                response = api.delete(endpoint, params=query)
            else:
                raise ValueError(f"unsupported method {method}")
        except requests.Timeout as exc:
            raise RetryableError(f"WooCommerce {self.url}: timed out after {self.timeout:g}s") from exc
        except requests.RequestException as exc:
            raise RetryableError(f"WooCommerce {self.url}: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise error_from_response(response, url=self.url)
        return response

    def index(self, *, plain_permalinks: bool = False) -> requests.Response:
        """The unauthenticated REST index (namespaces); `plain_permalinks` asks `?rest_route=/`, which works even
        when pretty permalinks are off. The library only builds namespaced URLs, hence a direct call here."""
        url = f"{self.url}/?rest_route=/" if plain_permalinks else f"{self.url}/wp-json/"
        try:
            return requests.get(url, timeout=self.timeout, headers={"Accept": "application/json",
                                                                     "User-Agent": USER_AGENT})
        except requests.Timeout as exc:
            raise RetryableError(f"WooCommerce {self.url}: timed out after {self.timeout:g}s") from exc
        except requests.RequestException as exc:
            raise RetryableError(f"WooCommerce {self.url}: {type(exc).__name__}") from exc

    def get_json(self, endpoint: str, *, params: Mapping[str, Any] | None = None,
                 namespace: str = API_NAMESPACE) -> Any:
        return _json(self.request("GET", endpoint, params=params, namespace=namespace), url=self.url)

    def post_json(self, endpoint: str, data: Any, *, namespace: str = API_NAMESPACE) -> Any:
        return _json(self.request("POST", endpoint, data=data, namespace=namespace), url=self.url)

    def put_json(self, endpoint: str, data: Any, *, namespace: str = API_NAMESPACE) -> Any:
        return _json(self.request("PUT", endpoint, data=data, namespace=namespace), url=self.url)

    def get_page(self, endpoint: str, *, params: Mapping[str, Any], page: int) -> Page:
        response = self.request("GET", endpoint, params={**params, "page": page, "per_page": PER_PAGE})
        items = _json(response, url=self.url)
        if not isinstance(items, list):
            raise WooCommerceError(f"WooCommerce {self.url}: {endpoint} did not answer a list", code="bad_response")
        return Page(items=items, total=_int_header(response, "X-WP-Total"),
                    total_pages=_int_header(response, "X-WP-TotalPages"))

    def pages(self, endpoint: str, *, params: Mapping[str, Any]) -> Iterator[Page]:
        """Every page in turn, as long as `X-WP-TotalPages` says there is more."""
        page = 1
        while True:
            current = self.get_page(endpoint, params=params, page=page)
            yield current
            if not current.items or page >= (current.total_pages or 1):
                return
            page += 1


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json(response: requests.Response, *, url: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise WooCommerceError(f"WooCommerce {url}: the answer is not JSON", code="bad_response",
                               status=response.status_code) from exc


def error_from_response(response: requests.Response, *, url: str) -> Exception:
    """WooCommerce answers errors as {code, message, data: {status}}; map them to our two failure kinds."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    code = str(body.get("code")) if isinstance(body, dict) and body.get("code") else f"http_{status}"
    message = str(body.get("message")) if isinstance(body, dict) and body.get("message") else response.reason
    if status == 429 or status >= 500:
        return RetryableError(f"WooCommerce {url}: {status} {code}",
                              retry_after=parse_retry_after(response.headers.get("Retry-After")))
    return WooCommerceError(f"WooCommerce {url}: {status} {code}: {message}"[:500], code=code, status=status)
