"""Which stores the current browser may see: the sandbox always, real stores only after signing in to them."""
from __future__ import annotations

from flask import abort, request, session
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import Store
from app.web.csrf import check_csrf

SESSION_KEY = "store_ids"


def allowed_store_ids(db: Session) -> list[int]:
    signed_in = [int(i) for i in session.get(SESSION_KEY, [])]
    signed_in += _account_store_ids(db)
    return list(db.scalars(select(Store.id).where(or_(Store.platform == "sandbox", Store.id.in_(signed_in))).order_by(Store.id)))


def sign_in_to_store(store_id: int) -> None:
    """Called by the install / sign-in flows once the merchant has proven they own the store."""
    ids = set(session.get(SESSION_KEY, []))
    ids.add(store_id)
    session[SESSION_KEY] = sorted(ids)


def require_store(db: Session, store_id: int | None, *, allowed: list[int] | None = None) -> Store:
    """`allowed`: allowed_store_ids(db) when the caller already has it, so those queries do not run twice."""
    if allowed is None:
        allowed = allowed_store_ids(db)
    if not allowed:
        abort(404)
    chosen = store_id if store_id is not None else allowed[0]
    if chosen not in allowed:
        abort(404)  # another shop's data does not exist as far as this browser is concerned
    store = db.get(Store, chosen)
    if store is None:
        abort(404)
    return store


def store_from_args(db: Session) -> Store:
    """The store a GET page is for: `?store=`, else the first this browser may see."""
    return require_store(db, request.args.get("store", type=int))


def store_from_form(db: Session) -> Store:
    """The store a dashboard form posts for; the CSRF check comes first so a forged post learns nothing."""
    check_csrf()
    return require_store(db, request.form.get("store", type=int))


def _account_store_ids(db: Session) -> list[int]:
    """Stores owned by the signed-in merchant account (email sign-in, e.g. WooCommerce)."""
    from app.services.accounts import account_store_ids
    from app.web.accounts import signed_in_account_id

    account_id = signed_in_account_id()
    return account_store_ids(db, account_id) if account_id is not None else []
