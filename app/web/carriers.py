"""Carrier catalog and credentials in the dashboard, the carrier override of a shipment, and AfterShip's webhooks."""
from __future__ import annotations

import hashlib
import json
import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import CarrierAccount, Shipment, Store
from app.services.aftership import SOURCE, webhook_secret
from app.services.carrier_accounts import CredentialsRejected, save_carrier_credentials
from app.services.carrier_catalog import catalog_rows
from app.services.inbox import store_delivery
from app.web import db_session, read_body, runtime
from app.web.access import store_from_args, store_from_form
from integrations.carriers import CARRIERS
from integrations.carriers.aftership import SIGNATURE_HEADER, verify_signature

log = logging.getLogger(__name__)
bp = Blueprint("carriers", __name__)
WEBHOOK_MAX_BYTES = 1_000_000


def _page(store: Store, *, status: int = 200, error: str | None = None, failed_code: str | None = None):
    db = db_session()
    rows = catalog_rows(db, vault=runtime().vault, store_id=store.id, now=runtime().clock())
    webhook_url = f"{runtime().app_url}{url_for('carriers.aftership_webhook', store=store.id)}"
    return render_template("carriers/catalog.html", store=store, rows=rows, error=error, failed_code=failed_code,
                           webhook_url=webhook_url, choices=[c for c in CARRIERS if c != "sandbox"]), status


@bp.get("/carriers")
def catalog():
    return _page(store_from_args(db_session()))


@bp.post("/carriers/<code>/credentials")
def save_credentials(code: str):
    db = db_session()
    store = store_from_form(db)
    cls = CARRIERS.get(code)
    if cls is None or code == "sandbox":
        abort(404)
    account = db.scalar(select(CarrierAccount).where(CarrierAccount.store_id == store.id,
                                                     CarrierAccount.carrier_code == code))
    saved = runtime().vault.decrypt(account.credentials_encrypted) if account and account.credentials_encrypted else {}
    # A blank field keeps the saved secret: it is shown masked and never sent back to the browser.
    credentials = {name: (request.form.get(name) or "").strip() or (saved or {}).get(name, "")
                   for name in cls.credential_fields}
    try:
        save_carrier_credentials(db, runtime=runtime(), store=store, carrier_code=code, credentials=credentials)
        db.commit()
    except CredentialsRejected as exc:
        db.rollback()
        return _page(store, status=400, error=str(exc), failed_code=code)
    log.info("carrier credentials verified and saved (store %s, carrier %s)", store.id, code)
    flash(f"{cls.name}: credentials verified and saved.")
    return redirect(url_for("carriers.catalog", store=store.id))


@bp.post("/carriers/override")
def override_carrier():
    """The merchant knows better than detection: set a shipment's carrier and ask the new carrier soon."""
    db = db_session()
    store = store_from_form(db)
    number = (request.form.get("tracking_number") or "").strip()
    code = (request.form.get("carrier_code") or "").strip() or None
    if code is not None and (code not in CARRIERS or code == "sandbox"):
        abort(400, "unknown carrier")
    shipments = list(db.scalars(select(Shipment).where(Shipment.store_id == store.id,
                                                       Shipment.tracking_number == number)))
    if not shipments:
        flash(f"No shipment with tracking number {number!r} in this store.")
        return redirect(url_for("carriers.catalog", store=store.id))
    now = runtime().clock()
    for shipment in shipments:
        shipment.carrier_code = code
        shipment.poll_failures = 0
        shipment.last_error = None
        if not shipment.status_enum.is_terminal:
            shipment.tracking_stopped_reason = None
            shipment.next_poll_at = now if code else None
    db.commit()
    flash(f"{number}: carrier set to {CARRIERS[code].name if code else 'none (AfterShip if connected)'}.")
    return redirect(url_for("dashboard.shipment", shipment_id=shipments[0].id))


@bp.post("/webhooks/aftership")
def aftership_webhook():
    """Verify AfterShip's signature over the raw body, store the delivery, answer fast; the inbox applies it."""
    body = read_body(WEBHOOK_MAX_BYTES)
    if body is None:
        return "payload too large", 413
    db = db_session()
    store_id = request.args.get("store", type=int)
    secret = webhook_secret(db, vault=runtime().vault, store_id=store_id) if store_id else None
    if not verify_signature(body=body, signature=request.headers.get(SIGNATURE_HEADER), secret=secret):
        return "invalid signature", 401
    try:
        payload = json.loads(body)
    except ValueError:
        return "malformed body", 400
    msg = payload.get("msg") if isinstance(payload, dict) else None
    if not isinstance(msg, dict) or not msg.get("tracking_number"):
        return "malformed body: no tracking in `msg`", 400
    dedupe = str(payload.get("event_id") or hashlib.sha256(body).hexdigest())
    stored = store_delivery(db, source=SOURCE, topic=str(payload.get("event") or "tracking_update"),
                            dedupe_key=f"{store_id}:{dedupe}", body=body,
                            headers={"Content-Type": request.headers.get("Content-Type", "")}, store_id=store_id,
                            now=runtime().clock())
    db.commit()
    return {"ok": True, "duplicate": not stored}, 200
