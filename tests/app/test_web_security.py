"""Security headers on every page, HSTS only behind TLS, and CSRF on every form POST."""
from __future__ import annotations

import pytest

# POST routes that are not session forms: signed webhooks, the store's server-to-server key callback, the
# embedded app's API (App Bridge bearer tokens, no cookies), and the shopper's lookup (no session behind it to
# abuse: it needs the order number and email or postcode, and is rate-limited per IP).
NOT_FORMS = {"shopify_webhooks.receive", "woocommerce.receive_webhook", "carriers.aftership_webhook",
             "woocommerce.key_callback", "shopify.api_settings", "tracking.lookup_submit"}


@pytest.mark.parametrize("path", ["/", "/shipments", "/track", "/login", "/healthz", "/t/unknown"])
def test_pages_carry_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "default-src 'self'" in headers["Content-Security-Policy"] and "Referrer-Policy" in headers
    assert "Strict-Transport-Security" not in headers  # plain HTTP: no HSTS


def test_hsts_only_behind_tls(client):
    assert "max-age=" in client.get("/login", headers={"X-Forwarded-Proto": "https"}).headers["Strict-Transport-Security"]
    assert "max-age=" in client.get("/login", base_url="https://app.example.test").headers["Strict-Transport-Security"]


def test_the_shopify_embed_keeps_its_own_frame_policy(app, client):
    app.config["SHOPIFY_API_KEY"] = "key"
    response = client.get("/shopify/app?shop=demo.myshopify.com&host=abc")
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors https://demo.myshopify.com https://admin.shopify.com" in policy
    assert "X-Frame-Options" not in response.headers


def test_every_form_post_refuses_a_missing_csrf_token(app, client, session):
    from app.models import Store

    store = Store(platform="sandbox", domain="sandbox.example", name="s", settings={})
    session.add(store)
    session.commit()
    with client.session_transaction() as browser:
        browser["store_ids"] = [store.id]
        browser["csrf"] = "the-right-token"
    forms = [r for r in app.url_map.iter_rules() if "POST" in r.methods and r.endpoint not in NOT_FORMS]
    assert len(forms) >= 10
    for rule in forms:
        url = rule.rule.replace("<code>", "dhl").replace("<int:item_id>", "1")
        response = client.post(url, data={"store": store.id, "email": "a@example.com", "password": "x" * 12})
        # Not signed in to an account: the login-protected forms redirect to /login first, which is also a refusal.
        assert response.status_code in (400, 302), (url, response.status_code)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], url
        else:
            assert "CSRF" in response.get_data(as_text=True), url
