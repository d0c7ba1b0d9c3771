"""`flask esp ...`: connect a store's Klaviyo account by private key, send a test event."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import fail, find_store
from app.runtime import Runtime
from app.services.catalog import METRICS
from integrations.errors import IntegrationError

esp_cli = AppGroup("esp", help="The store's ESP (Klaviyo, signed webhook).")


def _runtime() -> Runtime:
    return current_app.extensions["runtime"]


@esp_cli.command("connect")
@click.argument("store_ref", metavar="STORE")
@click.option("--klaviyo-key", "key", required=True, help="A Klaviyo private API key (pk_...).")
def esp_connect(store_ref: str, key: str) -> None:
    """Validate a Klaviyo private key and attach it to STORE."""
    from app.services.esp_connections import connect_klaviyo_key

    runtime = _runtime()
    try:
        with runtime.db.session() as session:
            store = find_store(session, store_ref)
            connection = connect_klaviyo_key(session, store=store, key=key, runtime=runtime)
            account, domain = connection.account_name, store.domain
    except IntegrationError as exc:
        fail(str(exc))
    click.echo(f"{domain}: connected to Klaviyo account {account!r}")


@esp_cli.command("test-event")
@click.argument("store_ref", metavar="STORE")
@click.argument("trigger")
def esp_test_event(store_ref: str, trigger: str) -> None:
    """Send one test event for TRIGGER (a metric name of the catalog) to STORE's ESP now."""
    from app.services.test_events import send_test_event

    if trigger not in METRICS:
        fail(f"unknown trigger {trigger!r}; use one of: {', '.join(METRICS)}")
    runtime = _runtime()
    with runtime.db.session() as session:
        store = find_store(session, store_ref)
        sent = send_test_event(session, store=store, trigger=trigger, esp_for=runtime.esp, now=runtime.clock(),
                               app_url=runtime.app_url)
    if not sent.outcome.accepted:
        fail(f"{sent.provider} did not accept the test event: {sent.outcome.error}")
    source = "the latest order" if sent.from_real_order else "sample data"
    click.echo(f"sent test event {trigger!r} to {sent.provider} from {source} (unique_id {sent.unique_id})")
