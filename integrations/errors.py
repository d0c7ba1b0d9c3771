"""The two failure kinds every adapter raises, so callers decide between "try again later" and "give up"."""
from __future__ import annotations


class IntegrationError(Exception):
    """Base for adapter failures; the message never contains a secret."""


class RetryableError(IntegrationError):
    """The remote side may succeed later (timeout, 5xx, 429, connection dropped)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(IntegrationError):
    """Retrying the same request will not help (bad credentials, validation error, unknown resource)."""

    def __init__(self, message: str, *, code: str = "permanent") -> None:
        super().__init__(message)
        self.code = code
