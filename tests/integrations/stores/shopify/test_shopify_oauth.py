"""Shop domains, the authorization-code grant, expiring offline tokens and session tokens against the fake."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.errors import PermanentError, RetryableError
from integrations.stores.shopify.oauth import (
    InvalidCallback,
    InvalidSessionToken,
    InvalidShopDomain,
    OfflineToken,
    build_authorize_url,
    decode_session_token,
    exchange_code,
    refresh_token,
    require_shop,
    sanitize_shop,
    token_exchange,
    verify_callback_query,
)
from tests.fakes.http import Response
from tests.fakes.shopify import FakeShopify

OLD_SECRET = "shpss_previous0123456789abcdef0123456789ab"


@pytest.mark.parametrize("shop,expected", [
    ("parcel-test.myshopify.com", "parcel-test.myshopify.com"),
    ("https://Parcel-Test.myshopify.com", "parcel-test.myshopify.com"),
    ("parcel-test", "parcel-test.myshopify.com"),
    ("evil.com", None),
    ("x.myshopify.com.evil.com", None),
    ("evil.com/x.myshopify.com", None),
    ("parcel-test.myshopify.com@evil.com", None),
    ("", None),
    (None, None),
])
def test_shop_domains_are_validated(shop: str | None, expected: str | None) -> None:
    assert sanitize_shop(shop) == expected


def test_require_shop_raises_for_a_foreign_domain() -> None:
    with pytest.raises(InvalidShopDomain):
        require_shop("x.myshopify.com.evil.com")


def test_authorize_url_asks_for_an_offline_token_with_our_scopes() -> None:
    url = build_authorize_url(shop="parcel-test.myshopify.com", api_key="key",
                              scopes=["read_orders", "read_fulfillments", "write_fulfillments"],
                              redirect_uri="https://app.example.com/shopify/callback", state="nonce-1")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "parcel-test.myshopify.com", "/admin/oauth/authorize")
    query = parse_qs(parts.query)
    assert query["client_id"] == ["key"] and query["state"] == ["nonce-1"]
    assert query["scope"] == ["read_orders,read_fulfillments,write_fulfillments"]
    assert query["redirect_uri"] == ["https://app.example.com/shopify/callback"]
    assert "grant_options[]" not in query  # per-user would be an online token


def test_authorize_url_refuses_a_foreign_shop() -> None:
    with pytest.raises(InvalidShopDomain):
        build_authorize_url(shop="evil.com", api_key="k", scopes=["read_orders"], redirect_uri="https://a/cb",
                            state="s")


# -- callback --------------------------------------------------------------------------------------------


def test_callback_with_a_valid_signature_names_the_shop() -> None:
    fake = FakeShopify()
    params = fake.signed_callback(code="abc", state="nonce-1")
    assert verify_callback_query(params=params, secret=fake.secret, expected_state="nonce-1") == fake.shop


def test_callback_accepts_flask_style_list_values() -> None:
    fake = FakeShopify()
    params = {k: [v] for k, v in fake.signed_callback(code="abc", state="s").items()}
    assert verify_callback_query(params=params, secret=fake.secret) == fake.shop


def test_callback_hmac_escapes_delimiters() -> None:
    import hashlib
    import hmac as hmac_module

    # Shopify's rule: in the signed string `%` -> %25 and `&` -> %26 (and `=` -> %3D in keys).
    params = {"shop": "parcel-test.myshopify.com", "timestamp": str(int(time.time())), "note": "a&b=c%"}
    message = f"note=a%26b=c%25&shop={params['shop']}&timestamp={params['timestamp']}"
    params["hmac"] = hmac_module.new(b"sec", message.encode(), hashlib.sha256).hexdigest()
    assert verify_callback_query(params=params, secret="sec") == "parcel-test.myshopify.com"


@pytest.mark.parametrize("mutate,reason", [
    (lambda p: {**p, "code": "other"}, "hmac"),
    (lambda p: {**p, "hmac": "0" * 64}, "hmac"),
    (lambda p: {k: v for k, v in p.items() if k != "hmac"}, "hmac"),
    (lambda p: {**p, "extra": "1"}, "hmac"),
])
def test_callback_with_a_bad_signature_is_refused(mutate: Callable[[dict[str, str]], dict[str, str]],
                                                  reason: str) -> None:
    fake = FakeShopify()
    with pytest.raises(InvalidCallback, match=reason):
        verify_callback_query(params=mutate(fake.signed_callback(code="abc", state="s")), secret=fake.secret)


def test_callback_older_than_a_day_is_refused() -> None:
    fake = FakeShopify()
    old = int(time.time()) - 24 * 3600 - 60
    with pytest.raises(InvalidCallback, match="too old"):
        verify_callback_query(params=fake.signed_callback(code="abc", state="s", timestamp=old), secret=fake.secret)
    recent = int(time.time()) - 23 * 3600
    assert verify_callback_query(params=fake.signed_callback(code="abc", state="s", timestamp=recent),
                                 secret=fake.secret)


def test_callback_with_the_wrong_state_is_refused() -> None:
    fake = FakeShopify()
    with pytest.raises(InvalidCallback, match="state"):
        verify_callback_query(params=fake.signed_callback(code="abc", state="s1"), secret=fake.secret,
                              expected_state="s2")


def test_callback_with_a_foreign_shop_is_refused_even_if_signed() -> None:
    fake = FakeShopify(shop="x.myshopify.com.evil.com")
    with pytest.raises(InvalidCallback, match="shop"):
        verify_callback_query(params=fake.signed_callback(code="abc", state="s"), secret=fake.secret)


def test_callback_signed_with_the_previous_secret_passes_during_rotation() -> None:
    fake = FakeShopify()
    params = fake.signed_callback(code="abc", state="s", secret=OLD_SECRET)
    assert verify_callback_query(params=params, secret=[fake.secret, OLD_SECRET]) == fake.shop
    with pytest.raises(InvalidCallback):
        verify_callback_query(params=params, secret=fake.secret)


# -- tokens against the fake -----------------------------------------------------------------------------


@pytest.fixture
def shopify() -> Iterator[FakeShopify]:
    with FakeShopify() as fake:
        yield fake


def _creds(fake: FakeShopify) -> dict[str, str]:
    return {"shop": fake.shop, "api_key": fake.api_key, "secret": fake.secret,
            "admin_base_url_template": fake.base_url}


def test_code_exchange_returns_an_expiring_offline_token(shopify: FakeShopify) -> None:
    before = datetime.now(timezone.utc)
    token = exchange_code(code=shopify.issue_code(), **_creds(shopify))
    assert token.access_token.startswith("shpat_") and token.refresh_token
    assert token.scopes == {"read_orders", "write_fulfillments"}
    assert token.expires_at and before + timedelta(minutes=59) < token.expires_at < before + timedelta(minutes=61)
    assert token.refresh_token_expires_at and token.refresh_token_expires_at > before + timedelta(days=89)
    assert shopify.requests_to("/admin/oauth/access_token")[0].json()["expiring"] == "1"


def test_a_code_is_single_use(shopify: FakeShopify) -> None:
    code = shopify.issue_code()
    exchange_code(code=code, **_creds(shopify))
    with pytest.raises(PermanentError) as caught:
        exchange_code(code=code, **_creds(shopify))
    assert caught.value.code == "invalid_request"


def test_refresh_rotates_and_the_old_refresh_token_is_spent(shopify: FakeShopify) -> None:
    first = exchange_code(code=shopify.issue_code(), **_creds(shopify))
    assert first.refresh_token
    second = refresh_token(refresh_token=first.refresh_token, **_creds(shopify))
    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    with pytest.raises(PermanentError) as caught:
        refresh_token(refresh_token=first.refresh_token, **_creds(shopify))
    assert caught.value.code == "invalid_grant"
    third = refresh_token(refresh_token=second.refresh_token, **_creds(shopify))
    assert third.access_token in shopify.access_tokens and first.access_token not in shopify.access_tokens


def test_wrong_client_secret_is_an_auth_error(shopify: FakeShopify) -> None:
    creds = {**_creds(shopify), "secret": "wrong"}
    with pytest.raises(PermanentError) as caught:
        exchange_code(code=shopify.issue_code(), **creds)
    assert caught.value.code == "invalid_client"


def test_token_endpoint_outage_is_retryable(shopify: FakeShopify) -> None:
    shopify.fail_next(Response.html(status=503))
    with pytest.raises(RetryableError):
        exchange_code(code=shopify.issue_code(), **_creds(shopify))
    shopify.fail_next(Response(status=200, delay=0.5))
    with pytest.raises(RetryableError):
        exchange_code(code=shopify.issue_code(), timeout=0.1, **_creds(shopify))


def test_token_exchange_for_the_embedded_install(shopify: FakeShopify) -> None:
    token = token_exchange(session_token=shopify.session_token(), **_creds(shopify))
    assert token.refresh_token and token.expires_at
    sent = shopify.requests_to("/admin/oauth/access_token")[-1].json()
    assert sent["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert sent["requested_token_type"] == "urn:shopify:params:oauth:token-type:offline-access-token"
    assert sent["subject_token_type"] == "urn:ietf:params:oauth:token-type:id_token"
    assert sent["expiring"] == "1"
    with pytest.raises(PermanentError) as caught:
        token_exchange(session_token=shopify.session_token(secret="forged-forged-forged-forged-forged-00"), **_creds(shopify))
    assert caught.value.code == "invalid_subject_token"


def test_tokens_never_appear_in_repr() -> None:
    token = OfflineToken(access_token="shpat_secret", scope="read_orders", refresh_token="shprt_secret",
                         expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert "secret" not in repr(token)
    assert not token.needs_refresh(now=datetime(2029, 12, 31, 23, 0, tzinfo=timezone.utc))
    assert token.needs_refresh(now=datetime(2029, 12, 31, 23, 56, tzinfo=timezone.utc))


# -- session tokens --------------------------------------------------------------------------------------


def test_session_token_names_the_shop() -> None:
    fake = FakeShopify()
    header = f"Bearer {fake.session_token()}"
    assert decode_session_token(authorization=header, api_key=fake.api_key, secret=fake.secret) == fake.shop


@pytest.mark.parametrize("claims", [
    {"aud": "someone-else"},
    {"exp": int(time.time()) - 60},
    {"nbf": int(time.time()) + 600},
    {"dest": "https://other-shop.myshopify.com"},
    {"iss": "https://evil.com/admin", "dest": "https://evil.com"},
    {"secret": "not-the-app-secret-not-the-app-secret"},
])
def test_bad_session_tokens_are_refused(claims: dict[str, object]) -> None:
    fake = FakeShopify()
    header = f"Bearer {fake.session_token(**claims)}"
    with pytest.raises(InvalidSessionToken):
        decode_session_token(authorization=header, api_key=fake.api_key, secret=fake.secret)


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer not-a-jwt"])
def test_missing_or_malformed_authorization_is_refused(header: str | None) -> None:
    with pytest.raises(InvalidSessionToken):
        decode_session_token(authorization=header, api_key="k", secret="s")


def test_session_token_signed_with_the_previous_secret_passes_during_rotation() -> None:
    fake = FakeShopify()
    header = f"Bearer {fake.session_token(secret=OLD_SECRET)}"
    assert decode_session_token(authorization=header, api_key=fake.api_key,
                                secret=[fake.secret, OLD_SECRET]) == fake.shop
