"""Check a consumer key/secret against a site before saving them, with an answer a merchant can act on."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import requests

from integrations.errors import RetryableError
from integrations.stores.woocommerce.client import API_NAMESPACE, WooClient, WooCommerceError
from integrations.stores.woocommerce.site import ConnectError
from integrations.stores.woocommerce.tracking import TRACKING_NAMESPACES

log = logging.getLogger(__name__)

# 401 codes WooCommerce answers for keys it does not accept (unknown key, bad signature, revoked user).
WRONG_KEY_CODES = frozenset({"woocommerce_rest_authentication_error", "woocommerce_rest_cannot_view",
                             "rest_forbidden", "woocommerce_rest_cannot_create", "json_oauth1_signature_mismatch"})


@dataclass(frozen=True)
class SiteInfo:
    namespaces: tuple[str, ...]
    tracking_namespace: str | None  # the shipment-tracking plugin's REST namespace, when one is active


def _namespaces(response: requests.Response) -> tuple[str, ...] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    names = body.get("namespaces") if isinstance(body, dict) else None
    return tuple(str(n) for n in names) if isinstance(names, list) else None


def _diagnose_missing_api(client: WooClient) -> ConnectError:
    """/wp-json answered 404: pretty permalinks off, WooCommerce missing, or not WordPress at all."""
    try:
        plain = _namespaces(client.index(plain_permalinks=True))
    except RetryableError:
        plain = None
    if plain is not None and API_NAMESPACE in plain:
        return ConnectError("Your store's REST API is unreachable because WordPress permalinks are set to 'Plain'. "
                            "In WordPress go to Settings > Permalinks, choose 'Post name' and save, then try again.",
                            code="permalinks")
    if plain is not None:
        return ConnectError("This WordPress site has no WooCommerce REST API: is the WooCommerce plugin installed "
                            "and active?", code="not_woocommerce")
    return ConnectError(f"{client.url} does not look like a WooCommerce store (no WordPress REST API found).",
                        code="not_woocommerce")


def verify_keys(client: WooClient) -> SiteInfo:
    """One authenticated GET of the orders list; raises ConnectError with a clear reason, RetryableError when the
    site could not be reached."""
    try:
        orders = client.get_json("orders", params={"per_page": 1})
    except WooCommerceError as exc:
        if exc.code == "bad_response":
            raise ConnectError(f"{client.url} does not look like a WooCommerce store (its API did not answer "
                               "JSON).", code="not_woocommerce") from exc
        if exc.status == 401 or exc.code in WRONG_KEY_CODES:
            raise ConnectError("WooCommerce did not accept these API keys. Check the consumer key and secret "
                               "(WooCommerce > Settings > Advanced > REST API) and that the key has Read/Write "
                               "permission.", code="wrong_keys") from exc
        if exc.code == "rest_no_route":
            raise ConnectError("This WordPress site has no WooCommerce REST API: is the WooCommerce plugin "
                               "installed and active?", code="not_woocommerce") from exc
        if exc.status == 404:
            raise _diagnose_missing_api(client) from exc
        raise ConnectError(f"Your store answered an unexpected error ({exc.code}).", code="unexpected") from exc
    except RetryableError as exc:
        raise ConnectError(f"Could not reach {client.url}: {exc}", code="unreachable") from exc
    if not isinstance(orders, list):
        raise ConnectError(f"{client.url} does not look like a WooCommerce store (unexpected orders answer).",
                           code="not_woocommerce")
    try:
        namespaces = _namespaces(client.index()) or ()
    except RetryableError:
        namespaces = ()
    tracking = next((ns for ns in TRACKING_NAMESPACES if ns in namespaces), None)
    return SiteInfo(namespaces=namespaces, tracking_namespace=tracking)
