"""The carrier catalog page: every carrier, credentials verified through a fake, health figures, carrier override."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import CarrierAccount, RateLimitWindow, Shipment
from app.services.carrier_quota import limiter_scope
from app.services.ratelimit import window_start
from integrations.carriers import CARRIERS
from integrations.carriers.transport import clear_token_cache
from tests.app.factories import hours, make_order, make_shipment, make_store
from tests.fakes.carriers_eu import FakeGls


@pytest.fixture
def fake_gls():
    clear_token_cache()
    with FakeGls() as fake:
        yield fake
    clear_token_cache()


@pytest.fixture
def app_config(app_config, fake_gls):
    return {**app_config, "GLS_API_URL": fake_gls.base_url, "CARRIER_READ_TIMEOUT_SECONDS": 0.5}


def csrf(client, store_id: int) -> str:
    page = client.get(f"/carriers?store={store_id}").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_catalog_lists_every_carrier_with_portal_quota_and_cadence(client, session) -> None:
    store = make_store(session)
    session.commit()
    page = client.get(f"/carriers?store={store.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for code, cls in CARRIERS.items():
        if code != "sandbox":
            assert f'id="carrier-{code}"' in html and cls.name in html
    assert "GLS Developer Portal" in html and "https://dev-portal.gls-group.net" in html
    assert "1/s, 500/day (resets 00:00 UTC)" in html  # GLS's default quota
    assert "in transit every 2 h" in html and "out for delivery every 30 min" in html
    assert "/webhooks/aftership?store=" in html
    assert 'href="/carriers?store=' in html  # in the navigation


def test_credentials_are_verified_saved_encrypted_and_masked(client, session, runtime, fake_gls) -> None:
    store = make_store(session)
    session.commit()
    token = csrf(client, store.id)
    response = client.post("/carriers/gls/credentials", data={"csrf_token": token, "store": store.id,
                                                               "client_id": "client-id",
                                                               "client_secret": "client-secret"})
    assert response.status_code == 302
    account = session.scalar(select(CarrierAccount).where(CarrierAccount.store_id == store.id))
    assert account.carrier_code == "gls" and account.verified_at is not None
    assert "client-secret" not in (account.credentials_encrypted or "")
    assert runtime.vault.decrypt(account.credentials_encrypted)["client_secret"] == "client-secret"
    html = client.get(f"/carriers?store={store.id}").get_data(as_text=True)
    assert "client-secret" not in html and "cl…et" in html  # masked once saved
    assert fake_gls.tokens_issued == 1  # verified with a real call to the (fake) API
    # an empty field keeps the saved secret
    response = client.post("/carriers/gls/credentials", data={"csrf_token": token, "store": store.id,
                                                               "client_id": "client-id", "client_secret": ""})
    assert response.status_code == 302


def test_rejected_credentials_get_a_clear_error_and_nothing_is_saved(client, session, fake_gls) -> None:
    store = make_store(session)
    session.commit()
    response = client.post("/carriers/gls/credentials", data={"csrf_token": csrf(client, store.id), "store": store.id,
                                                               "client_id": "client-id", "client_secret": "wrong"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "GLS rejected the credentials" in html and "wrong" not in html.split("rejected the credentials")[1][:200]
    assert session.scalar(select(CarrierAccount)) is None


def test_missing_csrf_is_refused(client, session) -> None:
    store = make_store(session)
    session.commit()
    response = client.post("/carriers/gls/credentials", data={"store": store.id, "client_id": "a", "client_secret": "b"})
    assert response.status_code == 400


def test_another_stores_catalog_is_not_found(client, session) -> None:
    make_store(session)
    other = make_store(session, domain="other.example", platform="woocommerce")
    session.commit()
    assert client.get(f"/carriers?store={other.id}").status_code == 404


def test_health_from_polls_and_quota_counters(client, session, runtime, clock) -> None:
    store = make_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(30))
    good = make_shipment(session, store, order, number="12345678901", carrier="gls", shipped_at=clock.now - hours(20))
    bad = make_shipment(session, store, order, number="12345678902", carrier="gls", shipped_at=clock.now - hours(20))
    good.last_polled_at = clock.now - hours(1)
    bad.last_polled_at = clock.now - hours(2)
    bad.last_error = "carrier_down: timed out"
    scope = limiter_scope("carrier:gls", None)
    session.add(RateLimitWindow(key=f"{scope}:day", window_start=window_start(clock.now, timedelta(days=1)), count=42))
    session.commit()
    html = client.get(f"/carriers?store={store.id}").get_data(as_text=True)
    row = html.split('id="carrier-gls"')[1].split("</tr>")[0]
    assert "2 active" in row and "50% of 2" in row and "quota used today: 42" in row
    assert (clock.now - hours(1)).strftime("%Y-%m-%d %H:%M") in row


def test_override_sets_the_carrier_and_polls_soon(client, session, clock) -> None:
    store = make_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(30))
    shipment = make_shipment(session, store, order, number="05308801410058", carrier="dpd",
                             shipped_at=clock.now - hours(20))
    shipment.next_poll_at, shipment.last_error, shipment.poll_failures = None, "not_found: x", 4
    session.commit()
    response = client.post("/carriers/override", data={"csrf_token": csrf(client, store.id), "store": store.id,
                                                       "tracking_number": "05308801410058", "carrier_code": "gls"})
    assert response.status_code == 302 and f"/shipments/{shipment.id}" in response.headers["Location"]
    session.expire_all()
    moved = session.get(Shipment, shipment.id)
    assert moved.carrier_code == "gls" and moved.next_poll_at == clock.now
    assert moved.poll_failures == 0 and moved.last_error is None
    bad = client.post("/carriers/override", data={"csrf_token": csrf(client, store.id), "store": store.id,
                                                  "tracking_number": "05308801410058", "carrier_code": "nope"})
    assert bad.status_code == 400
