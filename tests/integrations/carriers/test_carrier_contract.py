"""One contract for every registered carrier: class attributes, a pure `parse`, and one result per number."""
from __future__ import annotations

import pytest

from integrations.carriers import CARRIERS
from integrations.carriers.base import Carrier, OpenGate, Quota, TrackingResult
from integrations.carriers.serialize import results_to_json
from integrations.errors import RetryableError
from tests.fakes.carriers import FAST_POLICY, FAST_TIMEOUT
from tests.fakes.http import FakeService, Response

GARBAGE = [b"", b"not json at all", b"<html><body>Service Unavailable</body></html>", b"[1, 2, 3]", b'{"foo": 1}',
           b"<other-root/>"]


class Dead(FakeService):
    """Answers every request with an HTML 503, like a load balancer in front of a dead carrier."""

    def dispatch(self, request):  # type: ignore[no-untyped-def, override]
        super().dispatch(request)
        return Response.html(status=503)


class Closed:
    def acquire(self) -> None:
        raise RetryableError("daily quota used up", retry_after=600)


@pytest.fixture(params=sorted(CARRIERS))
def carrier_cls(request: pytest.FixtureRequest) -> type:
    return CARRIERS[request.param]


def credentials_for(cls: type) -> dict[str, str]:
    return {name: f"test-{name}" for name in cls.credential_fields}


def test_class_attributes(carrier_cls: type) -> None:
    assert isinstance(carrier_cls.code, str) and CARRIERS[carrier_cls.code] is carrier_cls
    assert carrier_cls.name and carrier_cls.batch_size >= 1
    assert isinstance(carrier_cls.quota, Quota) and carrier_cls.quota.per_second > 0
    assert isinstance(carrier_cls.credential_fields, tuple)
    instance = carrier_cls(credentials=credentials_for(carrier_cls), gate=OpenGate())
    assert isinstance(instance, Carrier)
    if carrier_cls.code != "sandbox":
        assert carrier_cls.DEFAULT_BASE_URL.startswith("https://")
        assert "test-" not in repr(instance)  # never shows credentials


@pytest.mark.parametrize("garbage", GARBAGE)
def test_parse_rejects_other_formats(carrier_cls: type, garbage: bytes) -> None:
    with pytest.raises(ValueError):
        carrier_cls(credentials=credentials_for(carrier_cls)).parse(garbage)


def test_track_returns_one_result_per_number_even_when_the_carrier_is_down(carrier_cls: type) -> None:
    numbers = [f"NUM{n:04d}" for n in range(carrier_cls.batch_size * 2 + 1)]
    with Dead() as dead:
        carrier = carrier_cls(credentials=credentials_for(carrier_cls), base_url=dead.base_url,
                              timeout=FAST_TIMEOUT, gate=OpenGate())
        if hasattr(carrier, "transport"):
            carrier.transport.policy = FAST_POLICY  # the real backoff sleeps would only slow the test down
        results = carrier.track(numbers=numbers)
    assert sorted(r.tracking_number for r in results) == sorted(numbers)
    assert all(isinstance(r, TrackingResult) for r in results)
    results_to_json(results)  # always serializable


def test_track_with_a_closed_gate_sends_nothing(carrier_cls: type) -> None:
    if carrier_cls.code == "sandbox":
        pytest.skip("the sandbox makes no requests")
    with Dead() as dead:
        carrier = carrier_cls(credentials=credentials_for(carrier_cls), base_url=dead.base_url,
                              timeout=FAST_TIMEOUT, gate=Closed())
        results = carrier.track(numbers=["A1", "A2"])
        assert dead.requests == []
    assert [r.error.code for r in results if r.error] == ["rate_limited", "rate_limited"]
    assert all(r.error and r.error.retry_after == 600 for r in results)
