"""Client identity (issue 14.1, 14.2, 14.5): typing an address never makes anyone that client;
a one-time code or link sent to the address does, once, in time. Secrets in mail are never
shown to staff and never go through a studio's own server. Private links expire and the
studio can revoke them."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import (
    AccessCard,
    CardClaim,
    Client,
    ClientSignInRequest,
    GalleryAccess,
    Registration,
)
from app.mailing.models import OutboxMessage
from tests import factories
from tests.client_helpers import (
    confirm_with_code,
    latest_sign_in_code,
    latest_sign_in_link_path,
)
from tests.factories import NOW
from tests.test_mail_settings import settings_form


@pytest.fixture
def clock(monkeypatch):
    """Routes read the clock through app.timeutil.now; ``clock.now`` moves it."""

    class Clock:
        now = NOW

    monkeypatch.setattr("app.timeutil.now", lambda: Clock.now)
    return Clock


def url(gallery, studio):
    return f"/g/{studio.slug}/{gallery.slug}"


def post_registration(browser, gallery, studio, email, name="Mallory"):
    return browser.post(
        url(gallery, studio) + "/register", data={"name": name, "email": email, "language": "en"}
    )


def thumb_status(browser, photo):
    response = browser.get(f"/p/{photo.id}/thumb")
    response.close()
    return response.status_code


@pytest.fixture
def victim_setup(owner, clock):
    studio = owner.studio
    first = factories.make_gallery(studio, title="Autumn", access=GalleryAccess.REGISTRATION)
    second = factories.make_gallery(studio, title="Winter", access=GalleryAccess.REGISTRATION)
    photo = factories.make_photo(second)
    victim = factories.make_client(studio, email="victim@example.com", name="Vera Victim", gallery=first)
    return studio, first, second, photo, victim


def test_registering_with_a_clients_email_signs_nobody_in_and_changes_nothing(app, victim_setup, mail_outbox):
    studio, first, second, photo, victim = victim_setup
    attacker = app.test_client()
    response = post_registration(attacker, second, studio, "Victim@Example.com")
    assert response.status_code == 302 and response.location.endswith("/sign-in/code")
    assert thumb_status(attacker, photo) == 404
    assert b"Register to see the photos" in attacker.get(url(second, studio)).data
    assert b"Vera Victim" not in attacker.get(url(first, studio)).data
    # Nothing of the victim changed: no new registration, name kept.
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Registration.id)).where(Registration.client_id == victim.id)
        )
        == 1
    )
    db.session.refresh(victim)
    assert victim.name == "Vera Victim"
    # The code went to the victim's address, who alone can use it.
    mail = mail_outbox.wait_for(1)[0]
    assert mail.rcpt_tos == ["victim@example.com"] and mail.subject == "Your sign-in code for Winter"


def test_a_card_registered_with_someone_elses_email_is_not_added_to_their_account(app, victim_setup):
    studio, _, _, _, victim = victim_setup
    qr = factories.make_gallery(studio, title="Maple", is_qr=True, access=GalleryAccess.REGISTRATION)
    card = AccessCard(gallery_id=qr.id, label="Mallory's kid", code="KKKKMMMMNN", created_at=NOW)
    db.session.add(card)
    db.session.commit()
    attacker = app.test_client()
    response = attacker.post(
        "/c/KKKKMMMMNN", data={"name": "M", "email": "victim@example.com", "language": "en"}
    )
    assert response.location.endswith("/sign-in/code")
    assert db.session.scalar(sa.select(sa.func.count(CardClaim.card_id))) == 0
    # Only when the owner of the address opens the emailed link is the card theirs.
    victim_browser = app.test_client()
    assert victim_browser.post(latest_sign_in_link_path("victim@example.com")).status_code == 302
    assert db.session.get(CardClaim, (victim.id, card.id)) is not None


def test_known_and_unknown_addresses_get_the_same_answer(app, victim_setup):
    studio, _, second, _, _ = victim_setup
    answers = []
    for email in ("victim@example.com", "nobody@example.com"):
        browser = app.test_client()
        response = post_registration(browser, second, studio, email)
        page = browser.get(response.location)
        answers.append(
            (
                response.status_code,
                response.location,
                page.status_code,
                page.data.decode().replace(email, "ADDRESS"),
            )
        )
    assert answers[0] == answers[1]
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 1  # nobody made yet
    assert f'href="{url(second, studio)}">Use another address' in answers[0][3]


def test_the_code_signs_in_once_only_in_the_browser_that_asked(app, victim_setup, clock):
    studio, _, second, photo, victim = victim_setup
    browser = app.test_client()
    post_registration(browser, second, studio, "victim@example.com")
    code = latest_sign_in_code("victim@example.com")
    stranger = app.test_client()  # knows the code (say, over a shoulder) but did not ask
    assert stranger.post("/sign-in/code", data={"code": code}).status_code == 404
    landing = browser.post("/sign-in/code", data={"code": code[:3] + " " + code[3:]})
    assert landing.status_code == 302 and landing.location.endswith(url(second, studio))
    assert thumb_status(browser, photo) == 200
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Registration.id)).where(Registration.client_id == victim.id)
        )
        == 2
    )
    # Used: neither the code nor the link works again.
    assert browser.post("/sign-in/code", data={"code": code}).status_code == 404
    assert app.test_client().get(latest_sign_in_link_path("victim@example.com")).status_code == 410


def test_five_wrong_codes_kill_the_code(app, victim_setup):
    studio, _, second, photo, _ = victim_setup
    browser = app.test_client()
    post_registration(browser, second, studio, "victim@example.com")
    code = latest_sign_in_code("victim@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        page = browser.post("/sign-in/code", data={"code": wrong})
        assert page.status_code == 422 and b"This code is not right" in page.data
    locked = browser.post("/sign-in/code", data={"code": wrong})
    assert locked.status_code == 410 and b"Too many wrong codes" in locked.data
    assert browser.post("/sign-in/code", data={"code": code}).status_code == 410
    assert thumb_status(browser, photo) == 404


def test_the_code_expires_after_fifteen_minutes(app, victim_setup, clock):
    studio, _, second, photo, _ = victim_setup
    browser = app.test_client()
    post_registration(browser, second, studio, "new.parent@example.com")
    clock.now = NOW + timedelta(minutes=15, seconds=1)
    expired = confirm_with_code(browser, "new.parent@example.com")
    assert expired.status_code == 410 and b"This code has expired" in expired.data
    assert b"Ask for a new code" in expired.data
    assert thumb_status(browser, photo) == 404
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 1  # only the victim


def test_the_emailed_link_asks_for_a_press_then_works_once(app, victim_setup):
    studio, _, second, photo, _ = victim_setup
    post_registration(app.test_client(), second, studio, "new.parent@example.com", name="Nina")
    path = latest_sign_in_link_path("new.parent@example.com")
    phone = app.test_client()
    assert phone.get(path).status_code == 200  # what a mail scanner fetches: changes nothing
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 1
    pressed = phone.post(path)
    assert pressed.status_code == 302 and pressed.location.endswith(url(second, studio))
    assert thumb_status(phone, photo) == 200
    client = db.session.scalar(sa.select(Client).where(Client.email == "new.parent@example.com"))
    assert client.name == "Nina"
    again = app.test_client().get(path)
    assert again.status_code == 410 and b"already used" in again.data
    assert app.test_client().get("/sign-in/link/forged").status_code == 404


def test_a_signed_in_client_adds_a_gallery_without_a_new_code(app, victim_setup):
    studio, first, second, photo, victim = victim_setup
    browser = app.test_client()
    post_registration(browser, second, studio, "victim@example.com")
    confirm_with_code(browser, "victim@example.com")
    third = factories.make_gallery(studio, title="Spring", access=GalleryAccess.REGISTRATION)
    codes_before = db.session.scalar(sa.select(sa.func.count(ClientSignInRequest.id)))
    response = post_registration(browser, third, studio, "victim@example.com")
    assert response.location.endswith(url(third, studio))
    assert db.session.scalar(sa.select(sa.func.count(ClientSignInRequest.id))) == codes_before


# ------------------------------------------------------------------ sensitive messages


def test_secrets_are_marked_and_never_shown_to_staff(app, client, auth, owner, victim_setup, mail_outbox):
    studio, _, second, _, _ = victim_setup
    post_registration(app.test_client(), second, studio, "victim@example.com")
    code = latest_sign_in_code("victim@example.com")
    link = latest_sign_in_link_path("victim@example.com")
    app.test_client().post("/forgot-password", data={"email": owner.email})
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [row.is_sensitive for row in rows] == [True, True]
    auth.login(owner)
    for row in rows:
        page = client.get(f"/admin/activity/messages/{row.id}").data.decode()
        assert "Nobody in the studio can read it" in page
        assert code not in page and link not in page
        assert "/reset-password/" not in page
    mailbox = client.get("/admin/mail/").data.decode()
    assert "Your sign-in code for" not in mailbox and "Reset your" not in mailbox


def test_secrets_go_through_the_platforms_server_not_the_studios(
    app, client, logged_in, secure_server, mail_outbox, victim_setup
):
    studio, _, second, _, _ = victim_setup
    client.post("/admin/mail/settings", data=settings_form(secure_server.port))
    post_registration(app.test_client(), second, studio, "victim@example.com")
    app.test_client().post("/forgot-password", data={"email": logged_in.email})
    received = mail_outbox.wait_for(2)
    assert {tuple(mail.rcpt_tos) for mail in received} == {("victim@example.com",), (logged_in.email,)}
    assert all("proofsheet.local" in mail.message["From"] for mail in received)
    assert secure_server.collector.messages == []


# ------------------------------------------------------------------ private links


def _sign_in_link_of(app, client_row, gallery):
    from app.galleries.clients import sign_in_url

    with app.test_request_context():
        return "/" + sign_in_url(client_row, gallery).split("/", 3)[3]


def _orders_path(app, studio_id, client_id):
    from app.shop.client_services import my_orders_token

    return f"/my-orders/{my_orders_token(studio_id, client_id)}"


def test_my_orders_link_expires_and_a_new_one_is_emailed(app, victim_setup, monkeypatch):
    studio, _, _, _, victim = victim_setup
    real_time = __import__("time").time
    with monkeypatch.context() as old:
        old.setattr("itsdangerous.timed.time.time", lambda: real_time() - 91 * 86400)
        stale = _orders_path(app, studio.id, victim.id)
    assert app.test_client().get(_orders_path(app, studio.id, victim.id)).status_code == 200
    browser = app.test_client()
    refused = browser.get(stale)
    assert refused.status_code == 410 and b"This link has expired" in refused.data
    asked = browser.post(f"/s/{studio.slug}/my-orders/new-link", data={"email": "Victim@example.com"})
    assert asked.location.endswith("/sign-in/code")
    landing = confirm_with_code(browser, "victim@example.com")
    assert landing.status_code == 302 and "/my-orders/" in landing.location
    assert browser.get(landing.location).status_code == 200


def test_a_new_orders_link_for_an_unknown_address_makes_no_client(app, victim_setup):
    studio = victim_setup[0]
    browser = app.test_client()
    browser.post(f"/s/{studio.slug}/my-orders/new-link", data={"email": "who@example.com"})
    page = confirm_with_code(browser, "who@example.com")
    assert page.status_code == 200 and b"has no orders for who@example.com" in page.data
    assert db.session.scalar(sa.select(sa.func.count(Client.id))) == 1


def test_the_studio_revokes_a_clients_links_and_browsers(
    app, client, auth, owner, victim_setup, other_owner, clock
):
    studio, first, _, _, victim = victim_setup
    photo = factories.make_photo(first)
    old_link = _sign_in_link_of(app, victim, first)
    orders = _orders_path(app, studio.id, victim.id)
    parent = app.test_client()
    assert parent.get(old_link).status_code == 302 and thumb_status(parent, photo) == 200
    auth.login(other_owner)  # another studio cannot
    assert client.post(f"/admin/galleries/clients/{victim.id}/revoke-links").status_code == 404
    auth.login(owner)
    clock.now = datetime.now(UTC) + timedelta(seconds=5)  # links carry the real time
    assert client.post(f"/admin/galleries/clients/{victim.id}/revoke-links").status_code == 302
    assert thumb_status(parent, photo) == 404  # the browser is signed out
    assert app.test_client().get(old_link).status_code == 404
    assert app.test_client().get(orders).status_code == 410


def test_the_server_operator_prints_a_private_message_from_the_shell(app, runner, victim_setup):
    studio, _, second, _, _ = victim_setup
    post_registration(app.test_client(), second, studio, "victim@example.com")
    result = runner.invoke(args=["emails", "show-private", "--to", "Victim@example.com"])
    assert result.exit_code == 0, result.output
    assert latest_sign_in_code("victim@example.com") in result.output
    missing = runner.invoke(args=["emails", "show-private", "--to", "nobody@example.com"])
    assert missing.exit_code == 1 and "no message with a private link" in missing.output


def test_the_order_page_offers_to_revoke_the_clients_links(client, logged_in):
    from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery

    studio = logged_in.studio
    gallery = factories.make_gallery(studio)
    photo = factories.make_photo(gallery)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    buyer = factories.make_client(studio, email="buyer@example.com", gallery=gallery)
    fill_cart(buyer, gallery, photo, price_list.products[0])
    order = order_now(studio, buyer)
    page = client.get(f"/admin/shop/orders/{order.id}").data.decode()
    assert "Revoke the client’s private links" in page
    assert f'action="/admin/galleries/clients/{buyer.id}/revoke-links"' in page
