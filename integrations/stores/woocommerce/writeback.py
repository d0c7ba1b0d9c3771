"""Write-back to the store: a private order note on key shipment events, and optionally `completed` on delivery."""
from __future__ import annotations

import logging
from typing import Any

from integrations.stores.woocommerce.client import WooClient

log = logging.getLogger(__name__)


def note_text(*, headline: str, carrier_name: str | None, tracking_number: str, tracking_url: str | None,
              detail: str | None, reference: str) -> str:
    """The note a merchant reads in the order screen; `reference` makes a retried note recognizable."""
    lines = [f"{headline}: {carrier_name or 'parcel'} {tracking_number}"]
    if detail:
        lines.append(detail)
    if tracking_url:
        lines.append(tracking_url)
    lines.append(f"(Parcelwise ref {reference})")
    return "\n".join(lines)


def note_exists(client: WooClient, *, order_id: str, reference: str) -> bool:
    """Whether an earlier attempt already wrote the note (its answer may have been lost)."""
    notes = client.get_json(f"orders/{order_id}/notes", params={"type": "internal"})
    return any(reference in str(n.get("note", "")) for n in notes if isinstance(n, dict))


def add_private_note(client: WooClient, *, order_id: str, note: str) -> dict[str, Any]:
    """POST a note only the shop's staff see (`customer_note: false`: no email to the shopper)."""
    return client.post_json(f"orders/{order_id}/notes", {"note": note, "customer_note": False})


def complete_order(client: WooClient, *, order_id: str) -> dict[str, Any]:
    """Set the order to `completed` (idempotent; WooCommerce sends its own "order completed" email)."""
    return client.put_json(f"orders/{order_id}", {"status": "completed"})
