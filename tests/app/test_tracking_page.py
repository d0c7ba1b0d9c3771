"""The shopper's tracking page and lookup form: branding, languages, no leaks, rate limit."""
from __future__ import annotations

from datetime import timedelta

from app.services.tracking_i18n import choose_language, format_datetime
from tests.app.dashboard_support import add_event, parcel
from tests.app.factories import hours, make_store


def _branded_store(session):
    return make_store(session, brand_logo_url="https://cdn.shop.example/logo.png", brand_color="#0b3d2e",
                      brand_accent_color="#f2c94c")


def test_tracking_page_shows_the_parcel_in_the_shoppers_language(client, session, clock):
    store = _branded_store(session)
    shipment = parcel(session, store, number="00340434161094042557", order_number="#7001", shipped_at=clock.now - hours(40),
                      carrier="dhl")
    add_event(session, shipment, at=clock.now - hours(30), status="in_transit", text="Im Paketzentrum bearbeitet",
              location="Kassel, DE", offset_minutes=60)
    add_event(session, shipment, at=clock.now - hours(2), status="ready_for_pickup", text="In der Packstation",
              location="Packstation 105, Hamburg")
    shipment.pickup_location, shipment.pickup_deadline = "Packstation 105, Jungfernstieg 1, 20095 Hamburg", "2026-11-30"
    shipment.estimated_delivery = {"earliest": "2026-11-24", "latest": "2026-11-25"}
    second = parcel(session, store, number="SBX-SECOND", order_number="#7001-b", shipped_at=clock.now - hours(10))
    second.order_id = shipment.order_id  # a split order: two parcels on one order
    session.commit()

    response = client.get(f"/t/{shipment.tracking_token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in html and '<html lang="de">' in html  # order locale de-DE
    assert "https://cdn.shop.example/logo.png" in html and "--brand:#0b3d2e" in html and "--accent:#f2c94c" in html
    assert "--on-accent:#111827" in html  # dark text on a light accent, for contrast
    assert "Bereit zur Abholung" in html and "Packstation 105, Jungfernstieg 1, 20095 Hamburg" in html
    assert "Abholen bis" in html and "30. Nov. 2026" in html
    assert "Im Paketzentrum bearbeitet" in html and "(UTC+01:00)" in html and "Kassel, DE" in html
    assert "DHL" in html and "tracking-id=00340434161094042557" in html  # the carrier's own page
    assert "Beanie" in html and "https://shop.example/b.jpg" in html
    assert "Weitere Pakete dieser Bestellung" in html and f"/t/{second.tracking_token}" in html

    english = client.get(f"/t/{shipment.tracking_token}?lang=en").get_data(as_text=True)
    assert "Ready for pickup" in english and "Pick up by" in english
    french = client.get(f"/t/{shipment.tracking_token}?lang=fr").get_data(as_text=True)
    assert "Prêt à être retiré" in french and '<html lang="fr">' in french


def test_store_language_setting_and_fallbacks():
    assert choose_language(requested=None, store_setting="fr", order_locale="de-DE") == "fr"
    assert choose_language(requested="en", store_setting="fr", order_locale="de-DE") == "en"
    assert choose_language(requested=None, store_setting="auto", order_locale="de_AT") == "de"
    assert choose_language(requested="xx", store_setting="auto", order_locale="ja-JP", accept=None) == "en"
    assert choose_language(requested=None, store_setting="auto", order_locale=None, accept="fr") == "fr"


def test_local_time_keeps_the_offset():
    from datetime import datetime, timezone

    at = datetime(2026, 11, 23, 13, 5, tzinfo=timezone(timedelta(hours=-5)))
    assert format_datetime(at, "en") == "Mon 23 Nov 2026, 1:05 pm (UTC-05:00)"
    assert format_datetime(at, "de") == "Mo. 23. Nov. 2026, 13:05 Uhr (UTC-05:00)"


def test_unknown_tokens_get_the_same_404_that_reveals_nothing(client, session, clock):
    store = make_store(session)
    shipment = parcel(session, store, number="SECRET-1", order_number="#7101", shipped_at=clock.now)
    session.commit()
    bodies = set()
    for token in ("x" * 22, "short", "../../etc/passwd", shipment.tracking_token[:-1] + "Z"):
        response = client.get(f"/t/{token}", headers={"Accept-Language": "en"})
        assert response.status_code == 404 and response.headers["X-Robots-Tag"] == "noindex, nofollow"
        bodies.add(response.get_data(as_text=True).replace(token.replace("/", "%2F"), "TOKEN").replace(token, "TOKEN"))
    assert len(bodies) == 1 and "SECRET-1" not in bodies.pop()


def test_tracking_page_shows_only_its_own_parcel(client, session, clock):
    store = make_store(session)
    mine = parcel(session, store, number="MINE-1", order_number="#7201", shipped_at=clock.now)
    other_store = make_store(session, domain="other.myshopify.com", platform="shopify")
    theirs = parcel(session, other_store, number="THEIRS-1", order_number="#7201", shipped_at=clock.now, email="x@example.com")
    session.commit()
    html = client.get(f"/t/{mine.tracking_token}").get_data(as_text=True)
    assert "MINE-1" in html and "THEIRS-1" not in html and theirs.tracking_token not in html


def _lookup(client, **form):
    return client.post("/track", data=form, environ_base={"REMOTE_ADDR": form.pop("ip", "198.51.100.7")})


def test_lookup_by_email_or_postcode(client, session, clock):
    store = make_store(session)
    shipment = parcel(session, store, number="LK-1", order_number="#8001", shipped_at=clock.now, email="Anna.S@Example.com")
    session.commit()
    assert client.get("/track").status_code == 200
    by_email = _lookup(client, order_number="8001", secret=" anna.s@example.COM ")
    assert by_email.status_code == 303 and by_email.headers["Location"].endswith(f"/t/{shipment.tracking_token}")
    by_postcode = _lookup(client, order_number="#8001", secret="20 095")
    assert by_postcode.status_code == 303


def test_a_mismatch_reveals_nothing(client, session, clock):
    store = make_store(session)
    parcel(session, store, number="LK-2", order_number="#8002", shipped_at=clock.now)
    session.commit()
    wrong_email = _lookup(client, order_number="#8002", secret="someone@example.com", lang="en")
    no_such_order = _lookup(client, order_number="#99999", secret="someone@example.com", lang="en")
    assert wrong_email.status_code == no_such_order.status_code == 200
    assert wrong_email.get_data() == no_such_order.get_data().replace(b"#99999", b"#8002")
    assert b"could not find a parcel" in wrong_email.get_data() and b"LK-2" not in wrong_email.get_data()
    assert _lookup(client, order_number="#8002", secret="").status_code == 400


def test_lookups_are_rate_limited_per_ip(client, session, clock):
    for _ in range(10):
        assert _lookup(client, order_number="#1", secret="a@b.c", ip="203.0.113.9").status_code == 200
    limited = _lookup(client, order_number="#1", secret="a@b.c", ip="203.0.113.9")
    assert limited.status_code == 429 and 0 < int(limited.headers["Retry-After"]) <= 900
    assert _lookup(client, order_number="#1", secret="a@b.c", ip="203.0.113.10").status_code == 200  # another IP
    clock.advance(minutes=15)
    assert _lookup(client, order_number="#1", secret="a@b.c", ip="203.0.113.9").status_code == 200
