"""to_e164: shop-typed phone numbers to E.164, or None."""
from __future__ import annotations

import pytest

from integrations.esp.phone import to_e164


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("0151 23456789", "DE", "+4915123456789"),
    ("0151 23456789", "de", "+4915123456789"),
    ("+49 (0)151 23456789", None, "+4915123456789"),
    ("(650) 253-0000", "US", "+16502530000"),
    ("+1 650 253 0000", "DE", "+16502530000"),  # an explicit country code wins over the region
    ("020 7946 0018", "GB", "+442079460018"),
    ("0151 23456789", None, None),  # national format without a region: cannot tell the country
    ("12345", "DE", None),
    ("not a phone", "DE", None),
    ("", "DE", None),
    (None, "DE", None),
])
def test_to_e164(raw: str | None, region: str | None, expected: str | None) -> None:
    assert to_e164(raw, default_region=region) == expected
