"""The merchant dashboard: onboarding overview, searchable shipments, and the event log with delivery state."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.models import Order, OutboxItem, Shipment, Store
from app.models.outbox import OutboxState
from app.services.catalog import CATALOG, METRICS
from app.services.esp_connections import current_connection
from app.services.onboarding import checklist
from app.services.outbox import replay
from app.services.shipment_search import PROBLEMS, ShipmentFilters, search
from app.services.tracking_page import items_in
from app.web import db_session, runtime
from app.web.access import allowed_store_ids, require_store, store_from_args
from app.web.csrf import check_csrf, csrf_token
from app.web.links import page_link
from integrations.status import ShipmentStatus

bp = Blueprint("dashboard", __name__)
PAGE_SIZE = 50


@bp.app_context_processor
def _template_helpers() -> dict:
    return {"csrf_token": csrf_token, "statuses": [s.value for s in ShipmentStatus]}


def _page() -> int:
    return max(request.args.get("page", 1, type=int), 1)


@bp.get("/")
def overview():
    db = db_session()
    allowed = allowed_store_ids(db)
    # Loaded before require_store, whose db.get then finds the chosen store in the session without a query.
    stores = list(db.scalars(select(Store).where(Store.id.in_(allowed)).order_by(Store.id)))
    store = require_store(db, request.args.get("store", type=int), allowed=allowed)
    by_status = dict(db.execute(select(Shipment.status, func.count()).where(Shipment.store_id == store.id)
                                .group_by(Shipment.status)).all())
    by_state = dict(db.execute(select(OutboxItem.state, func.count()).where(OutboxItem.store_id == store.id)
                               .group_by(OutboxItem.state)).all())
    by_trigger = dict(db.execute(select(OutboxItem.trigger, func.count()).where(OutboxItem.store_id == store.id)
                                 .group_by(OutboxItem.trigger)).all())
    esp = current_connection(db, store)
    steps = [(step, page_link(step.target, store=store.id, **step.target_args))
             for step in checklist(db, store=store, connection=esp)]
    return render_template("dashboard/overview.html", store=store, stores=stores, by_status=by_status, by_state=by_state,
                           by_trigger=by_trigger, catalog=CATALOG, esp=esp, steps=steps)


@bp.get("/shipments")
def shipments():
    db = db_session()
    store = store_from_args(db)
    filters = ShipmentFilters.from_args(request.args)
    result = search(db, store=store, filters=filters, page=_page(), page_size=PAGE_SIZE, now=runtime().clock())
    return render_template("dashboard/shipments.html", store=store, result=result, filters=filters, problems=PROBLEMS,
                           shipments=result.rows)


@bp.get("/shipments/<int:shipment_id>")
def shipment(shipment_id: int):
    db = db_session()
    item = db.scalar(select(Shipment).where(Shipment.id == shipment_id).options(
        selectinload(Shipment.events), selectinload(Shipment.order).selectinload(Order.shipments)))
    if item is None:
        abort(404)
    store = require_store(db, item.store_id)
    sent = list(db.scalars(select(OutboxItem).where(OutboxItem.shipment_id == item.id).order_by(OutboxItem.occurred_at)))
    return render_template("dashboard/shipment.html", store=store, shipment=item, outbox=sent, items=items_in(item.order, item))


@bp.get("/events")
def events():
    db = db_session()
    store = store_from_args(db)
    query = select(OutboxItem).where(OutboxItem.store_id == store.id)
    state = request.args.get("state") or None
    trigger = request.args.get("trigger") if request.args.get("trigger") in METRICS else None
    if trigger:
        query = query.where(OutboxItem.trigger == trigger)
    if state == "backfilled":
        query = query.where(OutboxItem.backfill.is_(True))
    elif state:
        query = query.where(OutboxItem.state == state)
    rows = list(db.scalars(query.order_by(OutboxItem.id.desc()).limit(PAGE_SIZE + 1).offset((_page() - 1) * PAGE_SIZE)))
    return render_template("dashboard/events.html", store=store, events=rows[:PAGE_SIZE], has_next=len(rows) > PAGE_SIZE,
                           page=_page(), state=state, states=[OutboxState.PENDING, OutboxState.SENT, "backfilled",
                                                              OutboxState.FAILED, OutboxState.SKIPPED],
                           trigger=trigger, metrics=METRICS)


@bp.post("/events/<int:item_id>/replay")
def replay_event(item_id: int):
    check_csrf()
    db = db_session()
    item = db.get(OutboxItem, item_id)
    if item is None:
        abort(404)
    require_store(db, item.store_id)
    try:
        replay(db, item_id=item_id, now=runtime().clock())
        db.commit()
        flash(f"Event {item_id} will be sent again with the next delivery run.")
    except ValueError as exc:
        flash(str(exc))
    if item.shipment_id is not None and request.form.get("back") == "shipment":
        return redirect(url_for("dashboard.shipment", shipment_id=item.shipment_id))
    return redirect(url_for("dashboard.events", store=item.store_id, trigger=request.form.get("trigger") or None))
