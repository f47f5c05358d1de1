"""The photographer's order pages: list with filters, search and pages; detail; status changes;
expected delivery date; and tenant isolation of every shop admin URL."""

import re
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.shop.checkout import Delivery
from app.shop.models import GalleryPricing, Order, OrderStatus
from app.shop.orders import change_status, order_status_changed
from tests.factories import NOW
from tests.shop_admin_helpers import make_shop, place
from tests.shop_factories import make_coupon, make_promotion


def text(response):
    return response.get_data(as_text=True)


def order_numbers(page):
    return re.findall(r"<strong>(\d{4}-\d{5})</strong>", page)


@pytest.fixture
def shop(logged_in):
    return make_shop(logged_in.studio)


@pytest.fixture
def order(shop, logged_in):
    return place(shop, logged_in.studio)


# ------------------------------------------------------------------ list


def test_empty_order_list(client, logged_in):
    page = text(client.get("/admin/shop/orders/"))
    assert "No orders yet" in page and "0 orders" in page


def test_list_newest_first_with_totals_in_studio_currency(client, logged_in, shop):
    older = place(
        shop, logged_in.studio, email="a@example.com", name="Ann Older", at=NOW - timedelta(hours=20)
    )
    newer = place(shop, logged_in.studio, email="b@example.com", name="Ben Newer", at=NOW, quantity=2)
    page = text(client.get("/admin/shop/orders/"))
    assert order_numbers(page) == [newer.number, older.number]
    assert "€13.90" in page  # 9.00 + 4.90 shipping
    assert "€22.90" in page  # 2 × 9.00 + 4.90
    assert "Spring portraits" in page and 'data-status="new"' in page


def test_filters_by_status_gallery_client_and_dates_in_studio_time(client, logged_in, shop):
    other_shop = make_shop(logged_in.studio, title="Autumn fair", price_list_name="Fair")
    # 23:30 UTC on the 23rd is already the 24th in Paris.
    late = place(
        shop,
        logged_in.studio,
        email="late@example.com",
        name="Late Larry",
        at=NOW.replace(hour=0) - timedelta(minutes=30),
    )
    paid = place(
        shop, logged_in.studio, email="paid@example.com", name="Paid Paula", at=NOW + timedelta(days=2)
    )
    change_status(paid, OrderStatus.PAID, now=NOW + timedelta(days=2))
    db.session.commit()
    fair = place(
        other_shop, logged_in.studio, email="fair@example.com", name="Fair Fred", at=NOW + timedelta(days=3)
    )

    def numbers(**query):
        return order_numbers(text(client.get("/admin/shop/orders/", query_string=query)))

    assert numbers(status="paid") == [paid.number]
    assert numbers(gallery=other_shop.gallery.id) == [fair.number]
    assert numbers(client=late.client_id) == [late.number]
    assert numbers(placed_from="2026-11-24", placed_to="2026-11-24") == [late.number]
    assert numbers(placed_from="2026-11-25") == [fair.number, paid.number]
    assert numbers(placed_to="2026-11-23") == []
    assert numbers(status="bogus", gallery="x", placed_from="not-a-date") == [
        fair.number,
        paid.number,
        late.number,
    ]
    assert "No order matches these filters." in text(client.get("/admin/shop/orders/?status=cancelled"))


def test_search_by_number_name_or_email(client, logged_in, shop):
    first = place(shop, logged_in.studio, email="jane.doe@example.com", name="Jane Doe")
    second = place(
        shop, logged_in.studio, email="sam@example.com", name="Sam Smith", at=NOW + timedelta(hours=1)
    )

    def numbers(q):
        return order_numbers(text(client.get("/admin/shop/orders/", query_string={"q": q})))

    assert numbers("jane") == [first.number]
    assert numbers("SMITH") == [second.number]
    assert numbers("sam@exa") == [second.number]
    assert numbers(second.number) == [second.number]
    assert numbers("%") == []  # typed wildcards are literal
    assert numbers("nobody") == []


def test_list_paginates_25_per_page_and_keeps_filters(client, logged_in, shop):
    for index in range(27):
        place(
            shop,
            logged_in.studio,
            email=f"c{index}@example.com",
            name=f"Client {index}",
            at=NOW + timedelta(minutes=index),
        )
    first = text(client.get("/admin/shop/orders/?status=new"))
    assert len(order_numbers(first)) == 25 and "Page 1 of 2" in first
    assert "page=2" in first and "status=new" in first
    second = text(client.get("/admin/shop/orders/?status=new&page=2"))
    assert len(order_numbers(second)) == 2
    assert set(order_numbers(first)).isdisjoint(order_numbers(second))
    assert order_numbers(text(client.get("/admin/shop/orders/?page=99"))) == []


def test_list_shows_only_this_studios_orders(client, logged_in, other_owner):
    theirs = place(make_shop(other_owner.studio), other_owner.studio)
    assert theirs.number not in text(client.get("/admin/shop/orders/"))


# ------------------------------------------------------------------ detail


def test_detail_shows_items_photos_totals_discounts_client_and_history(client, logged_in, shop):
    make_promotion(shop.gallery, name="Early bird", value=1000)
    make_coupon(logged_in.studio, code="SPRING5", value=500)
    order = place(shop, logged_in.studio, quantity=2, coupon_code="SPRING5")
    page = text(client.get(f"/admin/shop/orders/{order.id}"))
    assert order.number in page and "Print 13 × 18 cm" in page
    thumb = f"/admin/galleries/{shop.gallery.id}/photos/{shop.photo.id}/thumb"
    assert thumb in page
    with client.get(thumb) as image:
        assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert "€18.00" in page  # subtotal
    assert "− €1.80" in page  # 10 % promotion
    assert "Coupon SPRING5" in page and "− €5.00" in page
    assert "€4.90" in page and "€16.10" in page  # shipping, total
    assert "Alex Parent" in page and "parent@example.com" in page
    assert "1 Rue des Lilas" in page and "75011 Paris" in page
    assert "Bank transfer" in page and "Not paid yet" in page
    assert "Order placed" in page and "Status emails: requested by the client" in page
    # Only the statuses this order may move to are offered.
    assert '<option value="paid">Paid</option>' in page
    assert '<option value="cancelled">Cancelled</option>' in page
    assert 'value="shipped"' not in page and 'value="delivered"' not in page
    for carrier in ("PostNord", "DHL", "UPS", "La Poste / Colissimo", "CDEK", "Other"):
        assert f">{carrier}</option>" in page


# ------------------------------------------------------------------ status changes


def test_marking_paid_records_who_and_when_and_emits_the_event(client, logged_in, order):
    events = []
    with order_status_changed.connected_to(lambda sender, event: events.append(event)):
        response = client.post(f"/admin/shop/orders/{order.id}/status", data={"status": "paid"})
    assert response.status_code == 302
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "paid" and order.paid_at is not None
    last = order.history[-1]
    assert (last.from_status, last.to_status, last.changed_by_id) == ("new", "paid", logged_in.id)
    assert [(e.old_status, e.new_status) for e in events] == [("new", "paid")]
    page = text(client.get(f"/admin/shop/orders/{order.id}"))
    assert "Order " + order.number + " is now Paid." in page
    assert re.search(r"New → Paid\s*<span class=\"muted\">· " + re.escape(logged_in.name), page)


def test_invalid_transition_shows_the_rules_message_and_changes_nothing(client, logged_in, order):
    response = client.post(f"/admin/shop/orders/{order.id}/status", data={"status": "delivered"})
    assert response.status_code == 400
    assert "An order that is New cannot become Delivered." in text(response)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "new" and len(order.history) == 1


def test_unknown_status_is_refused(client, logged_in, order):
    response = client.post(f"/admin/shop/orders/{order.id}/status", data={"status": "teleported"})
    assert response.status_code == 400 and "Choose the order's new status." in text(response)


def test_shipping_needs_tracking_then_records_carrier_and_link(client, logged_in, order):
    client.post(f"/admin/shop/orders/{order.id}/status", data={"status": "paid"})
    url = f"/admin/shop/orders/{order.id}/status"
    refused = client.post(url, data={"status": "shipped", "carrier": "DHL", "tracking_number": ""})
    assert refused.status_code == 400 and "needs a carrier and a tracking number" in text(refused)
    assert db.session.get(Order, order.id).status == "paid"
    client.post(url, data={"status": "shipped", "carrier": "DHL", "tracking_number": "JD0123"})
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.status, order.carrier, order.tracking_number) == ("shipped", "DHL", "JD0123")
    page = text(client.get(f"/admin/shop/orders/{order.id}"))
    assert "tracking-id=JD0123" in page and "Paid → Shipped" in page


def test_shipping_with_another_carrier_by_name(client, logged_in, order):
    client.post(f"/admin/shop/orders/{order.id}/status", data={"status": "paid"})
    client.post(
        f"/admin/shop/orders/{order.id}/status",
        data={
            "status": "shipped",
            "carrier": "other",
            "other_carrier": "Chronopost",
            "tracking_number": "XY123",
        },
    )
    db.session.expire_all()
    assert db.session.get(Order, order.id).carrier == "Chronopost"


def test_cancelling_needs_a_reason(client, logged_in, order):
    url = f"/admin/shop/orders/{order.id}/status"
    assert "give a reason for the cancellation" in text(client.post(url, data={"status": "cancelled"}))
    client.post(url, data={"status": "cancelled", "reason": "Ordered twice"})
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.status, order.cancel_reason) == ("cancelled", "Ordered twice")
    page = text(client.get(f"/admin/shop/orders/{order.id}"))
    assert "its status can no longer change" in page and "Ordered twice" in page


def test_pickup_orders_are_offered_ready_for_pickup(client, logged_in, shop):
    order = place(shop, logged_in.studio, delivery=Delivery(method="pickup"), payment_method="pay_at_pickup")
    client.post(f"/admin/shop/orders/{order.id}/status", data={"status": "paid"})
    page = text(client.get(f"/admin/shop/orders/{order.id}"))
    assert '<option value="ready_for_pickup">Ready for pickup</option>' in page
    assert 'value="shipped"' not in page and "Pickup at the studio" in page


# ------------------------------------------------------------------ expected delivery


def test_set_and_clear_expected_delivery_date(client, logged_in, order):
    url = f"/admin/shop/orders/{order.id}/expected-delivery"
    response = client.post(url, data={"expected_delivery_on": "2026-12-10"}, follow_redirects=True)
    assert "Expected delivery date saved." in text(response)
    assert db.session.get(Order, order.id).expected_delivery_on == date(2026, 12, 10)
    assert 'value="2026-12-10"' in text(client.get(f"/admin/shop/orders/{order.id}"))
    bad = client.post(url, data={"expected_delivery_on": "10/12/2026"})
    assert bad.status_code == 400 and "Not a valid date value." in text(bad)
    client.post(url, data={"expected_delivery_on": ""})
    db.session.expire_all()
    assert db.session.get(Order, order.id).expected_delivery_on is None


# ------------------------------------------------------------------ tenant isolation


ARGUMENT_IDS = {
    "price_list_id": lambda ids: ids["price_list"],
    "product_id": lambda ids: ids["product"],
    "gallery_id": lambda ids: ids["gallery"],
    "promotion_id": lambda ids: ids["promotion"],
    "coupon_id": lambda ids: ids["coupon"],
    "order_id": lambda ids: ids["order"],
    "message_id": lambda ids: ids["held_message"],
    "direction": lambda ids: "up",
    "kind": lambda ids: "invoice",
}
# Arguments that name no studio's row (an order event, a document kind): a rule with only these
# is scoped by the signed-in studio alone and has nothing of another studio to refuse.
NOT_IDS = {"event", "kind", "direction"}


def shop_admin_rules(app_factory_rules):
    return sorted(
        (rule.rule, method)
        for rule in app_factory_rules
        if rule.endpoint.startswith("shop_admin.") and set(rule.arguments) - NOT_IDS
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    )


def _rules():
    """The URL rules of the shop admin that take ids, read from an app built for the purpose."""
    import tempfile

    from app import create_app

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"},
        instance_path=tempfile.mkdtemp(prefix="proofsheet-rules-"),
    )
    return shop_admin_rules(app.url_map.iter_rules())


@pytest.fixture
def their_ids(other_owner):
    studio = other_owner.studio
    shop = make_shop(studio)
    promotion = make_promotion(shop.gallery)
    coupon = make_coupon(studio)
    order = place(shop, studio)
    from app.mailing.models import MailKind, MailState
    from app.mailing.outbox import queue_message

    held = queue_message(
        kind=MailKind.NOTIFICATION,
        studio_id=studio.id,
        sender="a@b.example",
        recipient="c@d.example",
        subject="Held",
        html="",
        text="",
        now=NOW,
        state=MailState.HELD,
    )
    db.session.commit()
    return {
        "held_message": held.id,
        "price_list": shop.price_list.id,
        "product": shop.price_list.products[0].id,
        "gallery": shop.gallery.id,
        "promotion": promotion.id,
        "coupon": coupon.id,
        "order": order.id,
    }


@pytest.mark.parametrize(("rule", "method"), _rules())
def test_another_studios_ids_answer_404_and_change_nothing(client, logged_in, their_ids, rule, method):
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ARGUMENT_IDS[m.group(1)](their_ids)), rule)
    data = {
        "status": "cancelled",
        "reason": "x",
        "name": "Hacked",
        "price": "1",
        "kind": "print",
        "print_size": "1",
        "code": "HACK",
        "discount_kind": "percent",
        "discount": "50",
        "price_list": str(their_ids["price_list"]),
        "expected_delivery_on": "2026-12-01",
        "starts_at": "2026-12-01T09:00",
        "ends_at": "2026-12-02T09:00",
        "shipping": "1",
    }
    response = client.open(url, method=method, data=data if method == "POST" else None)
    assert response.status_code == 404, url
    db.session.expire_all()
    order = db.session.get(Order, their_ids["order"])
    assert order.status == "new" and order.expected_delivery_on is None
    assert db.session.get(GalleryPricing, their_ids["gallery"]).price_list_id == their_ids["price_list"]


def test_every_shop_admin_rule_with_ids_is_covered_by_the_isolation_test():
    rules = {rule for rule, _method in _rules()}
    assert len(rules) >= 17
    assert all(re.findall(r"<(?:\w+:)?(\w+)>", rule) for rule in rules)
    for rule in rules:
        for name in re.findall(r"<(?:\w+:)?(\w+)>", rule):
            assert name in ARGUMENT_IDS, rule


def test_lists_never_show_another_studios_rows(client, logged_in, their_ids):
    for url in (
        "/admin/shop/price-lists/",
        "/admin/shop/promotions/",
        "/admin/shop/coupons/",
        "/admin/shop/orders/",
        "/admin/shop/",
    ):
        page = text(client.get(url))
        assert "School prints" not in page and "SPRING5" not in page and "Early bird" not in page, url
