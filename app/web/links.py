"""Links to pages other blueprints own, resolved by path so a page that is not installed yet is simply not linked."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, url_for

# Checklist targets -> (path, endpoint); a path is matched against the URL map, an endpoint is used when present.
TARGETS: dict[str, tuple[str, str]] = {
    "esp": ("/esp", "esp.settings"),
    "triggers": ("/triggers", "esp.triggers"),
    "carriers": ("/carriers", ""),
    "woocommerce_connect": ("/woocommerce/connect", "woocommerce.connect"),
    "store_install": ("/install", ""),
    "settings": ("/settings", "settings.page"),
}


def page_link(target: str | None, **args: object) -> str | None:
    if not target or target not in TARGETS:
        return None
    path, endpoint = TARGETS[target]
    if endpoint and endpoint in current_app.view_functions:
        return url_for(endpoint, **args)
    if any(rule.rule == path and "GET" in (rule.methods or ()) for rule in current_app.url_map.iter_rules()):
        query = urlencode({k: v for k, v in args.items() if v is not None})
        return f"{path}?{query}" if query else path
    return None
