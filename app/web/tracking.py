"""The shopper's branded tracking page (/t/<token>) and the order lookup form (/track), public and rate limited."""
from __future__ import annotations

import math
from datetime import timedelta

from flask import Blueprint, Response, current_app, make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import Store
from app.services import store_settings
from app.services.cross_sell import cross_sell
from app.services.ratelimit import take
from app.services.tracking_i18n import LANGUAGE_NAMES, LANGUAGES, TEXT, choose_language
from app.services.tracking_page import first_parcel, load_shipment, lookup, parcel_view
from app.web import db_session, runtime

bp = Blueprint("tracking", __name__)
LOOKUP_LIMIT = 10  # attempts per IP and window: plenty for a shopper, useless for guessing order numbers
LOOKUP_WINDOW = timedelta(minutes=15)


@bp.context_processor
def _helpers() -> dict:
    def lang_url(code: str) -> str:
        args = {**request.args.to_dict(), **(request.view_args or {}), "lang": code}
        return url_for(request.endpoint or "tracking.lookup_form", **args)
    return {"lang_url": lang_url}


def _private(response: Response) -> Response:
    """Tracking pages are personal: never indexed, never cached by proxies, the token never sent on as a referrer."""
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _browser_language() -> str | None:
    return request.accept_languages.best_match(LANGUAGES)


def _store_by_domain(domain: str | None) -> Store | None:
    if not domain:
        return None
    return db_session().scalar(select(Store).where(Store.domain == domain.strip().lower()[:255]).limit(1))


def _not_found(lang: str) -> Response:
    return _private(make_response(render_template("tracking/not_found.html", lang=lang, text=TEXT[lang], brand=None,
                                                  languages=LANGUAGE_NAMES), 404))


@bp.get("/t/<path:token>")  # any path under /t/ gets the same not-found page
def parcel(token: str):
    db = db_session()
    requested = request.args.get("lang")
    shipment = load_shipment(db, token=token)
    if shipment is None:  # the same answer for a malformed, an unknown and a deleted token
        return _not_found(choose_language(requested=requested, store_setting=None, order_locale=None,
                                          accept=_browser_language()))
    store = db.get(Store, shipment.store_id)
    lang = choose_language(requested=requested, store_setting=store.setting(store_settings.TRACKING_LANGUAGE, "auto"),
                           order_locale=shipment.order.locale, accept=_browser_language())
    view = parcel_view(shipment, lang=lang, recommended=cross_sell(db, store=store, order=shipment.order))
    return _private(make_response(render_template("tracking/parcel.html", view=view, text=view.text, lang=lang,
                                                  brand=store_settings.branding(store), token=token, store=store,
                                                  languages=LANGUAGE_NAMES)))


def _lookup_page(*, lang: str, store: Store | None, message: str | None = None, number: str = "", status: int = 200,
                 headers: dict[str, str] | None = None) -> Response:
    response = make_response(render_template(
        "tracking/lookup.html", lang=lang, text=TEXT[lang], brand=store_settings.branding(store) if store else None,
        store=store, message=message, number=number, languages=LANGUAGE_NAMES), status)
    response.headers.update(headers or {})
    return _private(response)


def _lookup_language(store: Store | None) -> str:
    fixed = store.setting(store_settings.TRACKING_LANGUAGE, "auto") if store else None
    return choose_language(requested=request.values.get("lang"), store_setting=fixed, order_locale=None,
                           accept=_browser_language())


@bp.get("/track")
def lookup_form():
    store = _store_by_domain(request.args.get("shop"))
    return _lookup_page(lang=_lookup_language(store), store=store)


@bp.post("/track")
def lookup_submit():
    store = _store_by_domain(request.form.get("shop"))
    lang = _lookup_language(store)
    text = TEXT[lang]
    wait = take(runtime().db.engine, key=f"track-lookup:{request.remote_addr or 'unknown'}",
                limit=int(current_app.config.get("TRACKING_LOOKUP_LIMIT", LOOKUP_LIMIT)), length=LOOKUP_WINDOW,
                now=runtime().clock())
    if wait:
        return _lookup_page(lang=lang, store=store, status=429, headers={"Retry-After": str(math.ceil(wait))},
                            message=text["too_many"].format(m=max(1, math.ceil(wait / 60))))
    number, secret = request.form.get("order_number", ""), request.form.get("secret", "")
    if not number.strip() or not secret.strip():
        return _lookup_page(lang=lang, store=store, message=text["required"], number=number[:64], status=400)
    order = lookup(db_session(), number=number, secret=secret, store=store)
    if order is None:
        return _lookup_page(lang=lang, store=store, message=text["no_match"], number=number[:64])
    parcel_row = first_parcel(order)
    if parcel_row is None:
        return _lookup_page(lang=lang, store=store, message=text["not_shipped"], number=number[:64])
    return redirect(url_for("tracking.parcel", token=parcel_row.tracking_token, lang=request.form.get("lang") or None), 303)
