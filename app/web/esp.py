"""Dashboard pages for the ESP: connection settings (key, OAuth, webhook), the trigger catalog, flow recipes."""
from __future__ import annotations

import json
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy import func, select

from app.models import OutboxItem, Store
from app.models.outbox import OutboxState
from app.services import store_settings
from app.services.catalog import CATALOG, CORE_PROPERTIES, METRICS
from app.services.esp_connections import (connect_klaviyo_key, connect_klaviyo_oauth, connect_webhook,
                                          current_connection, disconnect, masked)
from app.services.flow_recipes import COMMON_FILTERS, RECIPES
from app.services.test_events import example_payload, send_test_event
from app.web import db_session, runtime
from app.web.access import require_store, store_from_args, store_from_form
from integrations.errors import IntegrationError
from integrations.esp.klaviyo_oauth import build_authorize_url, exchange_code

bp = Blueprint("esp", __name__)
OAUTH_SESSION_KEY = "klaviyo_oauth"


def _settings_page(store: Store, *, new_secret: str | None = None, status: int = 200):
    db = db_session()
    connection = current_connection(db, store)
    credentials = runtime().vault.decrypt(connection.credentials_encrypted) if connection else None
    secret_hint = masked((credentials or {}).get("api_key") or (credentials or {}).get("secret"))
    auth = "OAuth" if (credentials or {}).get("access_token") else ("private key" if connection else None)
    oauth_ready = bool(current_app.config.get("KLAVIYO_CLIENT_ID") and current_app.config.get("KLAVIYO_CLIENT_SECRET"))
    return render_template("esp/settings.html", store=store, connection=connection, secret_hint=secret_hint,
                           auth=auth, new_secret=new_secret, oauth_ready=oauth_ready, metrics=METRICS), status


@bp.get("/esp")
def settings():
    return _settings_page(store_from_args(db_session()))


@bp.post("/esp/klaviyo-key")
def klaviyo_key():
    store = store_from_form(db_session())
    db = db_session()
    try:
        connection = connect_klaviyo_key(db, store=store, key=request.form.get("api_key", ""), runtime=runtime())
        db.commit()
    except IntegrationError as exc:
        db.rollback()
        flash(str(exc))
        return _settings_page(store, status=400)
    flash(f"Connected to Klaviyo account {connection.account_name}.")
    return redirect(url_for("esp.settings", store=store.id))


@bp.get("/esp/klaviyo/oauth/start")
def oauth_start():
    store = store_from_args(db_session())
    client_id = current_app.config.get("KLAVIYO_CLIENT_ID")
    if not client_id:
        abort(404)
    auth = build_authorize_url(client_id=client_id, redirect_uri=url_for("esp.oauth_callback", _external=True),
                               base_url=current_app.config["KLAVIYO_OAUTH_URL"])
    # The verifier never leaves the server side of the flow except in the signed session cookie of this browser.
    session[OAUTH_SESSION_KEY] = {"state": auth.state, "code_verifier": auth.code_verifier, "store": store.id}
    return redirect(auth.url)


@bp.get("/esp/klaviyo/oauth/callback")
def oauth_callback():
    pending = session.pop(OAUTH_SESSION_KEY, None)
    if not pending or request.args.get("state") != pending.get("state"):
        abort(400, "this Klaviyo authorisation was not started here or has expired; start again")
    db = db_session()
    store = require_store(db, pending["store"])
    if request.args.get("error"):
        flash(f"Klaviyo did not grant access: {request.args.get('error_description') or request.args['error']}")
        return redirect(url_for("esp.settings", store=store.id))
    config = current_app.config
    try:
        tokens = exchange_code(client_id=config["KLAVIYO_CLIENT_ID"], client_secret=config["KLAVIYO_CLIENT_SECRET"],
                               code=request.args.get("code", ""), code_verifier=pending["code_verifier"],
                               redirect_uri=url_for("esp.oauth_callback", _external=True),
                               base_url=config["KLAVIYO_API_URL"], timeout=config["KLAVIYO_TIMEOUT_SECONDS"],
                               now=runtime().clock())
        connection = connect_klaviyo_oauth(db, store=store, tokens=tokens, runtime=runtime())
        db.commit()
    except IntegrationError as exc:
        db.rollback()
        flash(f"Connecting Klaviyo failed: {exc}")
        return redirect(url_for("esp.settings", store=store.id))
    flash(f"Connected to Klaviyo account {connection.account_name} with OAuth.")
    return redirect(url_for("esp.settings", store=store.id))


@bp.post("/esp/webhook")
def webhook():
    store = store_from_form(db_session())
    db = db_session()
    try:
        _connection, secret = connect_webhook(db, store=store, url=request.form.get("url", ""), runtime=runtime())
        db.commit()
    except ValueError as exc:
        flash(str(exc))
        return _settings_page(store, status=400)
    # Shown in this response only: it is stored encrypted and masked on every later page.
    return _settings_page(store, new_secret=secret)


@bp.post("/esp/disconnect")
def disconnect_esp():
    store = store_from_form(db_session())
    db = db_session()
    disconnect(db, store=store)
    db.commit()
    flash("Disconnected: events go to the console (the event log) until you connect an ESP.")
    return redirect(url_for("esp.settings", store=store.id))


@bp.post("/esp/test-event")
def test_event():
    store = store_from_form(db_session())
    trigger = request.form.get("trigger", "")
    if trigger not in METRICS:
        abort(400, "unknown trigger")
    rt = runtime()
    sent = send_test_event(db_session(), store=store, trigger=trigger, esp_for=rt.esp, now=rt.clock(),
                           app_url=rt.app_url)
    if sent.outcome.accepted:
        flash(f"Test event {trigger!r} sent to {sent.provider}.")
    else:
        flash(f"{sent.provider} did not accept the test event: {sent.outcome.error}")
    return redirect(request.form.get("back") == "triggers" and url_for("esp.triggers", store=store.id)
                    or url_for("esp.settings", store=store.id))


@bp.get("/triggers")
def triggers():
    db = db_session()
    store = store_from_args(db)
    rt = runtime()
    since = rt.clock() - timedelta(days=7)
    sent = dict(db.execute(select(OutboxItem.trigger, func.count()).where(
        OutboxItem.store_id == store.id, OutboxItem.state == OutboxState.SENT, OutboxItem.sent_at >= since)
        .group_by(OutboxItem.trigger)).all())
    disabled = set(store.setting("disabled_triggers", []))
    examples = {spec.metric: json.dumps(example_payload(store, spec.metric, now=rt.clock(), app_url=rt.app_url),
                                        indent=2, default=str) for spec in CATALOG}
    return render_template("esp/triggers.html", store=store, catalog=CATALOG, core=CORE_PROPERTIES, sent=sent,
                           disabled=disabled, examples=examples)


@bp.post("/triggers/switch")
def switch_trigger():
    store = store_from_form(db_session())
    trigger = request.form.get("trigger", "")
    if trigger not in METRICS:
        abort(400, "unknown trigger")
    disabled = set(store.setting("disabled_triggers", []))
    if request.form.get("enabled") == "1":
        disabled.discard(trigger)
    else:
        disabled.add(trigger)
    store_settings.save(store, {"disabled_triggers": sorted(disabled)})
    db_session().commit()
    flash(f"{trigger} is {'on' if trigger not in disabled else 'off'}.")
    return redirect(url_for("esp.triggers", store=store.id))


@bp.get("/flows")
def flows():
    store = store_from_args(db_session())
    return render_template("esp/flows.html", store=store, recipes=RECIPES, common_filters=COMMON_FILTERS)
