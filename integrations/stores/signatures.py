"""Webhook signatures as Shopify and WooCommerce send them: base64 of HMAC-SHA256(raw body, secret)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Sequence


def _digest(body: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()


def sign(body: bytes, secret: str) -> str:
    """The header value a store would send for `body`."""
    return base64.b64encode(_digest(body, secret)).decode()


def decode_signature(header: str | None) -> bytes | None:
    """The 32 signature bytes, or None when the header is missing or not a base64 SHA-256 digest."""
    if not header:
        return None
    try:
        raw = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == hashlib.sha256().digest_size else None


def signature_matches(*, body: bytes, signature: bytes, secret: str) -> bool:
    return hmac.compare_digest(_digest(body, secret), signature)


def matches_any(*, body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """True when `header` signs the raw `body` under any non-empty secret (current and previous, in a rotation).

    The body must be the bytes as received: re-serialized JSON never matches.
    """
    signature = decode_signature(header)
    if signature is None:
        return False
    matched = False
    for secret in secrets:
        if not secret:  # an unset secret must never verify anything
            continue
        # No early exit: every secret is compared, so timing does not tell which one matched.
        matched |= signature_matches(body=body, signature=signature, secret=secret)
    return matched
