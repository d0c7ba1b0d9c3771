"""Links from checklist steps and settings to pages other blueprints own (every blueprint is always registered)."""
from __future__ import annotations

from flask import url_for

# Checklist targets -> endpoint.
ENDPOINTS: dict[str, str] = {
    "esp": "esp.settings",
    "triggers": "esp.triggers",
    "carriers": "carriers.catalog",
    "woocommerce_connect": "woocommerce.connect",
    "shopify_install": "shopify.install",
    "settings": "settings.page",
}


def page_link(target: str | None, **args: object) -> str | None:
    endpoint = ENDPOINTS.get(target or "")
    return url_for(endpoint, **args) if endpoint else None
