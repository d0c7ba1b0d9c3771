"""Order mapping on WooCommerce's published REST v3 examples, and tracking items from the three plugins' shapes."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from app.services.orders import resolve_carrier
from integrations.stores.base import WebhookChange
from integrations.stores.woocommerce.carriers import provider_carrier
from integrations.stores.woocommerce.orders import parse_order
from integrations.stores.woocommerce.tracking import items_from_meta, items_from_rest, parse_date_shipped
from integrations.stores.woocommerce.webhooks import parse_webhook
from tests.fakes.woocommerce import FakeWooCommerce

SAMPLES = Path(__file__).resolve().parents[5] / "shared" / "vendor-samples" / "woocommerce"


def sample(name: str):
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"vendor sample {name} not available")
    return json.loads(path.read_text())


def test_the_documented_order_maps_to_a_store_order():
    order = parse_order(sample("rest_v3_order_retrieve_727.json"), site_url="https://example.com")
    assert order.external_id == "727" and order.number == "727"
    assert order.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=timezone.utc)  # the _gmt field, not local
    assert order.updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=timezone.utc)
    assert order.currency == "USD" and order.total == Decimal("29.35")
    assert order.email == "john.doe@example.com" and order.phone == "(555) 555-5555"
    assert order.customer_id is None  # guest checkout (customer_id 0)
    assert order.shipping_address.country_code == "US" and order.shipping_address.postcode == "94103"
    first, second = order.line_items
    assert (first.title, first.sku, first.quantity, first.price) == ("Woo Single #1", None, 2, Decimal("3"))
    assert second.title == "Ship Your Idea – Color: Black, Size: M Test"  # HTML entities decoded
    assert second.sku == "Bar3" and second.variant_title == "black / M Test"
    assert order.order_url == "https://example.com/checkout/order-received/727/?key=wc_order_58d2d042d1d"
    assert order.fulfillments == () and not order.cancelled


@pytest.mark.parametrize("name", ["rest_v3_orders_list.json"])
def test_every_order_of_the_documented_list_maps(name):
    orders = [parse_order(o) for o in sample(name)]
    assert [o.external_id for o in orders] == ["727", "723"]


def test_the_fake_serves_the_documented_order_shape():
    documented = set(sample("rest_v3_order_retrieve_727.json"))
    with FakeWooCommerce(orders=1) as fake:
        generated = next(iter(fake.orders.values()))
    assert documented <= set(generated)
    assert set(sample("rest_v3_order_retrieve_727.json")["line_items"][0]) <= set(generated["line_items"][0])


def test_a_webhook_body_is_the_order_json():
    body = json.dumps(sample("rest_v3_order_update_response.json")).encode()
    change = parse_webhook(topic="order.updated", body=body)
    assert change.kind == WebhookChange.KIND_ORDER_UPSERT and change.order.external_id == "727"
    deleted = parse_webhook(topic="order.deleted", body=b'{"id": 727}')
    assert deleted.kind == WebhookChange.KIND_ORDER_DELETED and deleted.order_external_id == "727"
    assert parse_webhook(topic="product.updated", body=b"{}").kind == WebhookChange.KIND_IGNORED
    with pytest.raises(ValueError):
        parse_webhook(topic="order.updated", body=b"not json")


SHIPMENT_TRACKING_META = [{"id": 1, "key": "_wc_shipment_tracking_items", "value": [
    {"tracking_provider": "dhl-de", "custom_tracking_provider": "", "custom_tracking_link": "",
     "tracking_number": "00340434161094042557", "date_shipped": "1763884800", "tracking_id": "a1b2c3"}]}]
AST_META = [{"id": 2, "key": "_wc_shipment_tracking_items", "value": [
    {"tracking_provider": "ups", "custom_tracking_provider": "", "custom_tracking_link": "",
     "formatted_tracking_provider": "UPS", "tracking_number": "1Z999AA10123456784", "date_shipped": "1763884800",
     "status_shipped": "1", "tracking_id": "d4e5f6", "products_list": [{"product": 93, "item_id": 315, "qty": 1}]},
    {"tracking_provider": "deutsche-post", "tracking_number": "RR123456785DE", "date_shipped": "1763971200",
     "tracking_id": "g7h8", "is_return": "1"}]}]
AFTERSHIP_META = [{"id": 3, "key": "_aftership_tracking_items", "value": [
    {"tracking_id": "5f0e", "tracking_number": "9400111899223197428490", "slug": "usps",
     "additional_fields": {"account_number": "", "key": "", "postal_code": "", "ship_date": "20251123",
                           "destination_country": "USA", "state": ""},
     "line_items": [{"id": 316, "quantity": 1}], "metrics": {"created_at": "2025-11-23T10:00:00+00:00"}}]}]


def test_tracking_items_from_each_plugin():
    st, = items_from_meta(SHIPMENT_TRACKING_META)
    assert (st.tracking_number, st.carrier_code, st.carrier_name) == ("00340434161094042557", "dhl_parcel_de", "DHL Paket")
    assert st.date_shipped == datetime(2025, 11, 23, 8, 0, tzinfo=timezone.utc) and st.external_id == "st-a1b2c3"
    ups, ret = items_from_meta(AST_META)
    assert ups.carrier_code == "ups" and ups.line_item_ids == ("315",) and not ups.is_return
    assert ret.carrier_code == "dhl_parcel_de" and ret.is_return
    usps, = items_from_meta(AFTERSHIP_META)
    assert usps.carrier_code == "usps" and usps.line_item_ids == ("316",) and usps.external_id == "as-5f0e"
    assert usps.date_shipped == datetime(2025, 11, 23, 12, 0, tzinfo=timezone.utc)  # date only: midday UTC


def test_tracking_items_from_the_rest_endpoint_match_the_meta_ids():
    rest, = items_from_rest([{"tracking_id": "a1b2c3", "tracking_provider": "DHL Intraship (DE)",
                              "tracking_link": "https://nolp.dhl.de/?idc=003404", "tracking_number": "00340434161094042557",
                              "date_shipped": "2025-11-23"}])
    assert rest.external_id == items_from_meta(SHIPMENT_TRACKING_META)[0].external_id
    assert rest.carrier_code == "dhl_parcel_de" and rest.tracking_url.startswith("https://nolp.dhl.de")


def test_json_encoded_meta_values_and_php_objects_are_read():
    encoded = [{"id": 1, "key": "_wc_shipment_tracking_items", "value": json.dumps(SHIPMENT_TRACKING_META[0]["value"])}]
    assert items_from_meta(encoded)[0].tracking_number == "00340434161094042557"
    as_object = [{"id": 1, "key": "_wc_shipment_tracking_items", "value": {"0": SHIPMENT_TRACKING_META[0]["value"][0]}}]
    assert len(items_from_meta(as_object)) == 1


@pytest.mark.parametrize("provider, code", [
    ("dhl-de", "dhl_parcel_de"), ("deutsche-post", "dhl_parcel_de"), ("deutsch-post", "dhl_parcel_de"),
    ("DHL Intraship (DE)", "dhl_parcel_de"), ("dhl", "dhl"), ("dhl-express", "dhl"), ("dpd-de", "dpd"),
    ("DPD.de", "dpd"), ("ups", "ups"), ("UPS Germany", "ups"), ("fedex", "fedex"), ("usps", "usps"),
    ("gls", "gls"), ("hermes-de", "hermes"), ("evri", "hermes"), ("royal-mail", "royalmail"),
    ("Sandbox Express", "sandbox"), ("Acme Couriers", None),
])
def test_provider_names_map_to_our_carriers(provider, code):
    assert provider_carrier(provider)[0] == code


@pytest.mark.parametrize("provider", ["dhl-de", "dhl", "ups", "fedex", "usps", "sandbox-express"])
def test_the_names_we_keep_resolve_to_the_same_adapter(provider):
    code, name = provider_carrier(provider)
    assert resolve_carrier(carrier_name=name, tracking_number="X") == code


def test_date_shipped_formats():
    assert parse_date_shipped("1763884800") == datetime(2025, 11, 23, 8, 0, tzinfo=timezone.utc)
    assert parse_date_shipped("") is None and parse_date_shipped("garbage") is None
