"""Tenant isolation: a merchant signed in to store A gets nothing of store B from any route, with any of B's ids."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import CarrierAccount, DataExport, EspConnection, OutboxItem, Store
from tests.app.dashboard_support import add_event, parcel, sent_event

B_MARKERS = ("shop-b.example", "#B-777", "bertha@b.example", "BBB123456789", "Bertha-Secret-Brand")
PUBLIC = {"static", "health.healthz", "health.readyz", "metrics.metrics"}  # no store data behind them


@pytest.fixture
def stores(session, clock):
    a = Store(platform="shopify", domain="shop-a.myshopify.com", name="A", settings={}, currency="EUR", country="DE")
    b = Store(platform="woocommerce", domain="shop-b.example", name="Bertha-Secret-Brand",
              settings={"brand_color": "#123456"}, currency="EUR", country="DE")
    session.add_all([a, b])
    session.flush()
    shipment = parcel(session, b, number="BBB123456789", order_number="#B-777", email="bertha@b.example",
                      shipped_at=clock.now - timedelta(days=2))
    add_event(session, shipment, at=clock.now - timedelta(days=1), status="in_transit", text="In transit")
    failed = sent_event(session, b, shipment, trigger="Order Shipped", at=clock.now - timedelta(days=1), state="failed",
                        error="refused")
    export = DataExport(store_id=b.id, customer_email="bertha@b.example", orders_count=1, data={"email": "bertha@b.example"})
    session.add_all([export, EspConnection(store_id=b.id, provider="klaviyo", account_name="Bertha-Secret-Brand",
                                           credentials_encrypted="x"),
                     CarrierAccount(store_id=b.id, carrier_code="dhl", credentials_encrypted="y")])
    session.commit()
    return {"a": a.id, "b": b.id, "shipment": shipment.id, "item": failed.id, "export": export.id,
            "token": shipment.tracking_token}


def _url(rule, ids: dict) -> str:
    values = {}
    for name in rule.arguments:
        values[name] = {"shipment_id": ids["shipment"], "item_id": ids["item"], "export_id": ids["export"],
                        "code": "dhl", "filename": "none.css", "token": "not-a-token"}.get(name, ids["b"])
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
    return path


def test_every_route_with_store_b_ids_gives_nothing_of_b(app, client, session, stores):
    with client.session_transaction() as browser:  # signed in to store A only
        browser["store_ids"] = [stores["a"]]
        browser["csrf"] = "csrf-a"
    b = stores["b"]
    form = {"csrf_token": "csrf-a", "store": b, "store_id": b, "shipment_id": stores["shipment"], "item_id": stores["item"],
            "tracking_number": "BBB123456789", "carrier": "dhl", "trigger": "Order Shipped", "enabled": "0",
            "api_key": "pk_attacker000000000000000000000000", "brand_color": "#000000", "retention_days": "1"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        url = _url(rule, stores)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, query_string={"store": b, "shipment": stores["shipment"]},
                                   data=form if method == "POST" else None)
            body = response.get_data(as_text=True)
            assert response.status_code < 500 or response.status_code == 503, (method, url, response.status_code)
            if response.status_code == 200:
                leaked = [m for m in B_MARKERS if m in body]
                assert not leaked, f"{method} {url} shows store B's {leaked}"
            checked += 1
    assert checked > 30

    session.expire_all()  # and nothing of B was changed by A's attempts
    store_b = session.get(Store, b)
    assert store_b.settings == {"brand_color": "#123456"} and store_b.name == "Bertha-Secret-Brand"
    assert session.get(OutboxItem, stores["item"]).state == "failed"
    assert session.scalar(select(EspConnection.credentials_encrypted).where(EspConnection.store_id == b)) == "x"
    assert session.scalar(select(CarrierAccount.credentials_encrypted).where(CarrierAccount.store_id == b)) == "y"
    assert session.get(DataExport, stores["export"]) is not None


def test_tracking_page_leaks_nothing_by_enumeration(client, stores):
    token = stores["token"]
    guesses = [secrets.token_urlsafe(16) for _ in range(10)] + [str(i) for i in range(1, 6)] + [
        token[:-1], token + "x", token.upper() if token.upper() != token else token.lower(), "../" + token, "%00"]
    # The language links echo the requested path; everything else must be the same for every guess.
    answers = {(r.status_code, re.sub(r'<nav class="langs".*?</nav>', "", r.get_data(as_text=True), flags=re.S))
               for r in (client.get(f"/t/{g}") for g in guesses)}
    assert len(answers) == 1 and next(iter(answers))[0] == 404  # one identical answer, whatever was guessed
    assert not any(m in next(iter(answers))[1] for m in B_MARKERS)
    assert client.get(f"/t/{token}").status_code == 200  # the real link works (the token is the secret)
