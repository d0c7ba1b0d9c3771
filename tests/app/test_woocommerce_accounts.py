"""Merchant accounts: sign up, sign in, lockout, CSRF, and every dashboard page scoped to the account's stores."""
from __future__ import annotations

from sqlalchemy import select

from app.models import Account
from app.services.accounts import MAX_FAILED_LOGINS
from tests.app.factories import make_store
from tests.app.woocommerce_fixtures import app_config, csrf, sign_up  # noqa: F401 - fixtures

PASSWORD = "correct horse battery"


def _login(client, email: str, password: str):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf(client)})


def test_sign_up_hashes_the_password_and_signs_in(client, session):
    sign_up(client)
    account = session.scalar(select(Account))
    assert account.email == "merchant@example.com" and account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash
    assert client.get("/woocommerce/connect").status_code == 200


def test_sign_up_refuses_duplicates_weak_passwords_and_missing_csrf(client):
    sign_up(client)
    client.post("/logout", data={"csrf_token": csrf(client, "/woocommerce/connect")})
    again = client.post("/signup", data={"email": "Merchant@Example.com", "password": PASSWORD,
                                         "csrf_token": csrf(client, "/signup")})
    assert again.status_code == 400 and "exists already" in again.get_data(as_text=True)
    weak = client.post("/signup", data={"email": "b@example.com", "password": "short", "csrf_token": csrf(client, "/signup")})
    assert weak.status_code == 400
    assert client.post("/signup", data={"email": "c@example.com", "password": PASSWORD}).status_code == 400


def test_sign_in_and_out(client):
    sign_up(client)
    client.post("/logout", data={"csrf_token": csrf(client, "/woocommerce/connect")})
    assert client.get("/woocommerce/connect").status_code == 302  # signed out: to the sign-in page
    assert _login(client, "merchant@example.com", "wrong password!").status_code == 401
    assert _login(client, "MERCHANT@example.com", PASSWORD).status_code == 302
    assert client.get("/woocommerce/connect").status_code == 200


def test_repeated_failures_lock_the_account(client, clock, session):
    sign_up(client)
    client.post("/logout", data={"csrf_token": csrf(client, "/woocommerce/connect")})
    for _ in range(MAX_FAILED_LOGINS):
        _login(client, "merchant@example.com", "guess guess guess")
    locked = _login(client, "merchant@example.com", PASSWORD)
    assert locked.status_code == 401 and "Too many failed sign-ins" in locked.get_data(as_text=True)
    clock.advance(minutes=16)
    assert _login(client, "merchant@example.com", PASSWORD).status_code == 302
    assert session.scalar(select(Account.failed_logins)) == 0


def test_an_unknown_email_gets_the_same_answer(client):
    response = _login(client, "nobody@example.com", PASSWORD)
    assert response.status_code == 401 and "Wrong email or password" in response.get_data(as_text=True)


def test_open_redirects_are_refused(client):
    sign_up(client)
    client.post("/logout", data={"csrf_token": csrf(client, "/woocommerce/connect")})
    response = client.post("/login?next=//evil.example/", data={"email": "merchant@example.com", "password": PASSWORD,
                                                                 "csrf_token": csrf(client)})
    assert response.headers["Location"] == "/"


def test_account_a_cannot_see_account_bs_store(app, session):
    from app.services.accounts import link_store

    store_a = make_store(session, domain="a.example", platform="woocommerce")
    store_b = make_store(session, domain="b.example", platform="woocommerce")
    session.commit()
    alice, bob = app.test_client(), app.test_client()
    sign_up(alice, "alice@example.com")
    sign_up(bob, "bob@example.com")
    accounts = {a.email: a.id for a in session.scalars(select(Account))}
    link_store(session, account_id=accounts["alice@example.com"], store_id=store_a.id)
    link_store(session, account_id=accounts["bob@example.com"], store_id=store_b.id)
    session.commit()
    for page in ("/", "/shipments", "/events"):
        assert alice.get(f"{page}?store={store_a.id}").status_code == 200
        assert alice.get(f"{page}?store={store_b.id}").status_code == 404
        assert bob.get(f"{page}?store={store_a.id}").status_code == 404
    assert alice.get(f"/woocommerce/settings?store={store_b.id}").status_code == 404
    overview = alice.get("/").get_data(as_text=True)
    assert "a.example" in overview and "b.example" not in overview
