"""Flask application factory: `create_app(config=None)`; nothing happens at import time."""
from __future__ import annotations

import logging

from typing import Any

from flask import Flask

from app.config import PROJECT_ROOT, load_config
from app.crypto import Vault
from app.db import Database
from app.logs import configure_logging
from app.runtime import Runtime


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = load_config(overrides=config)
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"), instance_path=settings["INSTANCE_DIR"])
    app.config.update(settings)
    if settings["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    configure_logging(level=settings["LOG_LEVEL"], fmt=settings["LOG_FORMAT"])
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per tick run would drown what matters

    database = Database(settings["DATABASE_URL"], engine_options=settings.get("ENGINE_OPTIONS"))
    runtime = Runtime(db=database, vault=Vault(settings["ENCRYPTION_KEY"]), config=app.config)
    if settings.get("CLOCK"):
        runtime.clock = settings["CLOCK"]
    # Off only for benchmarks that measure the app rather than the carriers' quotas.
    runtime.gate_factory = carrier_gate_factory(runtime) if settings["CARRIER_RATE_LIMIT"] else None
    app.extensions["runtime"] = runtime

    from app.web import register_blueprints
    from app.cli import register_commands

    register_blueprints(app)
    register_commands(app)
    return app


def carrier_gate_factory(runtime: Runtime):
    """Each carrier credential set gets one quota, shared by every worker through the database (in real time)."""
    from app.services.carrier_quota import CarrierQuotaGate, limiter_scope
    from integrations.carriers import CARRIERS

    def build(code: str, credentials: dict | None) -> CarrierQuotaGate:
        quota = CARRIERS[code].quota
        return CarrierQuotaGate(db=runtime.db, scope=limiter_scope(f"carrier:{code}", credentials),
                                per_second=quota.per_second, per_day=quota.per_day)
    return build
