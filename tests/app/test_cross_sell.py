"""The tracking page's cross-sell block: the merchant's pick, else the store's best sellers, never what was bought."""
from __future__ import annotations

import re

import pytest

from app.services.cross_sell import PickError, cross_sell, parse_picks, picks_as_text
from tests.app.factories import hours, make_order, make_shipment, make_store


def test_picks_parse_and_round_trip():
    picks = parse_picks("Wool Socks | https://shop.example/socks | https://cdn.example/s.jpg | 12,90\n\n"
                        "Gift Card | https://shop.example/gift")
    assert picks == [
        {"title": "Wool Socks", "product_url": "https://shop.example/socks", "image_url": "https://cdn.example/s.jpg",
         "price": 12.9},
        {"title": "Gift Card", "product_url": "https://shop.example/gift", "image_url": None, "price": None}]
    assert parse_picks(picks_as_text(picks)) == picks


@pytest.mark.parametrize("line", ["Only a title", "Socks | http://shop.example/socks", "Socks | https://x.example | ftp://i",
                                  "Socks | https://x.example | | cheap", "Socks | javascript:alert(1)"])
def test_bad_pick_lines_are_refused(line):
    with pytest.raises(PickError):
        parse_picks(line)


def _order(session, store, clock, number, items):
    order = make_order(session, store, number=number, placed_at=clock.now - hours(2))
    order.line_items = [{"id": str(i), "title": t, "quantity": q, "price": 10.0, "product_url": f"https://s.example/{t}",
                         "image_url": None} for i, (t, q) in enumerate(items)]
    return order


def test_best_sellers_exclude_what_this_order_bought(session, clock):
    store = make_store(session)
    _order(session, store, clock, "#1", [("beanie", 3), ("socks", 1)])
    _order(session, store, clock, "#2", [("socks", 1), ("scarf", 3)])
    _order(session, store, clock, "#3", [("mug", 1)])
    mine = _order(session, store, clock, "#4", [("beanie", 1)])
    other = make_store(session, domain="other.example")
    _order(session, other, clock, "#9", [("secret-product", 50)])
    session.flush()
    titles = [p["title"] for p in cross_sell(session, store=store, order=mine)]
    assert titles == ["scarf", "socks", "mug"]  # by quantity sold; never the beanie, never another store's product


def test_merchant_pick_wins_and_shows_on_the_tracking_page(client, session, clock):
    store = make_store(session, cross_sell_products=parse_picks("Gift Card | https://shop.example/gift | | 25"))
    order = _order(session, store, clock, "#7", [("beanie", 1)])
    shipment = make_shipment(session, store, order, shipped_at=clock.now - hours(1))
    session.commit()
    page = client.get(f"/t/{shipment.tracking_token}?lang=de").get_data(as_text=True)
    assert "Das könnte Ihnen auch gefallen" in page
    assert re.search(r'href="https://shop.example/gift"[^>]*>Gift Card</a>', page) and "25.00 EUR" in page


def test_settings_form_saves_picks(client, session):
    from app.services.sandbox import sandbox_store

    store = sandbox_store(session)
    session.commit()
    form = client.get(f"/settings?store={store.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    bad = client.post("/settings", data={"csrf_token": token, "store": store.id, "tracking_language": "auto",
                                         "cross_sell_products": "Socks | not-a-url"})
    assert bad.status_code == 400 and "product-url" in bad.get_data(as_text=True)
    session.expire_all()
    assert not store.setting("cross_sell_products", [])
