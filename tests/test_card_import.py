"""A class list with parents' emails and phones: cards, pre-registered parents, and every bad
line named with nothing imported."""

import io

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import AccessCard, CardClaim, Client, Registration
from app.workflows.models import Purpose, Trigger
from tests import factories, workflow_factories
from tests.test_public import register_with_card


@pytest.fixture
def qr_gallery(logged_in):
    logged_in.studio.country = "SE"  # numbers typed without +46 are Swedish
    db.session.commit()
    return factories.make_gallery(logged_in.studio, title="Maple class", is_qr=True)


def post_list(client, gallery, content, notify=True):
    data = {"import-file": (io.BytesIO(content), "class.csv")}
    if notify:
        data["import-notify"] = "y"
    return client.post(f"/admin/galleries/{gallery.id}/cards", data=data, content_type="multipart/form-data")


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


CLASS_LIST = (
    "\ufeffChild;Email;Phone;Parent name;Class\n"
    "Emma Martin;Anna.Martin@Example.COM;070-123 45 67;Anna Martin;3B\n"
    "Lucas Martin;anna.martin@example.com;;;3B\n"
    "Mia Berg;;;;3B\n"
).encode()


def test_a_class_list_pre_registers_the_parents_with_normalized_email_and_phone(client, qr_gallery):
    response = post_list(client, qr_gallery, CLASS_LIST)
    assert response.status_code == 302
    cards = {card.label: card for card in db.session.scalars(sa.select(AccessCard))}
    assert set(cards) == {"Emma Martin", "Lucas Martin", "Mia Berg"}
    (parent,) = db.session.scalars(sa.select(Client)).all()
    assert (parent.email, parent.phone, parent.name) == (
        "anna.martin@example.com",
        "+46701234567",
        "Anna Martin",
    )
    assert not parent.marketing_consent and parent.sms_consent_at is None and parent.consent_at is None
    held = set(db.session.scalars(sa.select(CardClaim.card_id).where(CardClaim.client_id == parent.id)))
    assert held == {cards["Emma Martin"].id, cards["Lucas Martin"].id}
    registration = db.session.scalar(sa.select(Registration).where(Registration.client_id == parent.id))
    assert registration.gallery_id == qr_gallery.id
    page = client.get(response.location).data.decode()
    assert "3 cards imported." in page and "1 parent registered to this gallery" in page


def test_without_the_email_option_parents_hold_the_card_but_are_not_registered(client, qr_gallery):
    assert post_list(client, qr_gallery, CLASS_LIST, notify=False).status_code == 302
    assert count(CardClaim) == 2 and count(Registration) == 0


def test_an_existing_client_keeps_their_name_and_phone(client, qr_gallery, logged_in):
    known = factories.make_client(logged_in.studio, email="anna.martin@example.com", name="Anna M.")
    known.phone = "+46709999999"
    db.session.commit()
    post_list(client, qr_gallery, CLASS_LIST)
    db.session.refresh(known)
    assert (known.name, known.phone) == ("Anna M.", "+46709999999") and count(Client) == 1


def test_a_parent_without_a_name_is_greeted_as_the_childs_parent(client, qr_gallery):
    post_list(client, qr_gallery, b"Child,Email\nMia Berg,mia.parent@example.com\n")
    assert db.session.scalar(sa.select(Client.name)) == "Parent of Mia Berg"


def test_every_bad_line_is_named_and_nothing_is_imported(client, qr_gallery):
    content = (
        b"Child,Email,Phone,Parent name\n"
        b"Emma,anna@example.com,070-123 45 67,Anna\n"
        b"Lucas,not-an-email,,\n"
        b"Mia,mia@example.com,12,\n"
        b",x@example.com,,\n"
        b"Noah,,070-123 45 67,\n"
    )
    page = post_list(client, qr_gallery, content).data.decode()
    for expected in [
        "Row 2: ",
        "Row 3: This phone number is not valid",
        "Row 4 has no label.",
        "Row 5: a parent’s phone or name needs their email address too.",
    ]:
        assert expected in page
    assert "Row 1" not in page
    assert count(AccessCard) == count(Client) == count(CardClaim) == count(Registration) == 0


def test_a_landline_is_refused(client, qr_gallery):
    page = post_list(
        client, qr_gallery, b"Child,Email,Phone\nEmma,a@example.com,08-123 456 78\n"
    ).data.decode()
    assert "Row 1: This number cannot receive text messages" in page and count(AccessCard) == 0


def test_the_import_form_says_what_to_set_up_for_the_sale_start_email(client, qr_gallery, logged_in):
    url = f"/admin/galleries/{qr_gallery.id}/cards"
    assert "This gallery sends no emails" in client.get(url).data.decode()
    workflow = workflow_factories.make_workflow(
        logged_in.studio, emails=[{"trigger": Trigger.SALE_START, "purpose": Purpose.MARKETING}]
    )
    workflow_factories.assign(qr_gallery, workflow)
    assert "sale-start email is a marketing email" in client.get(url).data.decode()
    workflow.emails[0].purpose = Purpose.SERVICE
    db.session.commit()
    assert 'data-testid="sale-start-problem"' not in client.get(url).data.decode()
    page = client.get(response_location(post_list(client, qr_gallery, CLASS_LIST))).data.decode()
    assert "1 parent registered to this gallery with their child’s card." in page


def response_location(response):
    assert response.status_code == 302
    return response.location


def test_a_pre_registered_parent_signs_in_with_the_emailed_code(client, qr_gallery, monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: factories.NOW)
    post_list(client, qr_gallery, b"Child,Email\nEmma,anna@example.com\n")
    card = db.session.scalar(sa.select(AccessCard))
    photo = factories.make_photo(qr_gallery)
    card.photos = [photo]
    db.session.commit()
    client.get("/admin/logout")
    response = register_with_card(client, card.code, email="anna@example.com")
    assert response.status_code == 302
    page = client.get(response.location, follow_redirects=True).data.decode()
    assert f"/p/{photo.id}/thumb" in page
    assert count(Client) == 1 and count(Registration) == 1


def test_after_registration_waits_until_the_parent_registers_and_their_name_replaces_the_lists(
    client, qr_gallery, logged_in, monkeypatch
):
    from datetime import timedelta

    from app.mailing.models import MailKind, OutboxMessage
    from app.workflows.engine import tick

    now = factories.NOW
    monkeypatch.setattr("app.timeutil.now", lambda: now)
    qr_gallery.sale_starts_at = now
    workflow = workflow_factories.make_workflow(
        logged_in.studio,
        emails=[
            dict(trigger=Trigger.SALE_START, subject="Your photos are ready", purpose=Purpose.SERVICE),
            dict(trigger=Trigger.REGISTRATION, subject="Welcome", purpose=Purpose.SERVICE),
        ],
    )
    workflow_factories.assign(qr_gallery, workflow)
    db.session.commit()
    post_list(client, qr_gallery, b"Child,Email,Parent name\nEmma,anna@example.com,Parent of Emma\n")

    def subjects(kind=MailKind.CAMPAIGN):
        db.session.expire_all()
        return sorted(db.session.scalars(sa.select(OutboxMessage.subject).where(OutboxMessage.kind == kind)))

    tick(now + timedelta(minutes=1))
    db.session.commit()
    assert subjects() == ["Your photos are ready"]  # not welcomed: they did not register

    later = now + timedelta(days=2)
    monkeypatch.setattr("app.timeutil.now", lambda: later)
    client.get("/admin/logout")
    card = db.session.scalar(sa.select(AccessCard))
    assert (
        register_with_card(client, card.code, email="anna@example.com", name="Anna Martin").status_code == 302
    )
    registration = db.session.scalar(sa.select(Registration))
    assert (registration.pre_registered, registration.registered_at) == (False, later)
    assert db.session.scalar(sa.select(Client.name)) == "Anna Martin"
    assert "Your link to Maple class" in subjects(MailKind.TRANSACTIONAL)  # their private link

    tick(later + timedelta(minutes=1))
    db.session.commit()
    assert subjects() == ["Welcome", "Your photos are ready"]
