"""The minimal dashboard: pages render, replays need the CSRF token, and one store never sees another's data."""
from __future__ import annotations

import random
import re

from sqlalchemy import select

from app.jobs import inbox_tick, outbox_tick, poll_tick
from app.models import OutboxItem, Shipment
from app.services.sandbox import seed
from tests.app.factories import hours, make_order, make_shipment, make_store


def _sandbox_with_events(runtime, clock):
    with runtime.db.session() as s:
        seed(s, orders=6, now=clock.now, rng=random.Random(3), unfulfilled_share=0, step_seconds=runtime.config["SANDBOX_STEP_SECONDS"])
    for _ in range(4):
        inbox_tick(runtime), poll_tick(runtime), outbox_tick(runtime)
        clock.advance(seconds=70)


def test_pages_render_with_sandbox_data(client, runtime, clock, session):
    _sandbox_with_events(runtime, clock)
    overview = client.get("/")
    assert overview.status_code == 200 and b"Demo Shop" in overview.data
    listing = client.get("/shipments")
    assert listing.status_code == 200 and b"SBX-" in listing.data
    shipment = session.scalars(select(Shipment)).first()
    detail = client.get(f"/shipments/{shipment.id}")
    assert detail.status_code == 200 and b"Carrier timeline" in detail.data
    events = client.get("/events")
    assert events.status_code == 200 and b"Order Shipped" in events.data and b"tracking_page_url" in events.data
    assert client.get("/shipments?status=delivered").status_code == 200
    assert client.get("/healthz").json == {"status": "ok"}


def test_other_stores_are_invisible_without_signing_in(client, session, clock):
    other = make_store(session, domain="other-shop.myshopify.com", platform="shopify")
    order = make_order(session, other, placed_at=clock.now)
    shipment = make_shipment(session, other, order, shipped_at=clock.now)
    session.commit()
    assert client.get(f"/?store={other.id}").status_code == 404
    assert client.get(f"/shipments/{shipment.id}").status_code == 404
    assert client.get(f"/events?store={other.id}").status_code == 404


def test_replay_needs_csrf_token(client, session, clock, runtime):
    from app.services.outbox import enqueue
    from app.services.sandbox import sandbox_store

    store = sandbox_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(1))
    shipment = make_shipment(session, store, order, shipped_at=clock.now)
    item = enqueue(session, store=store, order=order, shipment=shipment, trigger="Order Shipped", occurred_at=clock.now,
                   now=clock.now, app_url="https://x.test")
    item.state, item.last_error = "failed", "rejected"
    session.commit()
    assert client.post(f"/events/{item.id}/replay").status_code == 400
    page = client.get("/events").data.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/events/{item.id}/replay", data={"csrf_token": token}).status_code == 302
    session.expire_all()
    assert session.get(OutboxItem, item.id).state == "pending"
