"""Phone numbers for ESP profiles: E.164 or nothing, because Klaviyo rejects the whole event for a bad phone."""
from __future__ import annotations

from functools import lru_cache

import phonenumbers


def to_e164(phone: str | None, *, default_region: str | None = None) -> str | None:
    """Return `phone` as E.164 ("+4915112345678"), or None when it is empty, unparseable or not a valid number.

    `default_region` (ISO 3166 alpha-2, e.g. the shipping country) is used for numbers written without a country
    code; shops often store "0151 1234567" exactly as the shopper typed it.
    """
    if not phone or not phone.strip():
        return None
    return _to_e164(phone, default_region.upper() if default_region else None)


# Parsing costs tens of microseconds and a batch sees the same numbers again (checks, bulk entries, retries).
@lru_cache(maxsize=4096)
def _to_e164(phone: str, region: str | None) -> str | None:
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    # An invalid number would make Klaviyo answer 400 for the whole event; dropping the phone keeps the event.
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
