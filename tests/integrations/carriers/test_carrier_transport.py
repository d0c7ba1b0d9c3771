"""The HTTP seam: timeouts, bounded retries, Retry-After, HTML/empty bodies, the quota gate and the token cache."""
from __future__ import annotations

import threading
from typing import Iterator

import pytest

from integrations.carriers.transport import (
    OAuthClient,
    RetryPolicy,
    Transport,
    _TOKENS,
    parse_retry_after,
)
from integrations.errors import PermanentError, RetryableError
from tests.fakes.carriers import FAST_POLICY, FAST_TIMEOUT
from tests.fakes.http import FakeService, Request, Response, route


class Echo(FakeService):
    @route("GET", "/ok")
    def ok(self, request: Request) -> Response:
        return Response.json({"ok": True})

    @route("POST", "/token")
    def token(self, request: Request) -> Response:
        return Response.json({"access_token": f"t{len(self.requests_to('/token'))}", "expires_in": 3600})

    @route("GET", "/secure")
    def secure(self, request: Request) -> Response:
        if request.header("Authorization") != f"Bearer t{len(self.requests_to('/token'))}":
            return Response.json({"error": "expired"}, status=401)
        return Response.json({"ok": True})


class CountingGate:
    def __init__(self, allow: int = 1000) -> None:
        self.calls = 0
        self.allow = allow

    def acquire(self) -> None:
        self.calls += 1
        if self.calls > self.allow:
            raise RetryableError("quota used up", retry_after=120)


@pytest.fixture
def echo() -> Iterator[Echo]:
    with Echo() as fake:
        yield fake


def make(fake: FakeService, **kwargs) -> Transport:  # type: ignore[no-untyped-def]
    sleeps: list[float] = []
    transport = Transport(base_url=fake.base_url, timeout=FAST_TIMEOUT, policy=kwargs.pop("policy", FAST_POLICY),
                          sleep=sleeps.append, **kwargs)
    transport.sleeps = sleeps  # type: ignore[attr-defined]
    return transport


def test_5xx_html_is_retried_then_succeeds(echo: Echo) -> None:
    echo.fail_next(Response.html(status=502, title="Bad Gateway"), times=2)
    transport = make(echo)
    assert transport.request("GET", "/ok").json() == {"ok": True}
    assert len(echo.requests) == 3 and len(transport.sleeps) == 2  # type: ignore[attr-defined]


def test_persistent_5xx_html_becomes_a_short_retryable_error(echo: Echo) -> None:
    echo.fail_next(Response.html(status=503), times=10)
    with pytest.raises(RetryableError) as info:
        make(echo).request("GET", "/ok")
    assert "HTML page" in str(info.value) and "<html" not in str(info.value)
    assert len(echo.requests) == 3  # bounded: 1 + 2 retries


def test_empty_5xx_body_is_described(echo: Echo) -> None:
    echo.fail_next(Response(status=500), times=10)
    with pytest.raises(RetryableError, match="empty body"):
        make(echo).request("GET", "/ok")


def test_timeout_is_retried_and_bounded(echo: Echo) -> None:
    echo.fail_next(Response.json({}, delay=0.6), times=10)
    with pytest.raises(RetryableError, match="timed out"):
        make(echo, policy=RetryPolicy(retries=1, backoff=0.01, max_total_wait=0.1)).request("GET", "/ok")
    assert len(echo.requests) == 2


def test_dropped_connection_is_retryable(echo: Echo) -> None:
    echo.fail_next(Response(drop=True))
    assert make(echo).request("GET", "/ok").status == 200


def test_short_retry_after_is_honoured_by_sleeping(echo: Echo) -> None:
    echo.fail_next(Response.json({}, status=429, headers={"Retry-After": "0.04"}))
    transport = make(echo)
    assert transport.request("GET", "/ok").status == 200
    assert transport.sleeps == [pytest.approx(0.04)]  # type: ignore[attr-defined]


def test_long_retry_after_is_handed_to_the_caller(echo: Echo) -> None:
    echo.fail_next(Response.json({}, status=429, headers={"Retry-After": "3600"}))
    transport = make(echo)
    with pytest.raises(RetryableError) as info:
        transport.request("GET", "/ok")
    assert info.value.retry_after == 3600
    assert transport.sleeps == []  # type: ignore[attr-defined]


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_gate_is_asked_before_every_request_including_retries(echo: Echo) -> None:
    gate = CountingGate()
    echo.fail_next(Response.html(status=502))
    make(echo, gate=gate).request("GET", "/ok")
    assert gate.calls == 2


def test_gate_refusal_sends_nothing(echo: Echo) -> None:
    with pytest.raises(RetryableError) as info:
        make(echo, gate=CountingGate(allow=0)).request("GET", "/ok")
    assert info.value.retry_after == 120 and echo.requests == []


def test_401_without_oauth_is_an_auth_error(echo: Echo) -> None:
    with pytest.raises(PermanentError) as info:
        make(echo).request("GET", "/secure")
    assert info.value.code == "auth"


def test_oauth_token_is_cached_per_credential_set_and_shared(echo: Echo) -> None:
    one, two = make(echo), make(echo)
    oauth = OAuthClient(token_path="/token", client_id="id", client_secret="secret")
    for transport in (one, two, one):
        assert transport.request("GET", "/secure", oauth=oauth).status == 200
    other = OAuthClient(token_path="/token", client_id="id2", client_secret="secret")
    one.request("GET", "/secure", oauth=other)
    assert len(echo.requests_to("/token")) == 2
    assert all("secret" not in key for key in _TOKENS)  # keyed by a hash, never the secret itself


def test_oauth_401_drops_the_token_and_retries_once(echo: Echo) -> None:
    transport = make(echo)
    oauth = OAuthClient(token_path="/token", client_id="id", client_secret="secret")
    transport.request("GET", "/secure", oauth=oauth)
    # another instance refreshed the token on the carrier's side: ours is now stale
    make(echo)._send("POST", "/token", params=None, json_body=None, data=None, headers={}, auth=None)
    assert transport.request("GET", "/secure", oauth=oauth).status == 200
    assert len(echo.requests_to("/token")) == 3


def test_token_fetch_is_single_flight_across_threads(echo: Echo) -> None:
    oauth = OAuthClient(token_path="/token", client_id="id", client_secret="secret")
    transports = [make(echo) for _ in range(8)]
    threads = [threading.Thread(target=t.request, args=("GET", "/ok"), kwargs={"oauth": oauth}) for t in transports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(echo.requests_to("/token")) == 1


def test_rejected_client_credentials_are_permanent(echo: Echo) -> None:
    echo.fail_next(Response.json({"error": "invalid_client", "error_description": "Client authentication failed."},
                                 status=401), path="/token")
    oauth = OAuthClient(token_path="/token", client_id="id", client_secret="wrong-secret")
    with pytest.raises(PermanentError) as info:
        make(echo).request("GET", "/secure", oauth=oauth)
    assert info.value.code == "auth" and "wrong-secret" not in str(info.value)
