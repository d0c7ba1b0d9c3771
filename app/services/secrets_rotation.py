"""Key rotation: re-encrypt every stored secret with the newest ENCRYPTION_KEY, so the old key can be retired."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from app.crypto import Vault
from app.db import Database
from app.models import CarrierAccount, EspConnection, Store

# Every column that holds a Vault token. A new encrypted column must be listed here (a test checks it).
ENCRYPTED_COLUMNS: tuple[Any, ...] = (Store.credentials_encrypted, EspConnection.credentials_encrypted,
                                      CarrierAccount.credentials_encrypted)
BATCH = 500


def rotate_all(db: Database, vault: Vault) -> dict[str, int]:
    """Returns how many secrets were re-encrypted per table. Safe to run while workers run, and to run twice."""
    totals: dict[str, int] = {}
    for column in ENCRYPTED_COLUMNS:
        model = column.class_
        primary_key = model.__mapper__.primary_key[0]
        done, last_id = 0, 0
        while True:
            with db.session() as session:
                rows = session.execute(select(primary_key, column).where(column.is_not(None), primary_key > last_id)
                                       .order_by(primary_key).limit(BATCH)).all()
                for row_id, token in rows:
                    # Compare-and-swap: a token refreshed meanwhile (Shopify, Klaviyo OAuth) is already on the new key.
                    done += session.execute(update(model).where(primary_key == row_id, column == token)
                                            .values({column.key: vault.rotate(token)})).rowcount or 0
            if not rows:
                break
            last_id = rows[-1][0]
        totals[model.__tablename__] = done
    return totals
