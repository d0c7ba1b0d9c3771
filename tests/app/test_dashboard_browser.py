"""The dashboard in a real Chromium: a merchant sees shipments and events, and can open an event's properties."""
from __future__ import annotations

import os
import random
import threading

import pytest
from werkzeug.serving import make_server

from app.jobs import inbox_tick, outbox_tick, poll_tick
from app.services.sandbox import seed

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed (/usr/bin/chromium)")]


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def page():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        yield browser.new_page()
        browser.close()


def test_merchant_sees_shipments_moving_and_events(live_server, page, runtime, clock):
    with runtime.db.session() as s:
        seed(s, orders=8, now=clock.now, rng=random.Random(5), unfulfilled_share=0, step_seconds=runtime.config["SANDBOX_STEP_SECONDS"])
    for _ in range(5):
        inbox_tick(runtime), poll_tick(runtime), outbox_tick(runtime)
        clock.advance(seconds=70)

    page.goto(live_server + "/")
    assert int(page.text_content("#shipment-total")) >= 8
    assert int(page.text_content("#events-sent")) > 8
    page.click("text=Shipments")
    page.wait_for_selector("#shipments")
    assert page.locator("#shipments tr").count() > 8
    page.click("text=Event log")
    row = page.locator("tr.event-row").first
    row.locator("summary").click()
    assert '"tracking_page_url"' in row.locator("pre").text_content()
    assert page.locator("#events .pill.sent").count() > 0
