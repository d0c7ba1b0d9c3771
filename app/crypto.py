"""Secrets at rest: JSON values encrypted with Fernet (AES-128-CBC + HMAC); keys can be rotated with MultiFernet."""
from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class Vault:
    """Encrypts and decrypts secret values; `ENCRYPTION_KEY` may list several keys, newest first, comma-separated."""

    def __init__(self, keys: str) -> None:
        self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])

    def encrypt(self, value: Any) -> str:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()

    def decrypt(self, token: str | None) -> Any:
        if not token:
            return None
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:  # wrong ENCRYPTION_KEY: say so without echoing anything secret
            raise RuntimeError("cannot decrypt a stored secret: ENCRYPTION_KEY does not match the one used to store it") from exc

    def rotate(self, token: str) -> str:
        """The same secret encrypted with the newest key (the first of ENCRYPTION_KEY); fails on an unknown key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise RuntimeError("cannot decrypt a stored secret: none of the ENCRYPTION_KEY keys matches it") from exc

    def __repr__(self) -> str:  # never show key material in logs or tracebacks
        return "Vault(<keys hidden>)"
