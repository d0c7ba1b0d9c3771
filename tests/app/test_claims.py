"""Claimed work: concurrent workers take disjoint batches; a crash mid-batch leaves the rows due again."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import OutboxItem
from app.services.claims import claim_due
from app.services.delivery import deliver_due
from app.services.outbox import enqueue
from tests.app.esp_doubles import ScriptedEsp
from tests.app.factories import hours, make_order, make_shipment, make_store


def _outbox_rows(session, clock, n):
    store = make_store(session)
    order = make_order(session, store, placed_at=clock.now - hours(2))
    for i in range(n):
        shipment = make_shipment(session, store, order, number=f"C{i}", shipped_at=clock.now - hours(1))
        enqueue(session, store=store, order=order, shipment=shipment, trigger="Order Shipped",
                occurred_at=shipment.shipped_at, now=clock.now, app_url="https://x.test")
    session.commit()


def test_two_workers_never_claim_the_same_row(postgres_only, runtime, session, clock):
    _outbox_rows(session, clock, 120)
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        barrier.wait()
        while True:
            with runtime.db.session() as s:
                rows = claim_due(s, model=OutboxItem, due_column=OutboxItem.next_attempt_at, now=clock.now, limit=7,
                                 lease=timedelta(minutes=5), where=[OutboxItem.state == "pending"])
                if not rows:
                    return
                claimed[name] += [r.id for r in rows]

    threads = [threading.Thread(target=worker, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not set(claimed["a"]) & set(claimed["b"])
    assert len(claimed["a"]) + len(claimed["b"]) == 120
    assert claimed["a"] and claimed["b"], "both workers should have found work"


def test_two_workers_delivering_send_each_event_once(postgres_only, runtime, session, clock):
    _outbox_rows(session, clock, 80)
    esp = ScriptedEsp()
    lock = threading.Lock()

    class Recording(ScriptedEsp):
        def send(self, *, events):
            with lock:
                return esp.send(events=events)

    def worker() -> None:
        for _ in range(20):
            with runtime.db.session() as s:
                deliver_due(s, esp_for=lambda c: Recording(), now=clock.now, limit=5)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(esp.accepted) == 80 and len(set(esp.accepted)) == 80


def test_crash_between_claim_and_finish_leaves_rows_due_again(session, clock):
    _outbox_rows(session, clock, 5)

    class Crash(BaseException):
        """Stands in for the process dying: not an Exception, so nothing inside may swallow it."""

    class Dying(ScriptedEsp):
        def send(self, *, events):
            raise Crash()

    with pytest.raises(Crash):
        deliver_due(session, esp_for=lambda c: Dying(), now=clock.now, lease=timedelta(minutes=5))
    session.rollback()
    ok = ScriptedEsp()
    assert deliver_due(session, esp_for=lambda c: ok, now=clock.now + timedelta(minutes=1))["sent"] == 0  # still leased
    assert deliver_due(session, esp_for=lambda c: ok, now=clock.now + timedelta(minutes=6))["sent"] == 5
    assert len(set(ok.accepted)) == 5
    assert {r.state for r in session.scalars(select(OutboxItem))} == {"sent"}
