"""The default ESP when none is connected: writes each event to the log; the dashboard's event log shows it in full."""
from __future__ import annotations

import logging
from typing import ClassVar, Sequence

from integrations.esp.base import EspEvent, SendOutcome

log = logging.getLogger(__name__)


class ConsoleEsp:
    code: ClassVar[str] = "console"
    max_batch: ClassVar[int] = 500

    def send(self, *, events: Sequence[EspEvent]) -> list[SendOutcome]:
        for event in events:
            log.info("event %r for %s at %s%s (%s)", event.metric, event.profile.email or event.profile.external_id,
                     event.time.isoformat(), " [backfill]" if event.backfill else "", event.unique_id)
        return [SendOutcome.ok(e.unique_id) for e in events]
