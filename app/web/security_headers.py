"""Security headers on every response: CSP, no sniffing, no referrer leaks, no framing (except the Shopify embed), HSTS."""
from __future__ import annotations

from flask import Flask, Response, current_app, request

# Pages run no inline scripts: their one small script is served from our own origin (app/static/pages.js); the
# Shopify embed sets its own policy. Inline styles are used by the charts and the branded tracking page, and logos
# and product images are merchant-hosted https images.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' https: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"


def _is_https() -> bool:
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.is_secure or forwarded == "https"


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if "Content-Security-Policy" not in headers:  # a page with its own policy (the Shopify embed) keeps it
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers.setdefault("X-Frame-Options", "DENY")
    # Only where TLS is really in front of us: HSTS on a plain-HTTP deployment would lock browsers out.
    if _is_https() and str(current_app.config.get("APP_URL", "")).startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
