"""Every admin route, with another studio's ids in its URL, answers 404 and changes nothing."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.galleries import cards as card_service
from app.galleries.models import Client, UploadSession
from app.mailing.models import MailKind, MailState
from app.mailing.outbox import queue_message
from app.shop.models import Order
from app.workflows.models import Workflow, WorkflowEmail
from tests import factories
from tests.factories import NOW
from tests.shop_factories import (
    fill_cart,
    make_coupon,
    make_price_list,
    make_promotion,
    order_now,
    sell_gallery,
)

# Values for URL arguments that are not ids.
FIXED_ARGUMENTS = {
    "variant": "thumb",
    "direction": "up",
    "key": "school",
    "event": "shipped",
    "kind": "invoice",
    "language": "sv",
}


def _their_objects(studio):
    """One of everything, owned by ``studio``: the ids another studio must not reach."""
    gallery = factories.make_gallery(studio, title="Their gallery", is_qr=True)
    photo = factories.make_photo(gallery)
    card = card_service.create_cards(gallery, ["Their child"], NOW)[0]
    price_list = make_price_list(studio, name="Their prices")
    sell_gallery(gallery, price_list)
    promotion = make_promotion(gallery)
    coupon = make_coupon(studio, code="THEIRS")
    client = factories.make_client(studio, email="their.client@example.com", gallery=gallery)
    gallery.is_qr = False
    db.session.commit()
    fill_cart(client, gallery, photo, price_list.products[0])
    order = order_now(studio, client)
    message = queue_message(
        kind=MailKind.CAMPAIGN,
        studio_id=studio.id,
        sender="a@b.test",
        recipient="c@d.test",
        subject="Theirs",
        html="",
        text="",
        now=NOW,
        state=MailState.FAILED,
    )
    workflow = Workflow(studio_id=studio.id, title="Theirs", created_at=NOW, updated_at=NOW)
    workflow.emails = [
        WorkflowEmail(
            trigger="sale_start",
            rule="instant",
            days=0,
            recipient_filter="all",
            subject="S",
            body_html="<p>B</p>",
            created_at=NOW,
            updated_at=NOW,
        )
    ]
    db.session.add(workflow)
    upload = UploadSession(
        id="t" * 32,
        studio_id=studio.id,
        gallery_id=gallery.id,
        filename="theirs.jpg",
        total_size=10,
        created_at=NOW,
        updated_at=NOW,
    )
    db.session.add(upload)
    db.session.commit()
    return {
        "gallery_id": gallery.id,
        "photo_id": photo.id,
        "card_id": card.id,
        "price_list_id": price_list.id,
        "product_id": price_list.products[0].id,
        "promotion_id": promotion.id,
        "coupon_id": coupon.id,
        "order_id": order.id,
        "message_id": message.id,
        "workflow_id": workflow.id,
        "email_id": workflow.emails[0].id,
        "invitation_id": 10**6,
        "user_id": studio.users[0].id,
        "client_id": client.id,
        "session_id": upload.id,
    }


def _admin_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin") and rule.arguments]


def test_every_admin_route_with_another_studios_ids_answers_404(app, client, auth, owner, other_owner):
    theirs = _their_objects(other_owner.studio)
    before = (
        db.session.scalar(sa.select(sa.func.count(Order.id))),
        db.session.get(Order, theirs["order_id"]).status,
    )
    auth.login(owner)
    checked = 0
    for rule in _admin_rules(app):
        if not set(rule.arguments) - set(FIXED_ARGUMENTS):
            continue  # nothing of a studio in the URL (e.g. a shipped template's key)
        missing = set(rule.arguments) - set(theirs) - set(FIXED_ARGUMENTS)
        assert not missing, f"{rule.rule}: teach this test the argument(s) {missing}"
        values = {name: theirs.get(name, FIXED_ARGUMENTS.get(name)) for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            path = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, data={})
            response.close()
            assert response.status_code == 404, f"{method} {path} answered {response.status_code}"
            checked += 1
    assert checked > 40
    db.session.expire_all()
    assert (
        db.session.scalar(sa.select(sa.func.count(Order.id))),
        db.session.get(Order, theirs["order_id"]).status,
    ) == before
    assert db.session.get(type(db.session.get(Order, theirs["order_id"])), theirs["order_id"])
    assert db.session.get(Client, theirs["client_id"]).links_revoked_at is None


@pytest.mark.parametrize(
    "path", ["/admin/galleries/", "/admin/shop/", "/admin/shop/orders", "/admin/activity/", "/admin/mail/"]
)
def test_lists_never_show_another_studios_rows(app, client, auth, owner, other_owner, path):
    _their_objects(other_owner.studio)
    auth.login(owner)
    page = client.get(path, follow_redirects=True)
    assert page.status_code == 200
    assert b"Their gallery" not in page.data and b"their.client@example.com" not in page.data
