"""Secrets: encrypted at rest (a dump of every table holds none in clear), never logged, and rotatable."""
from __future__ import annotations

import logging

from cryptography.fernet import Fernet
from sqlalchemy import inspect, select, text

from app import create_app
from app.crypto import Vault
from app.jobs import inbox_tick, outbox_tick, poll_tick
from app.logs import JsonFormatter, TextFormatter
from app.models import CarrierAccount, EspConnection, Store
from app.services.carrier_accounts import save_carrier_credentials
from app.services.esp_connections import connect_klaviyo_key
from app.services.secrets_rotation import ENCRYPTED_COLUMNS
from tests.app.shopify_support import (  # noqa: F401
    app_config, clock, fake_shopify, install_via_oauth, shop_clock, shop_orders, topic_body, webhook)
from tests.fakes.carriers import FakeFedex
from tests.fakes.klaviyo import PRIVATE_KEY, FakeKlaviyo

FEDEX = {"client_id": "fedex-client-id-123", "client_secret": "fedex-client-secret-456"}


def _connect_everything(client, runtime, session, fake_shopify, klaviyo, fedex) -> tuple[int, list[str]]:
    store_id = install_via_oauth(client, fake_shopify)
    runtime.config.update(KLAVIYO_API_URL=klaviyo.base_url, FEDEX_API_URL=fedex.base_url)
    fedex.client = (FEDEX["client_id"], FEDEX["client_secret"])
    store = session.get(Store, store_id)
    connect_klaviyo_key(session, store=store, key=PRIVATE_KEY, runtime=runtime)
    session.commit()  # the carrier check writes the shared quota on its own connection
    save_carrier_credentials(session, runtime=runtime, store=store, carrier_code="fedex", credentials=FEDEX)
    session.commit()
    secrets = [PRIVATE_KEY, FEDEX["client_secret"], fake_shopify.secret, *fake_shopify.access_tokens,
               *getattr(fake_shopify, "refresh_tokens", {})]
    return store_id, [s for s in secrets if s and len(s) >= 8]


def _dump(session) -> str:
    """What `pg_dump --data-only` would show: every column of every row, as text."""
    lines = []
    for table in inspect(session.get_bind()).get_table_names():
        for row in session.execute(text(f'SELECT * FROM "{table}"')):
            lines.append(" ".join(bytes(v).decode("utf-8", "replace") if isinstance(v, (bytes, memoryview)) else str(v)
                                  for v in row))
    return "\n".join(lines)


def test_secrets_are_encrypted_at_rest_and_never_logged(client, runtime, session, fake_shopify, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeKlaviyo() as klaviyo, FakeFedex() as fedex:
        store_id, secrets = _connect_everything(client, runtime, session, fake_shopify, klaviyo, fedex)
        assert secrets and PRIVATE_KEY in secrets
        # A full flow with everything at DEBUG: a webhook, the inbox, a poll, the outbox.
        webhook(client, fake_shopify, "orders/create", topic_body(fake_shopify, "orders/create", 4))
        for _ in range(2):
            inbox_tick(runtime), poll_tick(runtime), outbox_tick(runtime)
    dump = _dump(session)
    assert "gAAAAA" in dump  # the encrypted values are there...
    assert not [s for s in secrets if s in dump]  # ...and no secret in clear
    records = caplog.records
    assert records
    rendered = "\n".join([JsonFormatter().format(r) for r in records] + [TextFormatter().format(r) for r in records])
    logged = "\n".join([caplog.text, rendered])
    assert not [s for s in secrets if s in logged]


def test_every_encrypted_column_is_rotated():
    # A new column holding secrets must join the rotation list.
    from app.db import Base

    columns = {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns if c.name.endswith("_encrypted")}
    assert columns == {f"{c.class_.__tablename__}.{c.key}" for c in ENCRYPTED_COLUMNS}


def test_key_rotation(app_config, runtime, session):
    old_key = app_config["ENCRYPTION_KEY"]
    store = Store(platform="sandbox", domain="rot.example", name="rot", settings={},
                  credentials_encrypted=runtime.vault.encrypt({"token": "shpat_rotate_me_123456"}))
    session.add(store)
    session.flush()
    session.add_all([EspConnection(store_id=store.id, provider="klaviyo", credentials_encrypted=runtime.vault.encrypt({"api_key": "pk_x"})),
                     CarrierAccount(store_id=store.id, carrier_code="dhl", credentials_encrypted=runtime.vault.encrypt({"api_key": "k"}))])
    session.commit()

    new_key = Fernet.generate_key().decode()
    rotated_app = create_app({**app_config, "ENCRYPTION_KEY": f"{new_key},{old_key}"})  # new first, old second
    rotated = rotated_app.extensions["runtime"]
    try:
        before = rotated.vault.decrypt(session.get(Store, store.id).credentials_encrypted)
        assert before == {"token": "shpat_rotate_me_123456"}  # old secrets still read
        result = rotated_app.test_cli_runner().invoke(args=["secrets", "rotate"], catch_exceptions=False)
        assert result.exit_code == 0 and "re-encrypted 3 secrets" in result.output
        session.expire_all()
        only_new = Vault(new_key)
        for column in ENCRYPTED_COLUMNS:
            for token in session.scalars(select(column).where(column.is_not(None))):
                only_new.decrypt(token)  # the old key can now be retired
        assert only_new.decrypt(session.get(Store, store.id).credentials_encrypted) == before
        # Without the key that wrote them the command refuses, with a one-line reason.
        foreign = create_app({**app_config, "ENCRYPTION_KEY": Fernet.generate_key().decode()})
        failed = foreign.test_cli_runner().invoke(args=["secrets", "rotate"])
        assert failed.exit_code == 1 and "ENCRYPTION_KEY" in failed.output
        foreign.extensions["runtime"].db.dispose()
    finally:
        rotated.db.dispose()
