"""The merchant's view of privacy requests: customer data exports to hand over, as a list and JSON downloads."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template
from sqlalchemy import select

from app.models import DataExport
from app.web import db_session
from app.web.access import require_store, store_from_args

bp = Blueprint("privacy", __name__)
PAGE_SIZE = 50


@bp.get("/privacy/exports")
def exports():
    db = db_session()
    store = store_from_args(db)
    rows = list(db.scalars(select(DataExport).where(DataExport.store_id == store.id)
                           .order_by(DataExport.id.desc()).limit(PAGE_SIZE)))
    return render_template("privacy/exports.html", store=store, exports=rows)


@bp.get("/privacy/exports/<int:export_id>.json")
def export_json(export_id: int):
    db = db_session()
    export = db.get(DataExport, export_id)
    if export is None:
        abort(404)
    require_store(db, export.store_id)  # another shop's export does not exist for this browser
    return Response(json.dumps(export.data, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="customer-data-{export.id}.json"'})
