"""The store settings page: delay thresholds, backfill window, write-back, tracking-page branding, data retention."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.models import CarrierAccount, Store
from app.services import store_settings
from app.services.cross_sell import picks_as_text
from app.services.esp_connections import current_connection, masked
from app.web import db_session, runtime
from app.web.access import store_from_args, store_from_form
from app.web.links import page_link
from integrations.carriers import CARRIERS

bp = Blueprint("settings", __name__)
GROUPS = {"delays": "Delay thresholds", "events": "Events", "writeback": "Write-back to your store",
          "branding": "Tracking page branding", "retention": "Data retention"}


def _render(store: Store, *, values: dict, errors: dict[str, str], status: int = 200):
    db = db_session()
    connection = current_connection(db, store)
    credentials = runtime().vault.decrypt(connection.credentials_encrypted) if connection else None
    secret_hint = masked((credentials or {}).get("api_key") or (credentials or {}).get("secret")
                         or (credentials or {}).get("access_token"))
    accounts = list(db.scalars(select(CarrierAccount).where(CarrierAccount.store_id == store.id).order_by(CarrierAccount.carrier_code)))
    fields = store_settings.fields_for(store)
    grouped = {name: [f for f in fields if f.group == key] for key, name in GROUPS.items()}
    return render_template("settings/page.html", store=store, grouped={k: v for k, v in grouped.items() if v},
                           values=values, errors=errors, connection=connection, secret_hint=secret_hint,
                           accounts=accounts, carrier_names={c: cls.name for c, cls in CARRIERS.items()},
                           esp_link=page_link("esp", store=store.id), carriers_link=page_link("carriers", store=store.id),
                           branding=store_settings.branding(store), products_text=picks_as_text), status


@bp.get("/settings")
def page():
    store = store_from_args(db_session())
    values = store_settings.current_values(store, backfill_default=current_app.config["BACKFILL_WINDOW_HOURS"])
    return _render(store, values=values, errors={})


@bp.post("/settings")
def save():
    db = db_session()
    store = store_from_form(db)
    values, errors = store_settings.validate(store, request.form)
    if errors:
        shown = {**values, **{k: request.form.get(k, "") for k in errors}}
        return _render(store, values=shown, errors=errors, status=400)
    store_settings.save(store, values)
    db.commit()
    flash("Settings saved.")
    return redirect(url_for("settings.page", store=store.id))
