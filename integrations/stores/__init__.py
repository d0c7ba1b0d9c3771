"""Store platforms by name (explicit registry, no import-time side effects)."""
from __future__ import annotations

from integrations.stores.sandbox import SandboxStore

STORES: dict[str, type] = {"sandbox": SandboxStore}
