"""The whole campaign from the command line: the demo studio with the school workflow, clients
registering, ordering and leaving a cart, and `flask emails tick/dispatch --now` stepped through
the sale. Each expected email arrives once at the SMTP server; nothing arrives twice."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import Client, Gallery
from app.shop import cart as carts
from app.shop.checkout import Contact, Delivery, place_order
from app.shop.models import GalleryPricing

T0 = datetime(2027, 3, 10, 8, 0, tzinfo=UTC)  # 09:00 in Paris


def _buy(client_email, gallery, now, order=True):
    client = db.session.scalar(sa.select(Client).where(Client.email == client_email))
    pricing = db.session.get(GalleryPricing, gallery.id)
    photo = gallery.photos[0]
    carts.add_to_cart(
        client,
        gallery_id=gallery.id,
        photo_id=photo.id,
        product_id=pricing.price_list.products[0].id,
        quantity=1,
        now=now,
    )
    if order:
        place_order(
            studio=client_studio(client),
            client=client,
            cart=carts.open_cart(client, now, create=False),
            contact=Contact(client.name, client.email),
            delivery=Delivery(method="pickup"),
            payment_method="pay_at_pickup",
            now=now,
        )
    db.session.commit()


def _starting(by_subject, prefix):
    """Everyone who got an email whose subject starts with ``prefix``."""
    return set().union(
        *(recipients for subject, recipients in by_subject.items() if subject.startswith(prefix))
    )


def client_studio(client):
    from app.accounts.models import Studio

    return db.session.get(Studio, client.studio_id)


def test_a_sale_from_the_command_line(runner, mail_outbox):
    assert runner.invoke(args=["seed-demo", "--now", T0.isoformat()]).exit_code == 0
    school = db.session.scalar(sa.select(Gallery).where(Gallery.is_qr.is_(False)))
    # The school template's reminders are marketing: these parents ticked "news and offers"
    # (consent itself is tested in test_campaign_relevance.py).
    db.session.execute(sa.update(Client).values(marketing_consent=True))
    db.session.commit()
    seen = []
    now = T0
    while now <= T0 + timedelta(days=62):
        if now == T0 + timedelta(hours=6):
            _buy("tom.baker@example.com", school, now)
        if now == T0 + timedelta(days=1):
            _buy("sara.lindqvist@example.com", school, now, order=False)
        tick = runner.invoke(args=["emails", "tick", "--now", now.isoformat()])
        assert tick.exit_code == 0, tick.output
        dispatch = runner.invoke(args=["emails", "dispatch", "--now", now.isoformat()])
        assert dispatch.exit_code == 0 and "failed 0" in dispatch.output, dispatch.output
        now += timedelta(hours=6)
    for mail in mail_outbox.messages:
        seen.append((mail.subject, mail.rcpt_tos[0]))
    counts = Counter(seen)
    assert max(counts.values()) == 1, counts.most_common(3)
    by_subject = {}
    for subject, recipient in seen:
        by_subject.setdefault(subject, set()).add(recipient)
    school_clients = {"amelie.durand@example.com", "tom.baker@example.com", "sara.lindqvist@example.com"}
    assert by_subject["Don't miss your photos"] == {
        "amelie.durand@example.com",
        "sara.lindqvist@example.com",
        "julie.moreau@example.com",
    }
    # The order confirmation thanks at once; the workflow's thank-you comes 3 days later.
    assert _starting(by_subject, "A little thank-you from") == {"tom.baker@example.com"}
    assert by_subject["Your cart is waiting for you"] == {"sara.lindqvist@example.com"}
    assert by_subject["Early bird ends tomorrow"] == school_clients
    assert _starting(by_subject, f"{school.title} will be archived on") == school_clients
    last_calls = set().union(
        *(recipients for subject, recipients in by_subject.items() if subject.startswith("Last call"))
    )
    assert last_calls == {
        "amelie.durand@example.com",
        "sara.lindqvist@example.com",
        "julie.moreau@example.com",
    }
    # The sale-start announcement was due before the demo existed: missed, not sent late.
    assert not any(subject.startswith("The photos of") for subject in by_subject)
