"""WooCommerce pages and endpoints: connect (WC Auth or manual keys), the key callback, settings, webhooks."""
from __future__ import annotations

import json
import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.models import Store
from app.models.store import StoreStatus
from app.services.inbox import store_delivery, store_delivery_kwargs
from app.services import store_settings
from app.services.woocommerce_connect import (COMPLETE_SETTING, NOTES_SETTING, PLATFORM, accept_key_grant,
                                              connect_store, grant_outcome, site_from_input, start_key_grant)
from app.services.woocommerce_writeback import complete_enabled, notes_enabled
from app.web import db_session, read_body, runtime
from app.web.access import store_from_args
from app.web.csrf import check_csrf
from integrations.stores.woocommerce import webhooks
from integrations.stores.woocommerce.site import ConnectError, domain_of

log = logging.getLogger(__name__)
bp = Blueprint("woocommerce", __name__)


@bp.get("/woocommerce/connect")
@login_required
def connect():
    return render_template("woocommerce/connect.html", store=None, error=None, url="")


@bp.post("/woocommerce/connect")
@login_required
def start_connect():
    check_csrf()
    db = db_session()
    url = request.form.get("url", "")
    try:
        target = start_key_grant(db, runtime(), account_id=int(current_user.get_id()), raw_url=url,
                                 now=runtime().clock())
    except ConnectError as exc:
        return render_template("woocommerce/connect.html", store=None, error=str(exc), url=url), 400
    return redirect(target)


@bp.post("/woocommerce/connect/keys")
@login_required
def connect_with_keys():
    check_csrf()
    db = db_session()
    url = request.form.get("url", "")
    try:
        site = site_from_input(runtime(), url)
        store = connect_store(db, runtime(), account_id=int(current_user.get_id()), site=site,
                              consumer_key=request.form.get("consumer_key", ""),
                              consumer_secret=request.form.get("consumer_secret", ""), now=runtime().clock())
    except ConnectError as exc:
        db.rollback()
        return render_template("woocommerce/connect.html", store=None, error=str(exc), url=url), 400
    flash(f"{store.domain} is connected: its orders are being imported.")
    return redirect(url_for("dashboard.overview", store=store.id))


@bp.post("/woocommerce/auth/callback")
def key_callback():
    """Server to server from the store (no browser session, no CSRF token): trusted only through the nonce."""
    status = accept_key_grant(db_session(), runtime(), body=request.get_data(cache=False), now=runtime().clock())
    return "", status


@bp.get("/woocommerce/auth/return")
@login_required
def key_return():
    grant = grant_outcome(db_session(), nonce=request.args.get("user_id", ""))
    if grant is None or grant.account_id != int(current_user.get_id()):
        abort(404)
    if request.args.get("success") != "1":
        error = "You did not approve the connection in WooCommerce."
    elif grant.store_id is not None:
        flash("Your WooCommerce store is connected: its orders are being imported.")
        return redirect(url_for("dashboard.overview", store=grant.store_id))
    else:
        error = grant.error or "WooCommerce did not send the keys. Try again, or paste keys below."
    return render_template("woocommerce/connect.html", store=None, error=error, url=grant.site_url), 400


@bp.route("/woocommerce/settings", methods=["GET", "POST"])
@login_required
def settings():
    db = db_session()
    store = store_from_args(db)
    if store.platform != PLATFORM:
        abort(404)
    if request.method == "POST":
        check_csrf()
        store_settings.save(store, {NOTES_SETTING: request.form.get("notes") == "on",
                                    COMPLETE_SETTING: request.form.get("complete") == "on"})
        db.commit()
        flash("Write-back settings saved.")
        return redirect(url_for("woocommerce.settings", store=store.id))
    return render_template("woocommerce/settings.html", store=store, notes=notes_enabled(store),
                           complete=complete_enabled(store))


def _store_for_source(source: str) -> Store | None:
    domain = domain_of(source)
    if domain is None:
        return None
    db = db_session()
    store = db.scalar(select(Store).where(Store.platform == PLATFORM, Store.domain == domain))
    if store is None and "/" in domain:  # home URL at the root, WordPress itself in a folder
        store = db.scalar(select(Store).where(Store.platform == PLATFORM, Store.domain.startswith(f"{domain.split('/')[0]}/")))
    return store


@bp.post("/webhooks/woocommerce")
def receive_webhook():
    """Store first, answer fast: WooCommerce never retries and disables a webhook after repeated failures."""
    body = read_body(int(runtime().config["WOOCOMMERCE_WEBHOOK_MAX_BYTES"]))
    if body is None:
        return "payload too large", 413
    headers = request.headers
    if webhooks.is_ping(body, headers):
        return "", 200  # the creation ping: nothing to store
    source = headers.get(webhooks.HEADER_SOURCE, "")
    topic = headers.get(webhooks.HEADER_TOPIC, "")
    signature = webhooks.decode_signature(headers.get(webhooks.HEADER_SIGNATURE))
    if not source or not topic or signature is None:
        return "missing or malformed webhook headers", 400
    store = _store_for_source(source)
    if store is None or store.status != StoreStatus.ACTIVE:
        return "unknown store", 401
    secret = (runtime().vault.decrypt(store.credentials_encrypted) or {}).get("webhook_secret")
    if not secret or not webhooks.signature_matches(body=body, signature=signature, secret=secret):
        log.warning("WooCommerce webhook for store %s: bad signature", store.id)
        return "bad signature", 401
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "body is not JSON", 400
    if not isinstance(data, dict) or data.get("id") in (None, ""):
        return "body is not an order", 400
    db = db_session()
    store_delivery(db, source=PLATFORM, topic=topic, dedupe_key=f"{store.id}:{webhooks.dedupe_key(body, topic=topic, data=data)}",
                   body=body, headers=store_delivery_kwargs(headers), store_id=store.id, now=runtime().clock())
    db.commit()
    return "", 200

