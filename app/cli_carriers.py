"""`flask carriers ...`: parse a raw carrier body (the re-mapping contract) and manage a store's carrier credentials."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import fail, find_store
from integrations.carriers import CARRIERS
from integrations.carriers.serialize import results_to_json

carriers_cli = AppGroup("carriers", help="Carrier adapters and credentials.")


@carriers_cli.command("parse")
@click.argument("carrier")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def parse(carrier: str, file: Path) -> None:
    """Parse a raw carrier response body from FILE and print the normalized results as JSON."""
    cls = CARRIERS.get(carrier)
    if cls is None:
        fail(f"unknown carrier {carrier!r} (known: {', '.join(sorted(CARRIERS))})")
    try:
        body = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    try:
        results = cls().parse(body)
    except ValueError as exc:
        fail(f"not a {carrier} response: {str(exc).splitlines()[0] if str(exc) else 'unrecognized body'}")
    click.echo(json.dumps(results_to_json(results), indent=2, ensure_ascii=False))


@carriers_cli.command("connect")
@click.argument("store_ref", metavar="STORE")
@click.argument("carrier")
@click.option("--credential", "pairs", multiple=True, metavar="NAME=VALUE", help="e.g. --credential api_key=...")
@click.option("--test-number", default=None, help="a tracking number to verify the credentials with")
def connect(store_ref: str, carrier: str, pairs: tuple[str, ...], test_number: str | None) -> None:
    """Verify a carrier's credentials with a test call and store them (encrypted) for STORE."""
    from app.services.carrier_accounts import CredentialsRejected, save_carrier_credentials

    runtime = current_app.extensions["runtime"]
    credentials = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    with runtime.db.session() as session:
        store = find_store(session, store_ref)
        try:
            save_carrier_credentials(session, runtime=runtime, store=store, carrier_code=carrier, credentials=credentials,
                                     test_number=test_number)
        except (CredentialsRejected, KeyError) as exc:
            fail(str(exc).strip("'"))
    click.echo(f"{carrier} credentials verified and saved for {store.domain}")
