"""Shopify `tracking_company` names -> our carrier codes; unknown names map to None (the raw name is kept)."""
from __future__ import annotations

import re

# Keys are normalized (lower case, punctuation and spaces collapsed). The names are the ones Shopify offers in
# its carrier picker and the ones merchants and label apps commonly type.
_CARRIER_CODES: dict[str, str] = {
    "dhl": "dhl",
    "dhl express": "dhl",
    "dhl ecommerce": "dhl",
    "dhl ecommerce asia": "dhl",
    "dhl global mail": "dhl",
    # Deutsche Post and DHL Paket are the German parcel/letter network, tracked by DHL Parcel DE.
    "dhl paket": "dhl_parcel_de",
    "dhl parcel": "dhl_parcel_de",
    "dhl parcel de": "dhl_parcel_de",
    "dhl de": "dhl_parcel_de",
    "dhl germany": "dhl_parcel_de",
    "deutsche post": "dhl_parcel_de",
    "deutsche post dhl": "dhl_parcel_de",
    "ups": "ups",
    "ups mail innovations": "ups",
    "fedex": "fedex",
    "fedex express": "fedex",
    "fedex ground": "fedex",
    "usps": "usps",
    "united states postal service": "usps",
    "dpd": "dpd",
    "dpd de": "dpd",
    "dpd germany": "dpd",
    "dpd uk": "dpd",
    "dpd local": "dpd",
    "gls": "gls",
    "gls de": "gls",
    "gls germany": "gls",
    "hermes": "hermes",
    "hermes de": "hermes",
    "hermes germany": "hermes",
    "evri": "hermes",  # Hermes UK was renamed Evri
    "royal mail": "royalmail",
    "parcelforce": "royalmail",
    "parcelforce worldwide": "royalmail",
    "canada post": "canadapost",
    "postes canada": "canadapost",
    "la poste": "laposte",
    "colissimo": "laposte",
    "la poste colissimo": "laposte",
}


def _normalize(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def carrier_code(tracking_company: str | None) -> str | None:
    """Our carrier code for a Shopify tracking company, or None when we do not know it."""
    if not tracking_company:
        return None
    return _CARRIER_CODES.get(_normalize(tracking_company))
