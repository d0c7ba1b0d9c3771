"""Group commit for webhook deliveries: concurrent requests share one INSERT and one COMMIT (one disk flush).

A webhook is answered only after its row is durably stored. On PostgreSQL the commit's flush to disk costs a few
milliseconds, and paying it once per delivery caps a worker at a few hundred deliveries a second. Here each request
hands its row to one writer thread per process and waits; the writer takes everything that is waiting, writes it
with one multi-row INSERT ... ON CONFLICT DO NOTHING, commits once and wakes the requests. Nobody is answered
before their row is committed, so "stored before answered" still holds.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.models import InboxItem

log = logging.getLogger(__name__)
_INSERT = (pg_insert(InboxItem.__table__).on_conflict_do_nothing(index_elements=["source", "dedupe_key"])
           .returning(InboxItem.__table__.c.source, InboxItem.__table__.c.dedupe_key, sort_by_parameter_order=True))
MAX_ROWS = 200  # per commit; more would only make the first request in line wait longer
WAIT_SECONDS = 10.0  # a request gives up (and the platform retries) if the database does not answer in time


@dataclass
class _Pending:
    values: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    inserted: bool = False
    error: BaseException | None = None


class InboxWriter:
    """One per process and engine; `write()` blocks until the row is committed and says whether it was new."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="inbox-writer", daemon=True)
        self._thread.start()

    def write(self, values: dict[str, Any]) -> bool:
        pending = _Pending(values)
        self._queue.put(pending)
        if not pending.done.wait(WAIT_SECONDS):
            raise TimeoutError("the database did not store the delivery in time")
        if pending.error is not None:
            raise pending.error
        return pending.inserted

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_ROWS:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write_batch(batch)
            except BaseException as exc:  # never let the writer die: every waiter gets an answer
                log.exception("storing %d webhook deliveries failed", len(batch))
                for pending in batch:
                    pending.error = pending.error or exc
            finally:
                for pending in batch:
                    pending.done.set()

    def _write_batch(self, batch: list[_Pending]) -> None:
        try:
            self._insert_retrying(batch)
        except IntegrityError:
            # One row broke the batch (its store was deleted meanwhile): store the others one by one.
            for pending in batch:
                try:
                    self._insert([pending])
                except IntegrityError as exc:
                    pending.error = exc

    def _insert_retrying(self, batch: list[_Pending]) -> None:
        """The pool skips pre-ping (a round trip per batch): after a database restart the first attempt finds a dead
        connection, which is dropped, so one more attempt on a fresh connection is all it takes."""
        try:
            self._insert(batch)
        except DBAPIError as exc:
            if isinstance(exc, IntegrityError) or not exc.connection_invalidated:
                raise
            self._insert(batch)

    def _insert(self, batch: list[_Pending]) -> None:
        with self._engine.begin() as connection:
            # executemany of one cached statement: compiled once per process, sent as multi-row INSERTs.
            new = {tuple(row) for row in connection.execute(_INSERT, [p.values for p in batch])}
        for pending in batch:
            pending.inserted = (pending.values["source"], pending.values["dedupe_key"]) in new
