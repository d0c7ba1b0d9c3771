"""The command line of DESIGN.md section 6: one-line results, non-zero exit with a one-line reason on failure."""
from __future__ import annotations

import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from app.models import Store
from app.runtime import Runtime

db_cli = AppGroup("db", help="Database schema.")
sandbox_cli = AppGroup("sandbox", help="The sandbox store.")
outbox_cli = AppGroup("outbox", help="Outbox rows.")


def _runtime() -> Runtime:
    return current_app.extensions["runtime"]


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def find_store(session: Any, ref: str) -> Store:
    """STORE is a store's id or its domain."""
    store = session.get(Store, int(ref)) if ref.isdigit() else session.scalar(select(Store).where(Store.domain == ref))
    if store is None:
        fail(f"no store {ref!r}")
    return store


def alembic_config(url: str, connection: Any = None):
    from alembic.config import Config

    from app.config import PROJECT_ROOT

    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade_database(url: str, connection: Any = None, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url, connection), revision)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema."""
    runtime = _runtime()
    with runtime.db.engine.begin() as connection:
        upgrade_database(current_app.config["DATABASE_URL"], connection, revision)
    click.echo(f"database at {revision}")


@click.command("worker")
@with_appcontext
def worker() -> None:
    """Run the scheduler ticks until stopped (the Procfile's worker)."""
    from app.scheduler import build_scheduler

    click.echo("worker started")
    build_scheduler(_runtime(), blocking=True).start()


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve(host: str, port: int) -> None:
    """Web and worker in one process: the embedded default for one machine (production uses the Procfile)."""
    from werkzeug.serving import run_simple

    from app.scheduler import build_scheduler

    scheduler = build_scheduler(_runtime(), blocking=False)
    scheduler.start()
    click.echo(f"dashboard: http://{host}:{port}/  (web and worker in one process; Ctrl-C stops both)")
    try:
        run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)
    finally:
        scheduler.shutdown(wait=False)


@click.command("tick")
@with_appcontext
@click.argument("step", default="all", type=click.Choice(["inbox", "poll", "outbox", "delays", "writeback", "retention", "all"]))
def tick(step: str) -> None:
    """Run one pass of a step (or all), then exit."""
    from app.jobs import ONE_PASS_ORDER, STEPS

    names = ONE_PASS_ORDER if step == "all" else (step,)
    parts = []
    for name in names:
        counts = STEPS[name].run(_runtime())
        parts.append(f"{name}: " + (", ".join(f"{k}={v}" for k, v in counts.items()) or "nothing due"))
    click.echo("; ".join(parts))


@sandbox_cli.command("seed")
@click.option("--orders", default=20, type=click.IntRange(0, 100000), show_default=True)
@click.option("--if-empty", is_flag=True, help="Only seed when the sandbox store has no orders yet.")
def sandbox_seed(orders: int, if_empty: bool) -> None:
    """Create (or extend) the sandbox store with N orders and parcels; prints its domain last."""
    from app.services.sandbox import has_orders, seed

    runtime = _runtime()
    with runtime.db.session() as session:
        if if_empty and has_orders(session):
            orders = 0
        store = seed(session, orders=orders, now=runtime.clock(), step_seconds=runtime.config["SANDBOX_STEP_SECONDS"])
        domain = store.domain
    click.echo(f"{orders} sandbox orders queued for processing")
    click.echo(domain)


@outbox_cli.command("replay")
@click.argument("item_id", type=int)
def outbox_replay(item_id: int) -> None:
    """Make a failed outbox row due again."""
    from app.services.outbox import replay

    runtime = _runtime()
    try:
        with runtime.db.session() as session:
            item = replay(session, item_id=item_id, now=runtime.clock())
            trigger = item.trigger
    except (LookupError, ValueError) as exc:
        fail(str(exc))
    click.echo(f"outbox row {item_id} ({trigger}) is due again")


def register_commands(app: Flask) -> None:
    from app.cli_carriers import carriers_cli
    from app.cli_esp import esp_cli
    from app.cli_secrets import secrets_cli

    for command in (db_cli, sandbox_cli, outbox_cli, worker, serve, tick, carriers_cli, esp_cli, secrets_cli):
        app.cli.add_command(command)
