"""Shopify returns: webhook and GraphQL shapes become return parcels on the order."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from integrations.stores.base import WebhookChange
from integrations.stores.shopify.returns import RETURN_TOPICS, parse_return_node, parse_return_webhook

NOW = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)

RETURN_REQUEST = {
    "id": 9001, "admin_graphql_api_id": "gid://shopify/Return/9001", "status": "requested", "name": "#1001-R1",
    "order": {"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469"},
    "total_return_line_items": 1,
    "return_line_items": [{"id": 1, "quantity": 1, "return_reason": "size_too_small",
                           "fulfillment_line_item": {"id": 2, "line_item": {"id": 466157049,
                                                                            "admin_graphql_api_id": "gid://shopify/LineItem/466157049"}}}],
    "exchange_line_items": [], "return_shipping_fees": [],
}
ATTACH_DELIVERABLE = {
    "id": 7001, "admin_graphql_api_id": "gid://shopify/ReverseDelivery/7001",
    "return": {"id": 9001, "admin_graphql_api_id": "gid://shopify/Return/9001"},
    "shipping_deliverable": {
        "tracking": {"carrier_name": "DHL Parcel", "tracking_number": "00340434161094042557",
                     "tracking_url": "https://www.dhl.de/track?piececode=00340434161094042557"},
        "label": {"public_file_url": "https://cdn.shopify.com/label.pdf", "created_at": "2026-11-20T10:00:00-05:00"},
    },
}
RETURN_NODE = {
    "id": "gid://shopify/Return/9001", "status": "OPEN", "order": {"id": "gid://shopify/Order/450789469"},
    "returnLineItems": {"nodes": [{"fulfillmentLineItem": {"lineItem": {"id": "gid://shopify/LineItem/466157049"}}}]},
    "reverseFulfillmentOrders": {"nodes": [{"reverseDeliveries": {"nodes": [
        {"id": "gid://shopify/ReverseDelivery/7001",
         "deliverable": {"tracking": {"number": "00340434161094042557", "url": None, "carrierName": "DHL Parcel"},
                         "label": {"createdAt": "2026-11-20T15:00:00Z"}}},
        {"id": "gid://shopify/ReverseDelivery/7002", "deliverable": None},  # no label yet
    ]}}]},
}


def test_return_request_names_the_order_and_items():
    change = parse_return_webhook(topic="returns/request", body=json.dumps(RETURN_REQUEST).encode(), received_at=NOW)
    assert (change.return_id, change.order_external_id, change.status) == ("9001", "450789469", "requested")
    assert change.line_item_ids == ("466157049",) and change.parcels == ()


def test_attached_deliverable_is_a_return_parcel():
    change = parse_return_webhook(topic="reverse_deliveries/attach_deliverable", body=json.dumps(ATTACH_DELIVERABLE),
                                  received_at=NOW)
    [parcel] = change.parcels
    assert change.return_id == "9001" and change.order_external_id is None  # look the order up by return id
    assert parcel.is_return and parcel.tracking_number == "00340434161094042557"
    assert parcel.external_id == "return-7001" and parcel.carrier_name == "DHL Parcel"
    assert parcel.created_at == datetime(2026, 11, 20, 15, tzinfo=timezone.utc)
    assert change.webhook_changes() == ()


def test_graphql_return_gives_the_same_parcel_and_its_order():
    change = parse_return_node(RETURN_NODE, received_at=NOW)
    [parcel] = change.parcels
    assert parcel.external_id == "return-7001" and parcel.line_item_ids == ("466157049",)
    assert change.order_external_id == "450789469" and change.status == "open"
    [webhook_change] = change.webhook_changes()
    assert webhook_change.kind == WebhookChange.KIND_ORDER_UPSERT and webhook_change.fulfillment is parcel
    assert webhook_change.order_external_id == "450789469"


def test_a_deliverable_without_tracking_is_nothing_to_track():
    body = {**ATTACH_DELIVERABLE, "shipping_deliverable": {"tracking": {"tracking_number": ""}, "label": None}}
    assert parse_return_webhook(topic="reverse_deliveries/attach_deliverable", body=body, received_at=NOW).parcels == ()


@pytest.mark.parametrize("topic,body", [("returns/approve", {"id": 1}), ("reverse_deliveries/attach_deliverable", {}),
                                        ("orders/create", {"id": 1}), ("returns/request", b"not json")])
def test_malformed_or_foreign_bodies_are_refused(topic, body):
    with pytest.raises(ValueError):
        parse_return_webhook(topic=topic, body=body, received_at=NOW)


def test_topics_cover_returns_and_reverse_deliveries():
    assert "returns/request" in RETURN_TOPICS and "reverse_deliveries/attach_deliverable" in RETURN_TOPICS
