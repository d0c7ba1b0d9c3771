"""A scripted ESP implementing our own Esp protocol, for delivery-step tests that are about our bookkeeping."""
from __future__ import annotations

from typing import Callable, ClassVar, Sequence

from integrations.esp.base import EspEvent, SendOutcome


class ScriptedEsp:
    code: ClassVar[str] = "scripted"
    max_batch: ClassVar[int] = 50

    def __init__(self, answer: Callable[[EspEvent], SendOutcome] | None = None) -> None:
        self.answer = answer or (lambda e: SendOutcome.ok(e.unique_id))
        self.accepted: list[str] = []
        self.calls = 0

    def send(self, *, events: Sequence[EspEvent]) -> list[SendOutcome]:
        self.calls += 1
        outcomes = [self.answer(e) for e in events]
        self.accepted += [o.unique_id for o in outcomes if o.accepted]
        return outcomes
