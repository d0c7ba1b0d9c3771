"""The ESP settings, Triggers and Flow recipes pages: they render, secrets stay masked, forms need CSRF."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.models import EspConnection, Store
from app.services.catalog import METRICS
from app.services.esp_connections import connect_klaviyo_key
from tests.app.esp_fixtures import app_config, fake_klaviyo  # noqa: F401
from tests.app.factories import make_store
from tests.fakes.klaviyo import PRIVATE_KEY


def _csrf(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_pages_render_with_nav(client, session):
    store = make_store(session)
    session.commit()
    for path in (f"/esp?store={store.id}", f"/triggers?store={store.id}", f"/flows?store={store.id}"):
        html = client.get(path).get_data(as_text=True)
        assert "Triggers" in html and "Flow recipes" in html and ">ESP<" in html
    triggers = client.get(f"/triggers?store={store.id}").get_data(as_text=True)
    for metric in METRICS:
        assert metric in triggers
    assert "pickup_location" in triggers and "tracking_page_url" in triggers  # example payloads from the builder
    flows = client.get(f"/flows?store={store.id}").get_data(as_text=True)
    assert "Delivered, then a review request" in flows and "3 days" in flows and "delivered_to equals neighbour" in flows


def test_settings_masks_the_key_and_explains_a_pause(client, session, runtime):
    store = make_store(session)
    connection = connect_klaviyo_key(session, store=store, key=PRIVATE_KEY, runtime=runtime)
    connection.status, connection.paused_reason = "paused", "Klaviyo refused the credentials; reconnect the account"
    session.commit()
    html = client.get(f"/esp?store={store.id}").get_data(as_text=True)
    assert "Parcel Test Shop" in html and PRIVATE_KEY not in html and "pk_t" in html
    assert "Klaviyo refused the credentials" in html and "Reconnect below" in html


def test_key_form_connects_and_needs_csrf(client, session):
    store = make_store(session)
    session.commit()
    assert client.post("/esp/klaviyo-key", data={"store": store.id, "api_key": PRIVATE_KEY}).status_code == 400
    token = _csrf(client, f"/esp?store={store.id}")
    bad = client.post("/esp/klaviyo-key", data={"store": store.id, "api_key": "AbC123", "csrf_token": token})
    assert bad.status_code == 400 and "public site ID" in bad.get_data(as_text=True)
    ok = client.post("/esp/klaviyo-key", data={"store": store.id, "api_key": PRIVATE_KEY, "csrf_token": token},
                     follow_redirects=True)
    assert "Connected to Klaviyo account Parcel Test Shop" in ok.get_data(as_text=True)


def test_webhook_secret_is_shown_once_then_masked(client, session, runtime):
    store = make_store(session)
    session.commit()
    token = _csrf(client, f"/esp?store={store.id}")
    first = client.post("/esp/webhook", data={"store": store.id, "url": "https://hooks.example.com/in", "csrf_token": token})
    secret = re.search(r"<pre>(whsec_[^<]+)</pre>", first.get_data(as_text=True)).group(1)
    later = client.get(f"/esp?store={store.id}").get_data(as_text=True)
    assert secret not in later and secret[-4:] in later
    connection = session.scalar(select(EspConnection))
    assert runtime.vault.decrypt(connection.credentials_encrypted)["secret"] == secret


def test_send_test_button_reaches_klaviyo(client, session, runtime, fake_klaviyo):
    store = make_store(session)
    connect_klaviyo_key(session, store=store, key=PRIVATE_KEY, runtime=runtime)
    session.commit()
    token = _csrf(client, f"/triggers?store={store.id}")
    page = client.post("/esp/test-event", data={"store": store.id, "trigger": "Shipment Delayed", "csrf_token": token,
                                                "back": "triggers"}, follow_redirects=True)
    assert "sent to klaviyo" in page.get_data(as_text=True)
    (event,) = fake_klaviyo.events.values()
    assert event["metric"] == "Shipment Delayed" and event["properties"]["delay_episode"] == 1


def test_trigger_switches_persist_with_csrf(client, session):
    store = make_store(session)
    session.commit()
    assert client.post("/triggers/switch", data={"store": store.id, "trigger": "Shipment In Transit",
                                                 "enabled": "0"}).status_code == 400
    token = _csrf(client, f"/triggers?store={store.id}")
    client.post("/triggers/switch", data={"store": store.id, "trigger": "Shipment In Transit", "enabled": "0",
                                          "csrf_token": token})
    session.expire_all()
    assert session.get(Store, store.id).settings["disabled_triggers"] == ["Shipment In Transit"]
    client.post("/triggers/switch", data={"store": store.id, "trigger": "Shipment In Transit", "enabled": "1",
                                          "csrf_token": token})
    session.expire_all()
    assert session.get(Store, store.id).settings["disabled_triggers"] == []


def test_other_stores_are_not_reachable(client, session):
    make_store(session)
    other = make_store(session, domain="other.myshopify.com", platform="shopify")
    session.commit()
    assert client.get(f"/esp?store={other.id}").status_code == 404
    assert client.get(f"/triggers?store={other.id}").status_code == 404
