"""WC Auth key grant: the authorize URL we send the merchant to, and the keys WooCommerce posts to our callback."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

AUTHORIZE_PATH = "/wc-auth/v1/authorize"
SCOPES = ("read", "write", "read_write")


def authorize_url(*, site_url: str, app_name: str, user_id: str, return_url: str, callback_url: str,
                  scope: str = "read_write") -> str:
    """Where the merchant approves the key; WooCommerce refuses a callback_url that is not https://."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    query = urlencode({"app_name": app_name, "scope": scope, "user_id": user_id, "return_url": return_url,
                       "callback_url": callback_url})
    return f"{site_url.rstrip('/')}{AUTHORIZE_PATH}?{query}"


@dataclass(frozen=True)
class KeyGrant:
    key_id: int | None
    user_id: str  # what we sent as user_id: our one-time nonce
    consumer_key: str
    consumer_secret: str
    key_permissions: str

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"KeyGrant(key_id={self.key_id!r}, user_id=..., key_permissions={self.key_permissions!r})"


def parse_key_grant(body: bytes) -> KeyGrant:
    """The JSON WooCommerce posts to callback_url; ValueError when it is not that."""
    try:
        data: Any = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("callback body is not JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("callback body is not an object")
    fields = {name: data.get(name) for name in ("user_id", "consumer_key", "consumer_secret", "key_permissions")}
    missing = [name for name, value in fields.items() if not isinstance(value, (str, int)) or value == ""]
    if missing:
        raise ValueError(f"callback body lacks {', '.join(missing)}")
    key_id = data.get("key_id")
    return KeyGrant(key_id=int(key_id) if str(key_id or "").isdigit() else None, user_id=str(fields["user_id"]),
                    consumer_key=str(fields["consumer_key"]), consumer_secret=str(fields["consumer_secret"]),
                    key_permissions=str(fields["key_permissions"]))
