"""Dashboard pages: onboarding checklist, shipment search and filters, event log by trigger, analytics, settings, scoping."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import CarrierAccount, EspConnection, Store
from app.services.catalog import Trigger
from tests.app.dashboard_support import add_event, csrf_from, parcel, sent_event
from tests.app.factories import hours, make_store

KEY = "pk_live_0123456789abcdefghijklmnop"


def _step(html: str, key: str) -> str:
    start = html.index(f'data-step="{key}"')
    return html[html.rindex("<li", 0, start):html.index("</li>", start)]


def test_checklist_shows_each_step_with_its_state_and_next_action(client, session, clock, runtime):
    store = make_store(session)
    dhl = parcel(session, store, number="00340434161094042557", order_number="#1001", shipped_at=clock.now - hours(30),
                 carrier="dhl")
    session.commit()
    html = client.get(f"/?store={store.id}").get_data(as_text=True)
    assert "0 of 4" not in html and 'id="checklist-done">1<' in html  # only the (sandbox) store step is done
    esp = _step(html, "esp")
    assert "todo" in esp and "Paste your Klaviyo private key" in esp and f"/esp?store={store.id}" in esp
    assert "Credentials needed for DHL" in _step(html, "carriers")
    first = _step(html, "first_event")
    assert "todo" in first and f"/triggers?store={store.id}" in first

    session.add(EspConnection(store_id=store.id, provider="klaviyo", status="active", account_name="Acme",
                              credentials_encrypted=runtime.vault.encrypt({"api_key": KEY})))
    session.add(CarrierAccount(store_id=store.id, carrier_code="dhl", verified_at=clock.now,
                               credentials_encrypted=runtime.vault.encrypt({"api_key": "k"})))
    sent_event(session, store, dhl, trigger=Trigger.ORDER_SHIPPED, at=clock.now, via="klaviyo")
    session.commit()
    html = client.get(f"/?store={store.id}").get_data(as_text=True)
    assert 'id="checklist-done">4<' in html
    assert "Klaviyo account Acme is connected" in _step(html, "esp") and "Tracking DHL" in _step(html, "carriers")
    assert "First event delivered to Klaviyo" in _step(html, "first_event")


def test_paused_esp_is_not_done(client, session):
    store = make_store(session)
    session.add(EspConnection(store_id=store.id, provider="klaviyo", status="paused", paused_reason="key revoked"))
    session.commit()
    step = _step(client.get(f"/?store={store.id}").get_data(as_text=True), "esp")
    assert "todo" in step and "key revoked" in step and "Fix the ESP connection" in step


def test_shipments_search_filters_and_counts(client, session, clock):
    store = make_store(session)
    now = clock.now
    delivered = parcel(session, store, number="SBX-AAA-1", order_number="#2001", shipped_at=now - timedelta(days=3),
                       email="carla@example.com", status="delivered")
    failed = parcel(session, store, number="SBX-BBB-2", order_number="#2002", shipped_at=now - timedelta(days=1),
                    email="dieter@example.com", status="failed_attempt")
    stalled = parcel(session, store, number="SBX-CCC-3", order_number="#2003", shipped_at=now - timedelta(days=6),
                     carrier="dhl", status="in_transit")
    stalled.last_event_at = now - timedelta(days=5)
    delayed = parcel(session, store, number="SBX-DDD-4", order_number="#2004", shipped_at=now - hours(20), status="in_transit")
    delayed.delay_open = True
    session.commit()

    def rows(query: str) -> set[str]:
        html = client.get(f"/shipments?store={store.id}&{query}").get_data(as_text=True)
        return {n for n in ("SBX-AAA-1", "SBX-BBB-2", "SBX-CCC-3", "SBX-DDD-4") if n in html.split('id="shipments"')[1]}

    assert rows("") == {"SBX-AAA-1", "SBX-BBB-2", "SBX-CCC-3", "SBX-DDD-4"}
    assert rows("q=BBB") == {"SBX-BBB-2"}  # tracking number
    assert rows("q=%232003") == {"SBX-CCC-3"} and rows("q=2003") == {"SBX-CCC-3"}  # order number, with or without #
    assert rows("q=carla%40example") == {"SBX-AAA-1"}  # email
    assert rows("status=delivered") == {"SBX-AAA-1"}
    assert rows("carrier=dhl") == {"SBX-CCC-3"}
    assert rows(f"date_from={(now - timedelta(days=2)).date()}") == {"SBX-BBB-2", "SBX-DDD-4"}
    assert rows(f"date_to={(now - timedelta(days=3)).date()}") == {"SBX-AAA-1", "SBX-CCC-3"}
    assert rows("problem=failed_attempt") == {"SBX-BBB-2"}
    assert rows("problem=stalled") == {"SBX-CCC-3"}
    assert rows("problem=delayed") == {"SBX-DDD-4"}
    assert rows("problem=any") == {"SBX-BBB-2", "SBX-CCC-3", "SBX-DDD-4"}
    assert rows("status=nonsense&problem=nonsense&date_from=yesterday") == rows("")  # bad values are ignored
    html = client.get(f"/shipments?store={store.id}&problem=any").get_data(as_text=True)
    assert 'id="match-total">3<' in html and "in_transit 2" in html and "failed_attempt 1" in html
    assert failed.id and delivered.id


def test_shipments_paginate_with_page_count(client, session, clock):
    store = make_store(session)
    for i in range(55):
        parcel(session, store, number=f"PG-{i:03d}", order_number=f"#{3000 + i}", shipped_at=clock.now - timedelta(minutes=i))
    session.commit()
    first = client.get(f"/shipments?store={store.id}").get_data(as_text=True)
    assert 'id="match-total">55<' in first and "page 1 of 2" in first and "PG-000" in first and "PG-054" not in first
    second = client.get(f"/shipments?store={store.id}&page=2").get_data(as_text=True)
    assert "PG-054" in second and "PG-000" not in second and "page 2 of 2" in second


def test_shipment_page_shows_timeline_events_and_retry(client, session, clock):
    store = make_store(session)
    shipment = parcel(session, store, number="TL-1", order_number="#4001", shipped_at=clock.now - hours(30))
    add_event(session, shipment, at=clock.now - hours(20), status="in_transit", text="Arrived at hub", location="Kassel, DE")
    sent_event(session, store, shipment, trigger=Trigger.ORDER_SHIPPED, at=clock.now - hours(29))
    sent_event(session, store, shipment, trigger=Trigger.IN_TRANSIT, at=clock.now - hours(20), state="failed",
               error="Klaviyo said: invalid profile")
    session.commit()
    html = client.get(f"/shipments/{shipment.id}").get_data(as_text=True)
    assert "Arrived at hub" in html and "Kassel, DE" in html and "+0100" in html  # the carrier's local time and offset
    assert "Order Shipped" in html and "Klaviyo said: invalid profile" in html and "Retry" in html
    assert f"/t/{shipment.tracking_token}" in html and "Beanie" in html


def test_event_log_filters_by_trigger(client, session, clock):
    store = make_store(session)
    one = parcel(session, store, number="EV-1", order_number="#5001", shipped_at=clock.now - hours(5))
    two = parcel(session, store, number="EV-2", order_number="#5002", shipped_at=clock.now - hours(5))
    sent_event(session, store, one, trigger=Trigger.ORDER_SHIPPED, at=clock.now)
    sent_event(session, store, two, trigger=Trigger.DELIVERED, at=clock.now)
    session.commit()
    html = client.get(f"/events?store={store.id}&trigger=Shipment+Delivered").get_data(as_text=True)
    table = html.split('id="events"')[1]
    assert "EV-2" in table and "EV-1" not in table and "<option selected>Shipment Delivered</option>" in html
    assert "EV-1" in client.get(f"/events?store={store.id}&trigger=bogus").get_data(as_text=True)


def test_analytics_draws_charts_from_sql_aggregates(client, session, clock):
    store = make_store(session)
    now = clock.now
    # Transit times 24 h, 48 h, 96 h for sandbox -> DE (median 48 h) and 30 h, 50 h for dhl -> DE (median 40 h).
    for i, (carrier, transit) in enumerate([("sandbox", 24), ("sandbox", 48), ("sandbox", 96), ("dhl", 30), ("dhl", 50)]):
        shipment = parcel(session, store, number=f"AN-{i}", order_number=f"#{6000 + i}", shipped_at=now - timedelta(days=6),
                          carrier=carrier)
        add_event(session, shipment, at=shipment.shipped_at + hours(transit), status="delivered", text="Delivered")
        sent_event(session, store, shipment, trigger=Trigger.DELIVERED, at=now - timedelta(days=i))
    problem = parcel(session, store, number="AN-P", order_number="#6100", shipped_at=now - timedelta(days=2),
                     status="failed_attempt")
    sent_event(session, store, problem, trigger=Trigger.ATTEMPT_FAILED, at=now - hours(3))
    session.commit()
    html = client.get(f"/analytics?store={store.id}").get_data(as_text=True)
    assert html.count("<svg") >= 5
    assert 'data-total="6"' in html  # six events sent in the last 14 days, stacked by day
    assert "Shipment Delivered (5)" in html and "Shipment Delivery Attempt Failed (1)" in html
    assert "sandbox → DE" in html and "2.0 days · 3" in html and "dhl → DE" in html and "40 h · 2" in html
    assert "Parcels with problems: 17%" in html  # 1 of 6 parcels
    assert "83%" in html  # 5 of 6 parcels delivered


def test_settings_validate_save_and_need_csrf(client, session, runtime):
    store = make_store(session)
    session.add(EspConnection(store_id=store.id, provider="klaviyo", status="active", account_name="Acme",
                              credentials_encrypted=runtime.vault.encrypt({"api_key": KEY})))
    session.commit()
    page = client.get(f"/settings?store={store.id}").get_data(as_text=True)
    assert KEY not in page and "pk_l…mnop" in page and f"/esp?store={store.id}" in page  # masked, linked
    good = {"store": store.id, "stalled_after_business_days": "4", "stalled_after_business_days_international": "6",
            "eta_slip_min_days": "2", "fulfillment_delayed_after_business_days": "1.5",
            "business_days_include_saturday": "on", "backfill_window_hours": "24", "brand_logo_url": "https://cdn.shop.example/logo.png",
            "brand_color": "#112233", "brand_accent_color": "#FFAA00", "tracking_language": "de", "retention_days": "90"}
    assert client.post("/settings", data=good).status_code == 400  # no CSRF token
    good["csrf_token"] = csrf_from(page)
    assert client.post("/settings", data=good).status_code == 302
    session.expire_all()
    saved = session.get(Store, store.id).settings
    assert saved["stalled_after_business_days"] == 4.0 and saved["eta_slip_min_days"] == 2 and saved["backfill_window_hours"] == 24
    assert saved["brand_accent_color"] == "#ffaa00" and saved["tracking_language"] == "de" and saved["retention_days"] == 90
    assert saved["business_days_include_saturday"] is True

    bad = {**good, "stalled_after_business_days": "0", "brand_color": "red", "brand_logo_url": "javascript:alert(1)",
           "tracking_language": "xx", "retention_days": "abc"}
    del bad["business_days_include_saturday"]
    response = client.post("/settings", data=bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Nothing was saved" in html and "between 0.001 and 30" in html
    assert "a colour like #1f3a5f" in html and "an https:// address" in html and "enter a whole number" in html
    session.expire_all()
    assert session.get(Store, store.id).settings["brand_color"] == "#112233"  # unchanged


def test_write_back_switches_follow_the_platform(client, session):
    store = make_store(session, domain="woo.example", platform="woocommerce")
    session.commit()
    with client.session_transaction() as s:
        s["store_ids"] = [store.id]
    html = client.get(f"/settings?store={store.id}").get_data(as_text=True)
    assert "Add order notes in WooCommerce" in html and "Write fulfillment events back to Shopify" not in html


def test_another_stores_pages_are_404(client, session, clock):
    other = make_store(session, domain="other-shop.myshopify.com", platform="shopify")
    shipment = parcel(session, other, number="OTHER-1", order_number="#9001", shipped_at=clock.now)
    session.commit()
    for path in (f"/?store={other.id}", f"/shipments?store={other.id}", f"/shipments/{shipment.id}",
                 f"/events?store={other.id}", f"/analytics?store={other.id}", f"/settings?store={other.id}"):
        assert client.get(path).status_code == 404, path
    sandbox = make_store(session, domain="demo-shop.sandbox")
    session.commit()
    page = client.get(f"/shipments?store={sandbox.id}&q=OTHER").get_data(as_text=True)
    assert "OTHER-1" not in page
    token = csrf_from(client.get(f"/settings?store={sandbox.id}").get_data(as_text=True))
    assert client.post("/settings", data={"store": other.id, "csrf_token": token}).status_code == 404
    assert session.scalar(select(Store.settings).where(Store.id == other.id)) in ({}, None)


def test_a_store_that_lost_the_app_links_to_its_platforms_way_back_in(client, session):
    shop = make_store(session, domain="lapsed.myshopify.com", platform="shopify")
    woo = make_store(session, domain="woo.example", platform="woocommerce")
    shop.status = woo.status = "uninstalled"
    session.commit()
    with client.session_transaction() as browser:
        browser["store_ids"] = [shop.id, woo.id]
    step = _step(client.get(f"/?store={shop.id}").get_data(as_text=True), "store")
    assert "Reinstall the app" in step and "/shopify/install?" in step and "shop=lapsed.myshopify.com" in step
    step = _step(client.get(f"/?store={woo.id}").get_data(as_text=True), "store")
    assert "Reconnect the store" in step and "/woocommerce/connect?" in step
