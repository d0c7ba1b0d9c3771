"""Connecting a WooCommerce store: WC Auth key grant with a one-time nonce, manual keys, webhooks, queued backfill."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.models import Store, WooSync
from tests.app.woocommerce_fixtures import app_config, connect_with_keys, csrf, fake_wc, sign_up  # noqa: F401


def _start(client, fake) -> str:
    response = client.post("/woocommerce/connect", data={"url": fake.base_url, "csrf_token": csrf(client, "/woocommerce/connect")})
    assert response.status_code == 302
    return response.headers["Location"]


def _poster(client):
    def post(url: str, body: bytes) -> int:
        return client.post(urlsplit(url).path, data=body, content_type="application/json;charset=UTF-8").status_code
    return post


def test_wc_auth_key_grant_connects_the_store(client, fake_wc, session, runtime):
    sign_up(client)
    authorize = _start(client, fake_wc)
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    assert authorize.startswith(f"{fake_wc.base_url}/wc-auth/v1/authorize?")
    assert params["scope"] == "read_write" and params["callback_url"] == "https://app.example.test/woocommerce/auth/callback"
    assert params["return_url"] == "https://app.example.test/woocommerce/auth/return"
    assert fake_wc.requests_to("/wc-auth/v1/authorize") == [] and len(params["user_id"]) >= 32
    import requests
    assert requests.get(authorize, timeout=5).status_code == 200  # the store accepts the request (https callback)

    back = fake_wc.approve(authorize, post=_poster(client))
    assert back.startswith("https://app.example.test/woocommerce/auth/return?success=1&user_id=")
    landing = client.get(back.replace("https://app.example.test", ""))
    assert landing.status_code == 302
    store = session.scalar(select(Store).where(Store.platform == "woocommerce"))
    assert store.domain == fake_wc.base_url.split("://")[1] and store.settings["site_url"] == fake_wc.base_url
    assert store.settings["tracking_namespace"] == "wc-shipment-tracking/v3"
    credentials = runtime.vault.decrypt(store.credentials_encrypted)
    assert credentials["consumer_key"] in fake_wc.keys and credentials["webhook_secret"]
    assert {h["topic"] for h in fake_wc.webhooks.values()} == {"order.created", "order.updated", "order.deleted"}
    assert all(h["delivery_url"] == "https://app.example.test/webhooks/woocommerce" for h in fake_wc.webhooks.values())
    assert session.get(WooSync, store.id).backfill_pending
    assert client.get(f"/?store={store.id}").status_code == 200


def test_the_nonce_is_one_time(client, fake_wc, session):
    sign_up(client)
    authorize = _start(client, fake_wc)
    fake_wc.approve(authorize, post=_poster(client))
    with pytest.raises(ValueError):  # a replayed callback is refused: WooCommerce shows its error, deletes the key
        fake_wc.approve(authorize, post=_poster(client))
    forged = b'{"key_id": 9, "user_id": "made-up", "consumer_key": "ck_x", "consumer_secret": "cs_x", "key_permissions": "read_write"}'
    assert client.post("/woocommerce/auth/callback", data=forged, content_type="application/json").status_code == 404
    assert client.post("/woocommerce/auth/callback", data=b"nonsense").status_code == 400


def test_an_expired_nonce_is_refused(client, fake_wc, clock):
    sign_up(client)
    authorize = _start(client, fake_wc)
    clock.advance(hours=1)
    with pytest.raises(ValueError):
        fake_wc.approve(authorize, post=_poster(client))


def test_a_denied_grant_comes_back_with_success_0(client, fake_wc):
    sign_up(client)
    back = fake_wc.deny(_start(client, fake_wc))
    page = client.get(back.replace("https://app.example.test", ""))
    assert page.status_code == 400 and "did not approve" in page.get_data(as_text=True)


def test_a_read_only_grant_is_refused(client, fake_wc, session):
    sign_up(client)
    authorize = _start(client, fake_wc).replace("scope=read_write", "scope=read")
    with pytest.raises(ValueError):
        fake_wc.approve(authorize, post=_poster(client))
    assert session.scalar(select(Store).where(Store.platform == "woocommerce")) is None


def test_manual_keys_connect_and_bad_ones_say_why(client, fake_wc, session):
    sign_up(client)
    wrong = client.post("/woocommerce/connect/keys", data={"url": fake_wc.base_url, "consumer_key": "ck_nope",
                                                           "consumer_secret": "cs_nope", "csrf_token": csrf(client, "/woocommerce/connect")})
    assert wrong.status_code == 400 and "did not accept these API keys" in wrong.get_data(as_text=True)
    fake_wc.pretty_permalinks = False
    key, secret = fake_wc.issue_key()
    no_permalinks = client.post("/woocommerce/connect/keys", data={"url": fake_wc.base_url, "consumer_key": key,
                                                                   "consumer_secret": secret, "csrf_token": csrf(client, "/woocommerce/connect")})
    assert no_permalinks.status_code == 400 and "Permalinks" in no_permalinks.get_data(as_text=True)
    fake_wc.pretty_permalinks = True
    read_key, read_secret = fake_wc.issue_key(permissions="read")
    read_only = client.post("/woocommerce/connect/keys", data={"url": fake_wc.base_url, "consumer_key": read_key,
                                                               "consumer_secret": read_secret, "csrf_token": csrf(client, "/woocommerce/connect")})
    assert read_only.status_code == 400 and "Read/Write" in read_only.get_data(as_text=True)
    assert session.scalar(select(Store).where(Store.platform == "woocommerce")) is None
    store_id = connect_with_keys(client, fake_wc)
    assert session.get(Store, store_id).platform == "woocommerce"


def test_plain_http_stores_are_refused_in_production(client, fake_wc, app):
    app.config["WOOCOMMERCE_ALLOW_HTTP"] = False
    sign_up(client)
    response = client.post("/woocommerce/connect", data={"url": fake_wc.base_url, "csrf_token": csrf(client, "/woocommerce/connect")})
    assert response.status_code == 400 and "HTTPS" in response.get_data(as_text=True)


def test_connect_pages_need_an_account(client, fake_wc):
    assert client.get("/woocommerce/connect").status_code == 302
    assert client.post("/woocommerce/connect/keys", data={"url": fake_wc.base_url}).status_code == 302
