"""ESPs by name (explicit registry, no import-time side effects)."""
from __future__ import annotations

from integrations.esp.console import ConsoleEsp
from integrations.esp.klaviyo import KlaviyoEsp
from integrations.esp.webhook import SignedWebhookEsp

ESPS: dict[str, type] = {"console": ConsoleEsp, "klaviyo": KlaviyoEsp, "webhook": SignedWebhookEsp}
