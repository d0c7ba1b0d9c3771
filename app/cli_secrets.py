"""`flask secrets rotate`: re-encrypt every stored secret with the newest key of ENCRYPTION_KEY."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

secrets_cli = AppGroup("secrets", help="Secrets at rest.")


@secrets_cli.command("rotate")
def rotate() -> None:
    """Re-encrypt all stored secrets with the first ENCRYPTION_KEY (list the old key second until this has run)."""
    from app.services.secrets_rotation import rotate_all

    runtime = current_app.extensions["runtime"]
    try:
        totals = rotate_all(runtime.db, runtime.vault)
    except RuntimeError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(f"re-encrypted {sum(totals.values())} secrets with the newest key ("
               + ", ".join(f"{table}: {n}" for table, n in totals.items()) + ")")
