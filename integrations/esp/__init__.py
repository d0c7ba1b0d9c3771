"""ESPs by name (explicit registry, no import-time side effects)."""
from __future__ import annotations

from integrations.esp.console import ConsoleEsp

ESPS: dict[str, type] = {"console": ConsoleEsp}
