"""Connecting Klaviyo (pasted key, OAuth with PKCE, token refresh), the signed webhook, and `flask esp ...`."""
from __future__ import annotations


import pytest
from sqlalchemy import select

from app.models import EspConnection, OutboxItem
from app.services.esp_connections import connect_klaviyo_key, connect_webhook, fresh_klaviyo_credentials
from integrations.errors import PermanentError
from tests.app.esp_fixtures import NO_SCOPE_KEY, PUBLIC_KEY, app_config, fake_klaviyo  # noqa: F401
from tests.app.factories import hours, make_order, make_shipment, make_store
from tests.fakes.klaviyo import PRIVATE_KEY


def test_good_key_is_stored_encrypted_with_the_account_name(session, runtime):
    store = make_store(session)
    connection = connect_klaviyo_key(session, store=store, key=f"  {PRIVATE_KEY} ", runtime=runtime)
    session.commit()
    assert connection.account_name == "Parcel Test Shop" and connection.status == "active"
    assert PRIVATE_KEY not in connection.credentials_encrypted
    assert runtime.vault.decrypt(connection.credentials_encrypted)["api_key"] == PRIVATE_KEY


@pytest.mark.parametrize("key, code", [(PUBLIC_KEY, "public_key"), ("pk_wrong_0123456789abcdef", "auth_failed"),
                                       (NO_SCOPE_KEY, "missing_scopes")])
def test_bad_keys_are_refused_with_a_reason(session, runtime, key, code):
    store = make_store(session)
    with pytest.raises(PermanentError) as exc:
        connect_klaviyo_key(session, store=store, key=key, runtime=runtime)
    assert exc.value.code == code and key not in str(exc.value)
    assert session.scalar(select(EspConnection)) is None


def test_cli_connect_prints_the_account(app, session):
    make_store(session)
    session.commit()
    result = app.test_cli_runner().invoke(args=["esp", "connect", "shop-one.myshopify.com", "--klaviyo-key", PRIVATE_KEY])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "shop-one.myshopify.com: connected to Klaviyo account 'Parcel Test Shop'"


@pytest.mark.parametrize("key, words", [(PUBLIC_KEY, "public site ID"), ("pk_wrong_0123456789abcdef", "does not recognise"),
                                        (NO_SCOPE_KEY, "lacks permissions")])
def test_cli_connect_fails_with_one_line(app, session, key, words):
    make_store(session)
    session.commit()
    result = app.test_cli_runner().invoke(args=["esp", "connect", "shop-one.myshopify.com", "--klaviyo-key", key])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]
    assert PRIVATE_KEY not in result.output


def test_reconnect_resumes_a_paused_connection_and_releases_held_rows(session, runtime, clock):
    from app.services.outbox import enqueue

    store = make_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(2))
    shipment = make_shipment(session, store, order, shipped_at=clock.now - hours(1))
    item = enqueue(session, store=store, order=order, shipment=shipment, trigger="Order Shipped",
                   occurred_at=clock.now, now=clock.now, app_url="https://x.test")
    connection = connect_klaviyo_key(session, store=store, key=PRIVATE_KEY, runtime=runtime)
    connection.status, connection.paused_reason = "paused", "Klaviyo refused the credentials"
    item.next_attempt_at = clock.now + hours(1)
    session.commit()
    connect_klaviyo_key(session, store=store, key=PRIVATE_KEY, runtime=runtime)
    session.commit()
    assert connection.status == "active" and connection.paused_reason is None
    assert session.scalar(select(OutboxItem.next_attempt_at)) == clock.now


def test_cli_test_event_uses_the_latest_order_and_a_test_unique_id(app, session, clock, fake_klaviyo):
    store = make_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(3), email="lena@example.com")
    make_shipment(session, store, order, shipped_at=clock.now - hours(2))
    connect_klaviyo_key(session, store=store, key=PRIVATE_KEY, runtime=app.extensions["runtime"])
    session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["esp", "test-event", str(store.id), "Shipment Delivered"])
    second = runner.invoke(args=["esp", "test-event", str(store.id), "Shipment Delivered"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert len(first.output.strip().splitlines()) == 1 and "from the latest order" in first.output
    assert len(fake_klaviyo.events) == 2  # a random suffix: tests never collapse into one another
    for unique_id, event in fake_klaviyo.events.items():
        assert unique_id.startswith(f"test:{store.id}:Shipment Delivered:")
        assert event["metric"] == "Shipment Delivered" and event["profile"]["email"] == "lena@example.com"
        assert event["properties"]["order_number"] == "#1001" and event["properties"]["test_event"] is True


def test_cli_test_event_with_sample_data_and_unknown_trigger(app, session, fake_klaviyo):
    store = make_store(session)
    connect_klaviyo_key(session, store=store, key=PRIVATE_KEY, runtime=app.extensions["runtime"])
    session.commit()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["esp", "test-event", store.domain, "Shipment Ready For Pickup"])
    assert ok.exit_code == 0 and "sample data" in ok.output
    (event,) = fake_klaviyo.events.values()
    assert event["properties"]["pickup_location"] and event["profile"]["email"] == "jane.doe@example.com"
    bad = runner.invoke(args=["esp", "test-event", store.domain, "Parcel Teleported"])
    assert bad.exit_code == 1 and bad.output.startswith("error: unknown trigger")


def test_cli_test_event_without_esp_goes_to_the_console(app, session):
    make_store(session)
    session.commit()
    result = app.test_cli_runner().invoke(args=["esp", "test-event", "shop-one.myshopify.com", "Order Shipped"])
    assert result.exit_code == 0 and "to console" in result.output


def _oauth_connect(client, session, fake_klaviyo):
    store = make_store(session)
    session.commit()
    start = client.get(f"/esp/klaviyo/oauth/start?store={store.id}")
    assert start.status_code == 302
    code, state = fake_klaviyo.authorize(start.headers["Location"])
    done = client.get(f"/esp/klaviyo/oauth/callback?code={code}&state={state}")
    assert done.status_code == 302
    return store


def test_oauth_connects_with_pkce_and_stores_tokens_encrypted(client, session, runtime, fake_klaviyo, clock):
    _oauth_connect(client, session, fake_klaviyo)
    connection = session.scalar(select(EspConnection))
    assert connection.provider == "klaviyo" and connection.account_name == "Parcel Test Shop"
    credentials = runtime.vault.decrypt(connection.credentials_encrypted)
    assert credentials["access_token"] in fake_klaviyo.access_tokens and credentials["refresh_token"].startswith("rt-")
    assert "at-" not in connection.credentials_encrypted
    with client.session_transaction() as browser:
        assert "klaviyo_oauth" not in browser  # state and verifier are single-use


def test_oauth_callback_with_a_wrong_state_is_refused(client, session, fake_klaviyo):
    store = make_store(session)
    session.commit()
    start = client.get(f"/esp/klaviyo/oauth/start?store={store.id}")
    code, _state = fake_klaviyo.authorize(start.headers["Location"])
    assert client.get(f"/esp/klaviyo/oauth/callback?code={code}&state=forged").status_code == 400
    assert session.scalar(select(EspConnection)) is None


def test_token_is_refreshed_before_expiry_and_persisted(client, session, runtime, fake_klaviyo, clock):
    _oauth_connect(client, session, fake_klaviyo)
    connection = session.scalar(select(EspConnection))
    before = runtime.vault.decrypt(connection.credentials_encrypted)
    assert fresh_klaviyo_credentials(runtime, connection_id=connection.id) == before  # still fresh: no call
    clock.advance(minutes=56)
    after = fresh_klaviyo_credentials(runtime, connection_id=connection.id)
    assert after["access_token"] != before["access_token"] and after["refresh_token"] == before["refresh_token"]
    session.expire_all()
    stored = runtime.vault.decrypt(session.scalar(select(EspConnection)).credentials_encrypted)
    assert stored["access_token"] == after["access_token"]
    assert runtime.esp(session.scalar(select(EspConnection))).code == "klaviyo"


def test_revoked_refresh_token_pauses_delivery(client, session, runtime, fake_klaviyo, clock):
    _oauth_connect(client, session, fake_klaviyo)
    fake_klaviyo.refresh_tokens.clear()  # the merchant removed the app in Klaviyo
    clock.advance(hours=2)
    esp = runtime.esp(session.scalar(select(EspConnection)))
    from tests.app.test_esp_delivery import make_event

    (outcome,) = esp.send(events=[make_event("k1")])
    assert outcome.auth_failed and "reconnect Klaviyo" in outcome.error


def test_webhook_connect_shows_the_secret_once(session, runtime):
    store = make_store(session)
    connection, secret = connect_webhook(session, store=store, url="https://hooks.example.com/in", runtime=runtime)
    session.commit()
    assert secret.startswith("whsec_") and secret not in connection.credentials_encrypted
    assert runtime.esp(connection).code == "webhook"
    with pytest.raises(ValueError):
        connect_webhook(session, store=store, url="ftp://nope", runtime=runtime)


def test_connecting_another_esp_replaces_the_first(session, runtime):
    store = make_store(session)
    connect_klaviyo_key(session, store=store, key=PRIVATE_KEY, runtime=runtime)
    connect_webhook(session, store=store, url="https://hooks.example.com/in", runtime=runtime)
    session.commit()
    assert [c.provider for c in session.scalars(select(EspConnection))] == ["webhook"]
