"""Carriers by code (explicit registry, no import-time side effects)."""
from __future__ import annotations

from integrations.carriers.sandbox import SandboxCarrier

CARRIERS: dict[str, type] = {"sandbox": SandboxCarrier}
