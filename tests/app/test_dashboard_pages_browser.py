"""In a real Chromium: the merchant clicks through overview, shipments, a shipment, analytics and settings; a shopper
on a phone opens the tracking page and finds a parcel with the lookup form. Screenshots go to SCREENSHOT_DIR
(default tests/screenshots/, ignored by git, kept by CI as artefacts)."""
from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from sqlalchemy import select

from app.jobs import inbox_tick, outbox_tick, poll_tick
from app.models import Order, Shipment, Store
from app.services.sandbox import seed
from tests.app.test_dashboard_browser import CHROMIUM, live_server  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed (/usr/bin/chromium)")]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(__file__).resolve().parents[1] / "screenshots")
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return {**app_config, "SANDBOX_STEP_SECONDS": 4 * 3600}  # parcels take days, so transit times look real


@pytest.fixture
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        yield instance
        instance.close()


def _ten_days_of_sandbox(runtime, clock) -> None:
    rng = random.Random(11)
    for _day in range(10):
        with runtime.db.session() as s:
            seed(s, orders=8, now=clock.now, rng=rng, unfulfilled_share=0, step_seconds=runtime.config["SANDBOX_STEP_SECONDS"])
        for _ in range(6):
            inbox_tick(runtime), poll_tick(runtime), outbox_tick(runtime)
            clock.advance(hours=4)


def test_merchant_clicks_through_the_dashboard(live_server, browser, runtime, clock):  # noqa: F811
    _ten_days_of_sandbox(runtime, clock)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server + "/")
    assert page.locator("#checklist .checklist-step").count() == 4
    assert page.locator('[data-step="esp"] .next-action').text_content().startswith("Paste your Klaviyo private key")

    page.click("header >> text=Shipments")
    total = int(page.text_content("#match-total"))
    assert total >= 70
    page.select_option("select[name=status]", "delivered")
    page.click("#shipment-filters button")
    page.wait_for_url("**status=delivered**")
    delivered = int(page.text_content("#match-total"))
    assert 0 < delivered < total
    assert page.locator("#shipments .pill.delivered").count() == page.locator("tr.shipment-row").count()
    page.fill("input[name=q]", "example.com")
    page.click("#shipment-filters button")
    page.wait_for_url("**q=example.com**")

    page.locator("tr.shipment-row a").first.click()
    page.wait_for_selector("#carrier-timeline")
    assert page.locator("#carrier-timeline tr").count() >= 2
    assert page.locator("#shipment-events .pill.sent").count() >= 1

    page.click("header >> text=Analytics")
    page.wait_for_selector("#events-per-day svg")
    assert page.locator("#events-per-day svg rect.bar").count() > 10
    assert int(page.locator("#events-per-day svg").get_attribute("data-total")) > 100
    assert page.locator("#delivery-rate svg circle.segment").count() >= 1
    assert page.locator("#transit-times svg rect.bar").count() >= 1
    assert page.locator("#problem-share svg rect.bar").count() == 4
    page.screenshot(path=str(SCREENSHOTS / "parcelwise-analytics.png"), full_page=True)

    page.click("header >> text=Settings")
    page.fill("#f-brand_color", "#0b3d2e")
    page.select_option("#f-tracking_language", "de")
    page.click("#settings-form button[type=submit]")
    page.wait_for_selector(".flash")
    assert "Settings saved." in page.text_content(".flash")
    assert page.input_value("#f-brand_color") == "#0b3d2e"


def test_shopper_tracks_a_parcel_on_a_phone(live_server, browser, runtime, clock, session):  # noqa: F811
    _ten_days_of_sandbox(runtime, clock)
    store = session.scalar(select(Store).where(Store.platform == "sandbox"))
    store.settings = {**(store.settings or {}), "brand_color": "#14213d", "brand_accent_color": "#fca311"}
    session.commit()
    # A parcel with a story: several scans, and a split order if there is one.
    shipment = session.scalars(select(Shipment).where(Shipment.store_id == store.id, Shipment.status == "ready_for_pickup",
                                                      ~Shipment.is_return)).first() \
        or session.scalars(select(Shipment).where(Shipment.status == "in_transit")).first()
    order = session.get(Order, shipment.order_id)

    context = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server}/t/{shipment.tracking_token}?lang=en")
    assert page.locator("#status-headline").text_content().strip()
    assert page.locator("#timeline li").count() >= 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling on a phone
    assert page.locator('meta[name="robots"]').get_attribute("content") == "noindex, nofollow"
    page.screenshot(path=str(SCREENSHOTS / "parcelwise-tracking.png"), full_page=True)

    page.click("a[hreflang=de]")
    page.wait_for_url("**lang=de**")
    assert page.locator("html").get_attribute("lang") == "de"

    page.goto(f"{live_server}/track?lang=en")
    page.fill("#order_number", order.number)
    page.fill("#secret", "wrong@example.com")
    page.click("#lookup button")
    assert "could not find a parcel" in page.text_content("#lookup-message")
    page.fill("#order_number", order.number.lstrip("#"))
    page.fill("#secret", order.email.upper())
    page.click("#lookup button")
    page.wait_for_url("**/t/**")
    assert page.locator("#status-headline").is_visible()
    context.close()


def test_marketer_sends_a_test_event_and_retries_a_failed_one(live_server, browser, runtime, clock, session):  # noqa: F811
    from app.models import OutboxItem

    _ten_days_of_sandbox(runtime, clock)
    failed = session.scalars(select(OutboxItem).where(OutboxItem.state == "sent")).first()
    failed.state, failed.last_error = "failed", "400: profile email is invalid"
    session.commit()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server + "/")
    page.click("header >> text=Triggers")
    row = page.locator("tr", has_text="Shipment Delivered").first
    row.locator("text=Send test event").click()
    page.wait_for_selector(".flash")
    assert "Shipment Delivered" in page.text_content(".flash")
    page.screenshot(path=str(SCREENSHOTS / "parcelwise-triggers-desktop.png"), full_page=True)

    page.goto(f"{live_server}/events?state=failed")
    failed_row = page.locator("tr.event-row", has_text="profile email is invalid")
    assert failed_row.count() == 1
    failed_row.locator("text=Retry").click()
    page.wait_for_selector(".flash")
    session.expire_all()
    assert session.get(OutboxItem, failed.id).state == "pending"
    page.screenshot(path=str(SCREENSHOTS / "parcelwise-events-desktop.png"), full_page=True)


@pytest.mark.parametrize("lang,miss_text", [("en", "could not find a parcel"), ("de", "kein Paket")])
def test_shopper_looks_up_an_order_in_both_languages(live_server, browser, runtime, clock, session, lang, miss_text):  # noqa: F811
    _ten_days_of_sandbox(runtime, clock)
    order = session.scalars(select(Order).where(Order.shipments.any())).first()
    for width, name in ((375, "mobile"), (1280, "desktop")):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE" if lang == "de" else "en-GB")
        page = context.new_page()
        page.goto(f"{live_server}/track?lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        page.fill("#order_number", order.number)
        page.fill("#secret", "nobody@example.com")
        page.click("#lookup button")
        assert miss_text in page.text_content("#lookup-message")
        page.fill("#order_number", order.number)
        page.fill("#secret", order.shipping_postcode)
        page.click("#lookup button")
        page.wait_for_url("**/t/**")
        assert page.locator("#status-headline").is_visible()
        assert page.locator("#recommended li").count() >= 1  # the store's best sellers, not what was bought
        page.screenshot(path=str(SCREENSHOTS / f"parcelwise-tracking-{lang}-{name}.png"), full_page=True)
        context.close()
