"""A WooCommerce site's address: what a merchant types, normalized to the URL we call and the domain we key on."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


class ConnectError(Exception):
    """Connecting a site failed for a reason the merchant can fix; `code` names it, the message says how."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SiteUrl:
    url: str  # "https://shop.example.com" or "https://example.com/shop" (WordPress in a folder), no trailing slash
    domain: str  # "shop.example.com" / "example.com/shop": Store.domain, and what X-WC-Webhook-Source names

    @property
    def is_https(self) -> bool:
        return self.url.startswith("https://")


def parse_site_url(raw: str, *, allow_http: bool = False) -> SiteUrl:
    """Normalize a typed store address; plain HTTP is refused (keys would travel in clear) unless allowed."""
    text = (raw or "").strip()
    if not text:
        raise ConnectError("Enter your store's address, e.g. https://shop.example.com", code="invalid_url")
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
        raise ConnectError(f"{raw!r} is not a web address", code="invalid_url")
    if parts.scheme == "http" and not allow_http:
        raise ConnectError("Your store must be served over HTTPS: WooCommerce only hands out API keys and accepts "
                           "them safely over an encrypted connection. Enable SSL on the site and use its https:// "
                           "address.", code="plain_http")
    host = parts.hostname.lower()
    netloc = f"{host}:{parts.port}" if parts.port else host
    path = parts.path.rstrip("/")
    for suffix in ("/wp-admin", "/wp-json"):  # people paste an admin or API address
        if suffix in path:
            path = path[:path.index(suffix)]
    return SiteUrl(url=f"{parts.scheme}://{netloc}{path}", domain=f"{netloc}{path}")


def domain_of(source: str) -> str | None:
    """The domain an `X-WC-Webhook-Source` header (the site's home URL, e.g. "https://shop.example.com/") names."""
    try:
        return parse_site_url(source, allow_http=True).domain
    except (ConnectError, ValueError):  # ValueError: not even a URL (urllib refuses it, e.g. "[")
        return None
