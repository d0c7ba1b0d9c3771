"""Configuration read once from the environment; `create_app(config=...)` overrides any key."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

# Every vendor base URL is configurable so tests and demos can point at loopback fakes.
VENDOR_URL_DEFAULTS: dict[str, str] = {
    "KLAVIYO_API_URL": "https://a.klaviyo.com",
    "KLAVIYO_OAUTH_URL": "https://www.klaviyo.com",
    "SHOPIFY_ADMIN_URL_TEMPLATE": "https://{shop}",
    "DHL_API_URL": "https://api-eu.dhl.com",
    "DHL_PARCEL_DE_API_URL": "https://api-eu.dhl.com/track/shipments/parcel-de",
    "UPS_API_URL": "https://onlinetools.ups.com",
    "FEDEX_API_URL": "https://apis.fedex.com",
    "USPS_API_URL": "https://apis.usps.com",
    "DPD_API_URL": "https://public-ws.dpd.com/services",
    "GLS_API_URL": "https://api.gls-group.net",
    "HERMES_API_URL": "https://de-api.hermesworld.com",
    "LAPOSTE_API_URL": "https://api.laposte.fr",
    "ROYALMAIL_API_URL": "https://api.royalmail.net",
    "CANADAPOST_API_URL": "https://soa-gw.canadapost.ca",
    "AFTERSHIP_API_URL": "https://api.aftership.com",
}


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    return int(value) if value not in (None, "") else default


def _float(value: str | None, default: float) -> float:
    return float(value) if value not in (None, "") else default


def _embedded_encryption_key(instance_dir: Path) -> str:
    """The embedded default keeps a generated key next to its SQLite file; production must set ENCRYPTION_KEY."""
    key_file = instance_dir / "encryption.key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration dict once: environment first, explicit overrides last."""
    env = dict(os.environ if environ is None else environ)
    overrides = dict(overrides or {})
    instance_dir = Path(overrides.get("INSTANCE_DIR") or env.get("INSTANCE_DIR") or INSTANCE_DIR)
    database_url = overrides.get("DATABASE_URL") or env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'parcelwise.db'}"
    if database_url.startswith("postgres://"):  # Heroku-style URLs
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    embedded = database_url.startswith("sqlite")

    config: dict[str, Any] = {
        "INSTANCE_DIR": str(instance_dir),
        "DATABASE_URL": database_url,
        "SECRET_KEY": env.get("SECRET_KEY") or ("dev-only-not-secret" if embedded else None),
        "ENCRYPTION_KEY": env.get("ENCRYPTION_KEY"),
        "APP_URL": (env.get("APP_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "SHOPIFY_API_KEY": env.get("SHOPIFY_API_KEY"),
        "SHOPIFY_API_SECRET": env.get("SHOPIFY_API_SECRET"),
        "SHOPIFY_API_SECRET_PREVIOUS": env.get("SHOPIFY_API_SECRET_PREVIOUS"),
        "SHOPIFY_API_VERSION": env.get("SHOPIFY_API_VERSION") or "2026-10",
        "KLAVIYO_TIMEOUT_SECONDS": _float(env.get("KLAVIYO_TIMEOUT_SECONDS"), 10.0),
        "WOOCOMMERCE_TIMEOUT_SECONDS": _float(env.get("WOOCOMMERCE_TIMEOUT_SECONDS"), 15.0),
        "WOOCOMMERCE_RECONCILE_SECONDS": _float(env.get("WOOCOMMERCE_RECONCILE_SECONDS"), 900.0),
        "WOOCOMMERCE_BACKFILL_DAYS": _int(env.get("WOOCOMMERCE_BACKFILL_DAYS"), 60),
        "WOOCOMMERCE_WEBHOOK_MAX_BYTES": _int(env.get("WOOCOMMERCE_WEBHOOK_MAX_BYTES"), 2_000_000),
        # Plain-HTTP stores (keys signed with OAuth 1.0a, sent in clear): local development only.
        "WOOCOMMERCE_ALLOW_HTTP": _bool(env.get("WOOCOMMERCE_ALLOW_HTTP"), False),
        "KLAVIYO_CLIENT_ID": env.get("KLAVIYO_CLIENT_ID"),
        "KLAVIYO_CLIENT_SECRET": env.get("KLAVIYO_CLIENT_SECRET"),
        "KLAVIYO_RATE_LIMIT": _bool(env.get("KLAVIYO_RATE_LIMIT"), True),
        "CARRIER_RATE_LIMIT": _bool(env.get("CARRIER_RATE_LIMIT"), True),
        "CARRIER_CONNECT_TIMEOUT_SECONDS": _float(env.get("CARRIER_CONNECT_TIMEOUT_SECONDS"), 3.05),
        "CARRIER_READ_TIMEOUT_SECONDS": _float(env.get("CARRIER_READ_TIMEOUT_SECONDS"), 10.0),
        "BACKFILL_WINDOW_HOURS": _int(env.get("BACKFILL_WINDOW_HOURS"), 48),
        "TICK_INBOX_SECONDS": _float(env.get("TICK_INBOX_SECONDS"), 2.0),
        "TICK_POLL_SECONDS": _float(env.get("TICK_POLL_SECONDS"), 5.0),
        "TICK_OUTBOX_SECONDS": _float(env.get("TICK_OUTBOX_SECONDS"), 2.0),
        "BATCH_SIZE": _int(env.get("BATCH_SIZE"), 100),
        "POLL_CONCURRENCY": _int(env.get("POLL_CONCURRENCY"), 8),
        "LEASE_SECONDS": _int(env.get("LEASE_SECONDS"), 300),
        "SANDBOX_LIVE": _bool(env.get("SANDBOX_LIVE"), False),
        "SANDBOX_LIVE_ORDERS_PER_MINUTE": _int(env.get("SANDBOX_LIVE_ORDERS_PER_MINUTE"), 2),
        "SANDBOX_STEP_SECONDS": _int(env.get("SANDBOX_STEP_SECONDS"), 20),
        "LOG_LEVEL": env.get("LOG_LEVEL") or "INFO",
        # How many reverse proxies (load balancer, Heroku router) sit in front of the web process: their
        # X-Forwarded-* headers are then trusted for the client's IP (rate limits) and the scheme (HSTS, URLs).
        "TRUSTED_PROXIES": _int(env.get("TRUSTED_PROXIES"), 0),
        "METRICS_TOKEN": env.get("METRICS_TOKEN"),  # set: /metrics wants "Authorization: Bearer <token>"
        "LOG_FORMAT": (env.get("LOG_FORMAT") or "text").lower(),  # "json": one JSON object per line
    }
    for name, default in VENDOR_URL_DEFAULTS.items():
        config[name] = (env.get(name) or default).rstrip("/")
    config.update(overrides)
    if not config["ENCRYPTION_KEY"]:
        if not embedded:
            raise RuntimeError("ENCRYPTION_KEY is required with a server database (generate one: "
                               "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')")
        config["ENCRYPTION_KEY"] = _embedded_encryption_key(instance_dir)
    if not config["SECRET_KEY"]:
        raise RuntimeError("SECRET_KEY is required with a server database")
    return config
