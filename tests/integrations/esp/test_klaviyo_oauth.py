"""Klaviyo OAuth (authorization code + PKCE) against the fake's token endpoint, then the token used for events."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.errors import PermanentError, RetryableError
from integrations.esp.klaviyo import KlaviyoEsp
from integrations.esp.klaviyo_oauth import (
    build_authorize_url,
    code_challenge,
    exchange_code,
    new_code_verifier,
    refresh,
)
from tests.fakes.klaviyo import FakeKlaviyo

REDIRECT = "https://app.example.com/esp/klaviyo/callback"
NOW = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)


def test_s256_challenge_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifier_is_random_and_within_rfc_length() -> None:
    first, second = new_code_verifier(), new_code_verifier()
    assert first != second and 43 <= len(first) <= 128


def test_authorize_url_carries_pkce_and_state() -> None:
    request = build_authorize_url(client_id="client-1", redirect_uri=REDIRECT, scopes=["accounts:read", "events:write"],
                                  state="s-123")
    parts = urlsplit(request.url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.klaviyo.com/oauth/authorize"
    assert query == {"response_type": "code", "client_id": "client-1", "redirect_uri": REDIRECT,
                     "scope": "accounts:read events:write", "state": "s-123", "code_challenge_method": "S256",
                     "code_challenge": code_challenge(request.code_verifier)}
    assert request.state == "s-123"


def _connect(fake: FakeKlaviyo) -> Any:
    request = build_authorize_url(client_id="client-1", redirect_uri=REDIRECT, base_url=fake.base_url)
    code, state = fake.authorize(request.url)
    assert state == request.state
    return exchange_code(client_id="client-1", client_secret="secret-1", code=code,
                         code_verifier=request.code_verifier, redirect_uri=REDIRECT, base_url=fake.base_url,
                         timeout=2.0, now=NOW)


def test_code_exchange_refresh_and_use(fake_klaviyo: FakeKlaviyo, make_event: Any) -> None:
    tokens = _connect(fake_klaviyo)
    assert tokens.access_token and tokens.refresh_token
    assert NOW + timedelta(minutes=55) < tokens.expires_at < NOW + timedelta(hours=1)
    assert set(tokens.scope) == {"accounts:read", "events:write"}
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    token_request = fake_klaviyo.requests_to("/oauth/token")[0]
    assert token_request.header("authorization", "").startswith("Basic ")
    assert "client_secret" not in token_request.form()

    esp = KlaviyoEsp(access_token=tokens.access_token, base_url=fake_klaviyo.base_url, timeout=2.0)
    assert esp.account().name == "Parcel Test Shop"
    assert esp.send(events=[make_event()])[0].accepted

    renewed = refresh(client_id="client-1", client_secret="secret-1", refresh_token=tokens.refresh_token,
                      base_url=fake_klaviyo.base_url, timeout=2.0)
    assert renewed.access_token != tokens.access_token
    assert renewed.refresh_token == tokens.refresh_token
    assert KlaviyoEsp(access_token=renewed.access_token, base_url=fake_klaviyo.base_url).send(
        events=[make_event()])[0].accepted


def test_wrong_verifier_is_invalid_grant(fake_klaviyo: FakeKlaviyo) -> None:
    request = build_authorize_url(client_id="client-1", redirect_uri=REDIRECT, base_url=fake_klaviyo.base_url)
    code, _ = fake_klaviyo.authorize(request.url)
    with pytest.raises(PermanentError) as caught:
        exchange_code(client_id="client-1", client_secret="secret-1", code=code, code_verifier=new_code_verifier(),
                      redirect_uri=REDIRECT, base_url=fake_klaviyo.base_url, timeout=2.0)
    assert caught.value.code == "invalid_grant"


def test_wrong_client_secret_is_invalid_client(fake_klaviyo: FakeKlaviyo) -> None:
    with pytest.raises(PermanentError) as caught:
        refresh(client_id="client-1", client_secret="nope", refresh_token="rt-x", base_url=fake_klaviyo.base_url)
    assert caught.value.code == "invalid_client"
    assert "nope" not in str(caught.value)


def test_revoked_refresh_token_asks_for_reconnect(fake_klaviyo: FakeKlaviyo) -> None:
    with pytest.raises(PermanentError) as caught:
        refresh(client_id="client-1", client_secret="secret-1", refresh_token="rt-unknown",
                base_url=fake_klaviyo.base_url)
    assert caught.value.code == "invalid_grant"


@pytest.mark.parametrize("fault", ["500", "429"])
def test_token_endpoint_trouble_is_retryable(fake_klaviyo: FakeKlaviyo, fault: str) -> None:
    tokens = _connect(fake_klaviyo)
    fake_klaviyo.inject(fault, paths=("/oauth/token",), retry_after="3" if fault == "429" else None)
    with pytest.raises(RetryableError) as caught:
        refresh(client_id="client-1", client_secret="secret-1", refresh_token=tokens.refresh_token,
                base_url=fake_klaviyo.base_url)
    assert caught.value.retry_after == (3.0 if fault == "429" else None)


def test_token_endpoint_timeout_is_retryable(fake_klaviyo: FakeKlaviyo) -> None:
    fake_klaviyo.inject("slow", paths=("/oauth/token",), delay=1.0)
    with pytest.raises(RetryableError):
        refresh(client_id="client-1", client_secret="secret-1", refresh_token="rt-x", base_url=fake_klaviyo.base_url,
                timeout=0.3)
