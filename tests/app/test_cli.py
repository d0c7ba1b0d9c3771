"""The command-line contract: one-line results, the sandbox domain last, non-zero exit with a one-line reason."""
from __future__ import annotations

from sqlalchemy import select

from app.models import OutboxItem


def test_db_upgrade_is_idempotent(app):
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and result.output.strip() == "database at head"


def test_seed_then_tick_all(app, session):
    runner = app.test_cli_runner()
    seeded = runner.invoke(args=["sandbox", "seed", "--orders", "5"])
    assert seeded.exit_code == 0
    assert seeded.output.strip().splitlines()[-1] == "demo-shop.sandbox"
    ticked = runner.invoke(args=["tick", "all"])
    assert ticked.exit_code == 0
    assert ticked.output.startswith("inbox: done=5")
    assert session.scalars(select(OutboxItem)).first() is not None


def test_tick_single_step(app):
    result = app.test_cli_runner().invoke(args=["tick", "outbox"])
    assert result.exit_code == 0 and result.output.startswith("outbox: sent=0")


def test_replay_of_a_missing_row_fails_with_one_line(app):
    result = app.test_cli_runner().invoke(args=["outbox", "replay", "999999"])
    assert result.exit_code == 1
    assert result.output.strip() == "error: outbox row 999999 does not exist"


def test_replay_of_a_failed_row(app, session, clock):
    from tests.app.factories import hours, make_order, make_shipment, make_store
    from app.services.outbox import enqueue

    store = make_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(1))
    shipment = make_shipment(session, store, order, shipped_at=clock.now)
    item = enqueue(session, store=store, order=order, shipment=shipment, trigger="Order Shipped", occurred_at=clock.now,
                   now=clock.now, app_url="https://x.test")
    item.state = "failed"
    session.commit()
    result = app.test_cli_runner().invoke(args=["outbox", "replay", str(item.id)])
    assert result.exit_code == 0 and "is due again" in result.output
