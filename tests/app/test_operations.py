"""Operations: readiness, Prometheus metrics from the database, JSON logs with context, retention of webhook bodies."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import func, select, text

from app.jobs import outbox_tick, retention_tick
from app.logs import JsonFormatter, log_context
from app.models import InboxItem, RateLimitWindow
from app.services.counters import Tally
from app.services.inbox import store_delivery
from tests.app.dashboard_support import parcel, sent_event
from tests.app.factories import make_store


def test_readyz_needs_the_database_at_the_migrations_head(client, runtime):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ok"
    with runtime.db.engine.begin() as conn:
        (version,) = conn.execute(text("SELECT version_num FROM alembic_version")).one()
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    try:
        behind = client.get("/readyz")
        assert behind.status_code == 503 and behind.json["database"] == "migrations pending"
    finally:
        with runtime.db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": version})


def test_readyz_is_503_when_the_database_is_unreachable(app_config):
    from app import create_app

    broken = create_app({**app_config, "DATABASE_URL": "postgresql+psycopg://127.0.0.1:9/none", "ENGINE_OPTIONS": {
        "connect_args": {"connect_timeout": 1}}})
    assert broken.test_client().get("/readyz").status_code == 503


def test_metrics(client, runtime, session, clock):
    store = make_store(session)
    shipment = parcel(session, store, number="M-1", order_number="#1", shipped_at=clock.now - timedelta(hours=3))
    sent_event(session, store, shipment, trigger="Order Shipped", at=clock.now - timedelta(minutes=10), state="pending")
    session.add(RateLimitWindow(key="carrier:dhl:0123abcd:day", window_start=clock.now.replace(hour=0, minute=0), count=42))
    session.commit()
    clock.advance(minutes=5)
    before = client.get("/metrics").get_data(as_text=True)
    assert "parcelwise_outbox_due 1.0" in before and "parcelwise_outbox_oldest_due_age_seconds 900.0" in before
    assert 'parcelwise_carrier_quota_used{carrier="dhl",credential="0123abcd",window="day"} 42.0' in before
    assert 'parcelwise_carrier_quota_limit{carrier="dhl",credential="0123abcd"} 250.0' in before
    assert "parcelwise_poll_due 1.0" in before

    outbox_tick(runtime)  # console ESP: the event is sent, counted with the same commit
    tally = Tally()
    tally.add("polls_total", carrier="dhl", outcome="ok")
    tally.flush_to(session)
    session.commit()
    after = client.get("/metrics").get_data(as_text=True)
    assert 'parcelwise_esp_deliveries_total{outcome="sent",provider="console"} 1.0' in after
    assert 'parcelwise_polls_total{carrier="dhl",outcome="ok"} 1.0' in after
    assert 'parcelwise_esp_delivery_lag_seconds_count{provider="console"} 1.0' in after
    assert "parcelwise_outbox_due 0.0" in after


def test_metrics_token(app, client):
    app.config["METRICS_TOKEN"] = "scrape-me"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200


def test_json_logs_carry_context_and_mask_secrets():
    with log_context(store=7, carrier="dhl", shipment=99):
        record = logging.getLogRecordFactory()("app.test", logging.WARNING, __file__, 1,
                                               "refused key pk_live_0123456789abcdef for anna@example.com", (), None)
    line = json.loads(JsonFormatter().format(record))
    assert (line["store"], line["carrier"], line["shipment"], line["level"]) == (7, "dhl", 99, "WARNING")
    assert "0123456789abcdef" not in line["message"] and "anna@example.com" not in line["message"]


def test_retention_prunes_processed_webhook_bodies(runtime, session, clock):
    store = make_store(session, retention_days=30)
    for key, age, state in (("old-done", 40, "done"), ("old-pending", 40, "pending"), ("new-done", 5, "done")):
        store_delivery(session, source="shopify", topic="orders/updated", dedupe_key=key, body=b"{}", store_id=store.id,
                       now=clock.now - timedelta(days=age))
        session.scalar(select(InboxItem).where(InboxItem.dedupe_key == key)).state = state
    session.commit()
    assert retention_tick(runtime)["inbox"] == 1
    session.expire_all()
    assert set(session.scalars(select(InboxItem.dedupe_key))) == {"old-pending", "new-done"}
    assert session.scalar(select(func.count()).select_from(InboxItem)) == 2
