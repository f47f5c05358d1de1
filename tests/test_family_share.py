"""Share with family: a signed-in parent invites someone by email; the invitee registers with
their own address (the emailed code) and sees exactly the inviter's card photos."""

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale, gettext

from app.extensions import db
from app.galleries import cards, clients
from app.galleries.models import CardClaim, Client
from tests import factories
from tests.client_helpers import confirm_with_code
from tests.factories import NOW

INVITEE = "grandma@example.com"
INVITE_SUBJECT = "shares School day with you"


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    return NOW


@pytest.fixture
def school(owner, client, frozen_now):
    """A QR gallery with three cards; the signed-in inviter holds Ada's and Ben's (siblings),
    and has agreed to news and offers."""
    studio = owner.studio
    gallery = factories.make_gallery(studio, title="School day", is_qr=True)
    photos = [factories.make_photo(gallery, position=i) for i in range(4)]
    ada, ben, cy = cards.create_cards(gallery, ["Ada", "Ben", "Cy"], NOW)
    cards.assign_photos(ada, [photos[0].id, photos[1].id])
    cards.assign_photos(ben, [photos[2].id])
    cards.assign_photos(cy, [photos[3].id])
    inviter = factories.make_client(studio, email="alex@example.com", gallery=gallery)
    inviter.marketing_consent, inviter.consent_at = True, NOW
    clients.claim_card(inviter, ada, NOW)
    clients.claim_card(inviter, ben, NOW)
    db.session.commit()
    with client.session_transaction() as session:
        session["clients"] = {str(studio.id): [inviter.id, 0]}  # signed in at the epoch
    school = type(
        "School",
        (),
        dict(studio=studio, gallery=gallery, photos=photos, cards=(ada, ben, cy), inviter=inviter),
    )
    school.browser = client  # the inviter's browser
    return school


def share_url(school):
    return f"/g/{school.studio.slug}/{school.gallery.slug}/share"


def invite(school, mail_outbox, email=INVITEE):
    """Send the invitation from the inviter's browser; returns the message as received."""
    response = school.browser.post(share_url(school), data={"email": email})
    assert response.status_code == 302
    return next(mail for mail in mail_outbox.wait_for(1) if email in mail.rcpt_tos)


def link_path(mail):
    return re.search(r"https?://[^/\s]+(/family/\S+)", mail.text()).group(1)


def register(browser, path, email=INVITEE, **extra):
    return browser.post(path, data={"name": "Grandma", "email": email, "language": "en", **extra})


def shown_photo_ids(page):
    return {int(found) for found in re.findall(r'data-photo-id="(\d+)"', page.get_data(as_text=True))}


def invitee():
    return db.session.scalar(sa.select(Client).where(Client.email == INVITEE))


def test_the_invitation_arrives_from_the_studio_in_the_inviters_language(school, mail_outbox):
    school.inviter.language = "fr"
    db.session.commit()

    mail = invite(school, mail_outbox)

    with force_locale("fr"):
        french = gettext(
            "%(inviter)s shares %(gallery)s with you", inviter="Alex Parent", gallery="School day"
        )
    assert mail.subject == french and french != f"Alex Parent {INVITE_SUBJECT}"
    assert "Northlight Studio" in mail.message["From"]
    body_html = mail.message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="fr">' in body_html
    assert "/family/" in link_path(mail)
    assert all(len(line) <= 998 for line in mail.raw.split(b"\r\n"))  # RFC 5322 on the wire


def test_the_invitee_registers_with_the_code_and_sees_exactly_the_inviters_photos(school, app, mail_outbox):
    path = link_path(invite(school, mail_outbox))
    family = app.test_client()

    page = family.get(path)
    assert page.status_code == 200
    assert f'value="{INVITEE}"' in page.get_data(as_text=True)  # the invited address to start with
    assert register(family, path).headers["Location"] == "/sign-in/code"
    assert invitee() is None  # nothing before the address is proven
    done = confirm_with_code(family, INVITEE)
    assert done.headers["Location"] == f"/g/{school.studio.slug}/{school.gallery.slug}"

    ada, ben, _cy = school.cards
    claims = db.session.scalars(sa.select(CardClaim).filter_by(client_id=invitee().id))
    assert {claim.card_id for claim in claims} == {ada.id, ben.id}
    gallery_page = family.get(done.headers["Location"])
    assert shown_photo_ids(gallery_page) == {photo.id for photo in school.photos[:3]}
    assert invitee().marketing_consent is False  # the inviter's consent is theirs, not copied
    assert invitee().name == "Grandma"


def test_the_invitee_never_gets_a_card_the_inviter_no_longer_holds(school, app, mail_outbox):
    path = link_path(invite(school, mail_outbox))
    family = app.test_client()
    register(family, path, marketing_consent="y")
    ada, ben, _cy = school.cards
    db.session.delete(db.session.get(CardClaim, (school.inviter.id, ben.id)))
    db.session.commit()

    confirm_with_code(family, INVITEE)

    assert clients.held_card_ids(invitee(), school.gallery) == {ada.id}
    assert invitee().marketing_consent is True  # ticked by the invitee themselves


def test_an_invitee_may_register_with_another_address_of_theirs(school, app, mail_outbox):
    path = link_path(invite(school, mail_outbox))
    family = app.test_client()
    register(family, path, email="granny.other@example.com")
    confirm_with_code(family, "granny.other@example.com")
    other = db.session.scalar(sa.select(Client).where(Client.email == "granny.other@example.com"))
    assert clients.held_card_ids(other, school.gallery) == {school.cards[0].id, school.cards[1].id}


def test_a_tampered_link_is_refused_with_a_clear_page(school, app, mail_outbox):
    path = link_path(invite(school, mail_outbox))
    tampered = app.test_client().get(path[:-4] + "abcd")
    assert tampered.status_code == 404
    assert "This invitation link is not valid" in html.unescape(tampered.get_data(as_text=True))
    assert register(app.test_client(), path[:-4] + "abcd").status_code == 404


def test_an_expired_link_is_refused_with_a_clear_page(school, app, mail_outbox):
    path = link_path(invite(school, mail_outbox))
    app.config["FAMILY_INVITE_MAX_AGE"] = -1  # any age is too old

    expired = app.test_client().get(path)

    assert expired.status_code == 410
    assert "This invitation has expired" in expired.get_data(as_text=True)


def test_an_inviter_whose_links_are_revoked_invites_nobody(school, app, mail_outbox):
    path = link_path(invite(school, mail_outbox))
    family = app.test_client()
    register(family, path)  # asked for the code before the studio revoked the inviter's links
    clients.revoke_links(school.inviter, datetime.now(UTC) + timedelta(seconds=1))
    db.session.commit()

    refused = app.test_client().get(path)
    assert refused.status_code == 410
    assert "This invitation no longer works" in refused.get_data(as_text=True)
    confirm_with_code(family, INVITEE)
    assert clients.held_card_ids(invitee(), school.gallery) == set()


def test_the_inviter_must_be_signed_in_and_hold_a_card(school, app, mail_outbox):
    anonymous = app.test_client()
    assert anonymous.post(share_url(school), data={"email": INVITEE}).status_code == 403
    assert anonymous.get(share_url(school)).status_code == 403

    cardless = factories.make_client(school.studio, email="nocard@example.com", gallery=school.gallery)
    with anonymous.session_transaction() as session:
        session["clients"] = {str(school.studio.id): [cardless.id, 0]}
    assert anonymous.post(share_url(school), data={"email": INVITEE}).status_code == 403
    assert mail_outbox.messages == []


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Please enter the email of the person to invite."),
        ("not an address", "email"),
        ("alex@example.com", "This is your own address"),
    ],
)
def test_a_bad_address_shows_its_error_on_the_page(school, mail_outbox, typed, message):
    response = school.browser.post(share_url(school), data={"email": typed})
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert message in page and 'aria-invalid="true"' in page
    assert mail_outbox.messages == []


def test_the_gallery_page_offers_sharing_to_a_signed_in_client_only(school, app):
    page = school.browser.get(f"/g/{school.studio.slug}/{school.gallery.slug}").get_data(as_text=True)
    assert "data-family-share" in page and "Share with family" in page
    context = dict(
        studio=school.studio,
        gallery=school.gallery,
        photos=school.photos,
        photo_count=len(school.photos),
        phase="open",
    )
    with app.test_request_context():
        offered = render_template("galleries/public/_family_share.html", client=school.inviter, **context)
        hidden = render_template("galleries/public/_family_share.html", client=None, **context)
    assert "data-family-share" in offered and f'action="{share_url(school)}"' in offered
    assert "data-family-share" not in hidden


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_invitations_are_rate_limited_per_inviter(school, app, mail_outbox, app_config):
    app.config["FAMILY_INVITE_RATE_LIMIT_PER_CLIENT"] = "2 per hour"
    emails = [f"person{n}@example.com" for n in range(3)]
    statuses = [school.browser.post(share_url(school), data={"email": email}).status_code for email in emails]
    assert statuses == [302, 302, 429]


def test_the_share_form_stays_on_an_empty_favourites_view(school):
    gallery_url = f"/g/{school.studio.slug}/{school.gallery.slug}"
    for view in ("", "?view=favourites"):  # no photo hearted yet: the favourites view is empty
        page = school.browser.get(gallery_url + view).get_data(as_text=True)
        assert "data-family-share" in page, view
