"""Sign up, sign in and sign out for merchants without an app store login (WooCommerce), with Flask-Login."""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user

from app.models import Account
from app.services.accounts import AccountError, authenticate, create_account
from app.web import db_session, runtime
from app.web.csrf import check_csrf

bp = Blueprint("accounts", __name__)


def init_login(app: Flask) -> None:
    manager = LoginManager()
    manager.login_view = "accounts.sign_in"
    manager.login_message = "Sign in to continue."
    manager.session_protection = "strong"  # a session cookie replayed from another browser is dropped
    manager.user_loader(_load_account)
    manager.init_app(app)


def _load_account(account_id: str) -> Account | None:
    return db_session().get(Account, int(account_id)) if account_id.isdigit() else None


def signed_in_account_id() -> int | None:
    """The signed-in account, or None (also when the app runs without the account pages)."""
    try:
        return int(current_user.get_id()) if current_user.is_authenticated else None
    except (AttributeError, TypeError, ValueError):
        return None


def _safe_next(target: str | None) -> str:
    # Only local paths: an absolute URL here would make the sign-in page an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("dashboard.overview")


@bp.route("/signup", methods=["GET", "POST"])
def sign_up():
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        check_csrf()
        db = db_session()
        try:
            account = create_account(db, email=email, password=request.form.get("password", ""),
                                     now=runtime().clock())
            db.commit()
        except AccountError as exc:
            db.rollback()
            error = str(exc)
        else:
            session.pop("store_ids", None)  # a new identity starts with no store of someone else's browser
            login_user(account)
            return redirect(url_for("woocommerce.connect"))
    return render_template("accounts/signup.html", error=error, email=email, store=None), 400 if error else 200


@bp.route("/login", methods=["GET", "POST"])
def sign_in():
    error = None
    email = request.form.get("email", "")
    if request.method == "POST":
        check_csrf()
        db = db_session()
        result = authenticate(db, email=email, password=request.form.get("password", ""), now=runtime().clock())
        db.commit()  # failure counts and lockouts persist
        if result.account is not None:
            login_user(result.account)
            return redirect(_safe_next(request.args.get("next")))
        error = result.error
    return render_template("accounts/login.html", error=error, email=email, store=None), 401 if error else 200


@bp.post("/logout")
def sign_out():
    check_csrf()
    logout_user()
    session.clear()
    return redirect(url_for("accounts.sign_in"))
