"""Provider names of the tracking plugins (Shipment Tracking, Advanced Shipment Tracking, AfterShip) -> our carriers."""
from __future__ import annotations

import re

# Normalized provider (lower case, letters and digits only) -> (our carrier code, the name we show and send).
# The shown names are ones `resolve_carrier` maps back to the same code. Slugs come from the plugins' provider
# lists: Shipment Tracking sanitizes its display names ("DHL Intraship (DE)" -> "dhl-intraship-de"), AST uses
# its own slugs ("dhl-de", "deutsche-post"), AfterShip its courier slugs ("dhl-germany", "deutsch-post").
_PROVIDERS: dict[str, tuple[str, str]] = {}


def _add(code: str, display: str, *names: str) -> None:
    for name in (display, *names):
        _PROVIDERS[re.sub(r"[^a-z0-9]", "", name.lower())] = (code, display)


_add("dhl_parcel_de", "DHL Paket", "dhl-de", "dhl-germany", "dhl-paket", "dhl-intraship-de", "dhl-intraship",
     "deutsche-post", "deutsche-post-dhl", "deutsch-post", "dhl-parcel-de", "dhl-deutschland", "dhl paket de")
_add("dhl", "DHL Express", "dhl", "dhl-express", "dhl-us", "dhl-global", "dhl-global-mail", "dhl-ecommerce",
     "dhl-global-forwarding", "dhl-uk", "dhl-parcel-uk", "dhl-parcel-nl", "dhl-nl", "dhl-es", "dhl-pl")
_add("ups", "UPS", "ups", "ups-germany", "ups-de", "ups-uk", "ups-us", "ups-mail-innovations", "ups-freight")
_add("fedex", "FedEx", "fedex", "fedex-ground", "fedex-express", "fedex-sameday", "fedex-uk", "fedex-de")
_add("usps", "USPS", "usps", "united-states-postal-service")
_add("dpd", "DPD", "dpd", "dpd-de", "dpd.de", "dpd-uk", "dpd-local", "dpd-at", "dpd-nl", "dpd-fr", "dpd-pl")
_add("gls", "GLS", "gls", "gls-de", "gls-germany", "gls-nl", "gls-at", "gls-it", "gls-es")
_add("hermes", "Hermes", "hermes", "hermes-de", "hermes-germany", "hermes-uk", "evri", "myhermes-uk")
_add("royalmail", "Royal Mail", "royal-mail", "parcelforce", "parcel-force", "parcelforce-worldwide")
_add("canadapost", "Canada Post", "canada-post", "postes-canada")
_add("laposte", "La Poste", "la-poste", "colissimo", "la-poste-colissimo")
_add("sandbox", "Sandbox Express", "sandbox", "sandbox-express")


def provider_carrier(provider: str | None) -> tuple[str | None, str | None]:
    """(our carrier code or None, the carrier name to keep) for a plugin's provider slug or display name."""
    if not provider or not provider.strip():
        return None, None
    key = re.sub(r"[^a-z0-9]", "", provider.lower())
    if key in _PROVIDERS:
        return _PROVIDERS[key]
    # "DHL Paket (Germany)", "UPS Standard": the longest known name the text starts with.
    for known in sorted(_PROVIDERS, key=len, reverse=True):
        if len(known) >= 3 and key.startswith(known):
            return _PROVIDERS[known]
    return None, provider.strip()
