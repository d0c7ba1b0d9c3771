"""Shopify install and the embedded app: auth-code grant, App Bridge session tokens with token exchange."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import func, select

from app.models import OutboxItem, Shipment, Store
from app.models.store import StoreStatus
from app.services import store_settings, writeback
from app.services.shopify_install import SCOPES, after_install, install_store
from app.web import db_session, runtime
from app.web.access import sign_in_to_store
from integrations.errors import IntegrationError
from integrations.stores.shopify import oauth

bp = Blueprint("shopify", __name__, url_prefix="/shopify")
log = logging.getLogger(__name__)

STATE_KEY = "shopify_oauth"


def _config(name: str) -> Any:
    return current_app.config.get(name)


def app_secrets() -> list[str]:
    """The current app secret, then the previous one while a rotation is under way."""
    return [s for s in (_config("SHOPIFY_API_SECRET"), _config("SHOPIFY_API_SECRET_PREVIOUS")) if s]


def _require_app_credentials() -> None:
    if not _config("SHOPIFY_API_KEY") or not _config("SHOPIFY_API_SECRET"):
        abort(503, "the Shopify app is not configured (SHOPIFY_API_KEY, SHOPIFY_API_SECRET)")


def _shop_arg() -> str:
    try:
        return oauth.require_shop(request.args.get("shop"))
    except oauth.InvalidShopDomain:
        abort(400, "shop must be a name.myshopify.com domain")


def _install(shop: str, token: oauth.OfflineToken) -> int:
    rt = runtime()
    with rt.db.session() as db:
        store_id = install_store(db, runtime=rt, shop=shop, token=token, now=rt.clock()).id
    after_install(rt, store_id=store_id)  # remote calls after the commit, never inside the transaction
    return store_id


# -- standalone install: authorization-code grant ---------------------------------------------------------


@bp.get("/install")
def install():
    _require_app_credentials()
    shop = _shop_arg()
    state = oauth.new_state()
    session[STATE_KEY] = {"state": state, "shop": shop}  # bound to this browser by the signed session cookie
    return redirect(oauth.build_authorize_url(
        shop=shop, api_key=_config("SHOPIFY_API_KEY"), scopes=SCOPES, state=state,
        redirect_uri=runtime().app_url + url_for("shopify.callback"),
        admin_base_url_template=_config("SHOPIFY_ADMIN_URL_TEMPLATE")))


@bp.get("/callback")
def callback():
    _require_app_credentials()
    expected = session.pop(STATE_KEY, None)  # one-time: a replayed callback finds no state
    if not expected:
        abort(400, "no install in progress in this browser: start again from /shopify/install")
    try:
        shop = oauth.verify_callback_query(params=request.args.to_dict(flat=False), secret=app_secrets(),
                                           expected_state=expected["state"])
    except oauth.InvalidCallback as exc:
        log.warning("Shopify callback rejected: %s", exc)
        abort(400, "the install callback could not be verified")
    if shop != expected["shop"]:
        abort(400, "the callback is for another shop than the install")
    try:
        token = oauth.exchange_code(shop=shop, code=request.args.get("code", ""), api_key=_config("SHOPIFY_API_KEY"),
                                    secret=_config("SHOPIFY_API_SECRET"),
                                    admin_base_url_template=_config("SHOPIFY_ADMIN_URL_TEMPLATE"))
    except IntegrationError as exc:
        log.warning("Shopify code exchange for %s failed: %s", shop, exc)
        abort(502, "Shopify did not issue a token; please try the install again")
    store_id = _install(shop, token)
    sign_in_to_store(store_id)
    return redirect(url_for("dashboard.overview", store=store_id))


# -- embedded app: App Bridge session tokens, token exchange -----------------------------------------------


def _embedded_store(session_token: str | None = None) -> Store:
    """The store a verified session token names; installs it by token exchange when we hold no token for it."""
    _require_app_credentials()
    authorization = f"Bearer {session_token}" if session_token else request.headers.get("Authorization")
    try:
        shop = oauth.decode_session_token(authorization=authorization, api_key=_config("SHOPIFY_API_KEY"),
                                          secret=app_secrets())
    except oauth.InvalidSessionToken:
        abort(401)
    db = db_session()
    store = db.scalar(select(Store).where(Store.platform == "shopify", Store.domain == shop))
    if store is None or not store.credentials_encrypted or store.status == StoreStatus.UNINSTALLED:
        raw = (authorization or "").split(" ", 1)[-1].strip()
        try:
            token = oauth.token_exchange(shop=shop, session_token=raw, api_key=_config("SHOPIFY_API_KEY"),
                                         secret=_config("SHOPIFY_API_SECRET"),
                                         admin_base_url_template=_config("SHOPIFY_ADMIN_URL_TEMPLATE"))
        except IntegrationError as exc:
            log.warning("Shopify token exchange for %s failed: %s", shop, exc)
            abort(502)
        db.rollback()
        store_id = _install(shop, token)
        store = db.get(Store, store_id)
    assert store is not None
    return store


@bp.get("/app")
def embedded():
    """The app URL inside the Shopify admin. Shopify passes `id_token` on load; later calls send a fresh one."""
    shop = _shop_arg()
    if request.args.get("id_token"):
        _embedded_store(request.args["id_token"])
    response = current_app.make_response(render_template(
        "shopify/app.html", api_key=_config("SHOPIFY_API_KEY") or "", shop=shop, host=request.args.get("host", "")))
    response.headers["Content-Security-Policy"] = f"frame-ancestors https://{shop} https://admin.shopify.com"
    return response


@bp.get("/api/overview")
def api_overview():
    store = _embedded_store()
    db = db_session()
    by_status = dict(db.execute(select(Shipment.status, func.count()).where(Shipment.store_id == store.id)
                                .group_by(Shipment.status)).all())
    by_state = dict(db.execute(select(OutboxItem.state, func.count()).where(
        OutboxItem.store_id == store.id, OutboxItem.destination == "esp").group_by(OutboxItem.state)).all())
    return jsonify(shop=store.domain, store_id=store.id, status=store.status, shipments=by_status, events=by_state,
                   writeback=writeback.writeback_enabled(store))


@bp.post("/api/settings")
def api_settings():
    """Switch the write-back on or off (bearer-authenticated: no cookie, so no CSRF)."""
    store = _embedded_store()
    data = request.get_json(silent=True) or {}
    if not isinstance(data.get("shopify_writeback"), bool):
        abort(400, "shopify_writeback must be true or false")
    db = db_session()
    store_settings.save(store, {writeback.SETTING: data["shopify_writeback"]})
    db.commit()
    return jsonify(writeback=data["shopify_writeback"])
