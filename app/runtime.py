"""The composition root: database, vault, configuration and the factories that build adapters for a store."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from app.crypto import Vault
from app.db import Database, utcnow
from app.models import CarrierAccount, EspConnection, Store
from app.services.tracking import TrackingContext
from integrations.carriers import CARRIERS
from integrations.carriers.base import Carrier, RequestGate
from integrations.esp import ESPS
from integrations.esp.base import Esp
from integrations.stores import STORES
from integrations.stores.base import StorePlatform

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    db: Database
    vault: Vault
    config: dict[str, Any]
    clock: Callable[[], datetime] = field(default=utcnow)
    # Supplied by the app when a shared (cross-worker) carrier rate limiter is configured.
    gate_factory: Callable[[str, dict[str, Any] | None], RequestGate] | None = None

    @property
    def app_url(self) -> str:
        return self.config["APP_URL"]

    @property
    def tracking_context(self) -> TrackingContext:
        return TrackingContext(app_url=self.app_url, backfill_window_hours=self.config["BACKFILL_WINDOW_HOURS"])

    def carrier(self, code: str, *, account: CarrierAccount | None = None) -> Carrier:
        cls = CARRIERS[code]
        credentials = self.vault.decrypt(account.credentials_encrypted) if account else None
        kwargs: dict[str, Any] = {
            "credentials": credentials,
            "timeout": (self.config["CARRIER_CONNECT_TIMEOUT_SECONDS"], self.config["CARRIER_READ_TIMEOUT_SECONDS"]),
        }
        url_setting = getattr(cls, "base_url_setting", None) or f"{code.upper()}_API_URL"
        if url_setting in self.config:
            kwargs["base_url"] = self.config[url_setting]
        if self.gate_factory is not None:
            kwargs["gate"] = self.gate_factory(code, credentials)
        if code == "sandbox":
            kwargs = {"step_seconds": self.config["SANDBOX_STEP_SECONDS"], "clock": self.clock}
        return cls(**kwargs)

    def esp(self, connection: EspConnection | None) -> Esp:
        """The store's ESP; with no connection, events go to the console (and the dashboard's event log)."""
        if connection is None or connection.provider == "console":
            return ESPS["console"]()
        credentials = self.vault.decrypt(connection.credentials_encrypted) or {}
        factory = ESP_FACTORIES[connection.provider]
        return factory(self, connection, credentials)

    def store_adapter(self, store: Store | None, *, platform: str | None = None) -> StorePlatform:
        name = store.platform if store is not None else platform
        if name in STORE_FACTORIES:  # adapters whose tokens the app must refresh and store (needs db and vault)
            return STORE_FACTORIES[name](self, store)
        cls = STORES[name]  # type: ignore[index]
        credentials = self.vault.decrypt(store.credentials_encrypted) if store is not None else None
        builder = getattr(cls, "from_runtime", None)
        if builder is not None:
            return builder(store=store, credentials=credentials, config=self.config)
        return cls()


def _klaviyo(runtime: Runtime, connection: EspConnection, credentials: dict[str, Any]) -> Esp:
    from app.services.esp_connections import UnavailableEsp, fresh_klaviyo_credentials
    from app.services.ratelimit import SharedRateLimiter
    from integrations.errors import IntegrationError

    if credentials.get("access_token"):
        try:  # OAuth: refresh a token that is about to expire (once, under a row lock shared by all workers)
            credentials = fresh_klaviyo_credentials(runtime, connection_id=connection.id)
        except IntegrationError as exc:
            return UnavailableEsp(error=str(exc), auth_failed=getattr(exc, "code", "") == "invalid_grant")
    gate = None
    if runtime.config["KLAVIYO_RATE_LIMIT"]:
        # One quota per Klaviyo account; an OAuth app has its own quota next to the account's private keys.
        auth = "oauth" if credentials.get("access_token") else "key"
        scope = f"klaviyo:{credentials.get('account_id') or connection.id}:{auth}"
        gate = SharedRateLimiter(runtime.db.engine, clock=runtime.clock).gate(scope)
    return ESPS["klaviyo"](api_key=credentials.get("api_key"), access_token=credentials.get("access_token"),
                           base_url=runtime.config["KLAVIYO_API_URL"], timeout=runtime.config["KLAVIYO_TIMEOUT_SECONDS"],
                           gate=gate)


def _webhook(runtime: Runtime, connection: EspConnection, credentials: dict[str, Any]) -> Esp:
    return ESPS["webhook"](url=credentials["url"], secret=credentials["secret"])


EspFactory = Callable[[Runtime, EspConnection, dict[str, Any]], Esp]
ESP_FACTORIES: dict[str, EspFactory] = {"klaviyo": _klaviyo, "webhook": _webhook}


def _shopify(runtime: Runtime, store: Store | None) -> StorePlatform:
    from app.services.shopify_store import shopify_adapter

    return shopify_adapter(runtime, store)


STORE_FACTORIES: dict[str, Callable[[Runtime, Store | None], StorePlatform]] = {"shopify": _shopify}
