"""Studio accounts: sign-up, log-in, rate limit, password reset, profile, invitations."""

import pytest
import sqlalchemy as sa

from app.accounts.models import Invitation, Role, Studio, User
from app.extensions import db
from tests import factories


def signup_data(**overrides):
    data = {
        "studio_name": "Lumen Photo",
        "name": "Ana Silva",
        "email": "Ana@Example.COM",
        "password": "a long secret",
        "confirm": "a long secret",
        "timezone": "Europe/Lisbon",
        "currency": "EUR",
        "language": "en",
    }
    data.update(overrides)
    return data


def test_signup_creates_the_studio_and_its_owner_and_logs_in(client, app):
    response = client.post("/signup", data=signup_data())
    assert response.status_code == 302 and response.location.endswith("/admin/galleries/")
    user = db.session.scalar(sa.select(User))
    assert user.email == "ana@example.com" and user.role == Role.OWNER
    assert user.password_hash != "a long secret"
    studio = db.session.scalar(sa.select(Studio))
    assert (studio.name, studio.timezone, studio.currency, studio.slug) == (
        "Lumen Photo",
        "Europe/Lisbon",
        "EUR",
        "lumen-photo",
    )
    assert client.get("/admin/galleries/").status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("studio_name", "", b"Please enter your studio"),
        ("email", "nope", b"An email address must have an @-sign."),
        ("password", "short", b"Use at least 10 characters."),
        ("confirm", "something else", b"The two passwords are not the same."),
        ("timezone", "Mars/Olympus", b"Not a valid choice"),
    ],
)
def test_signup_errors_are_shown_on_their_field(client, field, value, message):
    response = client.post("/signup", data=signup_data(**{field: value}))
    assert response.status_code == 200 and message in response.data
    assert db.session.scalar(sa.select(sa.func.count(Studio.id))) == 0


def test_signup_with_an_email_already_used_is_refused(client, app):
    from tests.factories import make_owner

    make_owner(email="owner@example.com")
    response = client.post("/signup", data=signup_data(email="OWNER@example.com"))
    assert b"An account already uses this email" in response.data
    assert db.session.scalar(sa.select(sa.func.count(Studio.id))) == 1


def test_login_logout_and_safe_next(client, owner):
    bad = client.post("/login", data={"email": owner.email, "password": "wrong password"})
    assert b"Email or password is incorrect." in bad.data
    unknown = client.post("/login", data={"email": "nobody@x.test", "password": "whatever12"})
    assert b"Email or password is incorrect." in unknown.data
    good = client.post(
        "/login",
        data={"email": owner.email, "password": "correct horse", "next": "https://evil.example/steal"},
    )
    assert good.status_code == 302 and good.location.endswith("/admin/galleries/")
    assert client.get("/admin/galleries/").status_code == 200
    client.post("/logout")
    assert client.get("/admin/galleries/").status_code == 302


@pytest.mark.no_database
def test_admin_pages_send_visitors_to_the_login_with_next(client):
    response = client.get("/admin/galleries/")
    assert response.status_code == 302 and "/login?next=" in response.location


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}])
def test_login_attempts_are_rate_limited(client, owner, app_config):
    for _ in range(3):
        client.post("/login", data={"email": owner.email, "password": "wrong password"})
    blocked = client.post("/login", data={"email": owner.email, "password": "correct horse"})
    assert blocked.status_code == 429 and b"Too many attempts" in blocked.data


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_forms_without_a_csrf_token_are_refused(client, owner, app_config):
    response = client.post("/login", data={"email": owner.email, "password": "correct horse"})
    assert response.status_code == 400 and b"session expired" in response.data
    assert client.get("/admin/galleries/").status_code == 302


def test_password_reset_over_real_smtp_is_single_use(client, owner, mail_outbox, app):
    client.post("/forgot-password", data={"email": owner.email})
    client.post("/forgot-password", data={"email": "nobody@example.com"})  # same answer, no mail
    mail = mail_outbox.wait_for(1)[0]
    assert mail.subject == "Reset your Proofsheet password" and len(mail_outbox.messages) == 1
    link = next(word for word in mail.text().split() if "/reset-password/" in word)
    path = "/" + link.split("/", 3)[3]
    other = app.test_client()
    assert (
        other.post(path, data={"password": "new password 1", "confirm": "new password 1"}).status_code == 302
    )
    reused = app.test_client().post(path, data={"password": "another one 2", "confirm": "another one 2"})
    assert reused.status_code == 400 and b"cannot be used" in reused.data
    assert (
        app.test_client()
        .post("/login", data={"email": owner.email, "password": "new password 1"})
        .status_code
        == 302
    )


def test_expired_reset_link(client, owner, app):
    from app.accounts.services import password_reset_token

    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    with app.test_request_context():
        token = password_reset_token(owner)
    page = client.get(f"/reset-password/{token}")
    assert page.status_code == 400 and b"This link has expired" in page.data


def test_owner_edits_the_studio_and_operators_cannot(client, auth, owner):
    auth.login(owner)
    response = client.post(
        "/profile/studio",
        data={
            "studio-name": "Northlight",
            "studio-email": "hello@example.com",
            "studio-timezone": "America/New_York",
            "studio-currency": "USD",
            "studio-language": "en",
            "studio-watermark_text": "© Northlight",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    studio = db.session.get(Studio, owner.studio_id)
    assert (studio.timezone, studio.currency, studio.watermark) == ("America/New_York", "USD", "© Northlight")
    operator = factories.make_operator(owner.studio, email="op@northlight.test")
    auth.login(operator)
    assert client.post("/profile/studio", data={"studio-name": "Hacked"}).status_code == 403
    assert client.post("/profile/invitations", data={"invite-email": "x@y.test"}).status_code == 403


def test_change_password_needs_the_current_one(client, logged_in):
    wrong = client.post(
        "/profile/password",
        data={
            "password-current": "nope",
            "password-password": "a new secret",
            "password-confirm": "a new secret",
        },
    )
    assert wrong.status_code == 422 and b"This is not your current password." in wrong.data


def test_invitation_flow(client, auth, owner, mail_outbox, app):
    auth.login(owner)
    client.post("/profile/invitations", data={"invite-email": "Operator@Example.com"})
    mail = mail_outbox.wait_for(1)[0]
    assert "invites you to Proofsheet" in mail.subject
    link = next(word for word in mail.text().split() if "/invitations/" in word)
    path = "/" + link.split("/", 3)[3]
    invitee = app.test_client()
    response = invitee.post(
        path, data={"name": "Olivia", "password": "operator pass", "confirm": "operator pass"}
    )
    assert response.status_code == 302
    operator = db.session.scalar(sa.select(User).where(User.email == "operator@example.com"))
    assert operator.role == Role.OPERATOR and operator.studio_id == owner.studio_id
    assert invitee.get("/admin/galleries/").status_code == 200
    assert app.test_client().get(path).status_code == 400  # used


def test_revoked_invitation_link_stops_working(client, auth, owner, mail_outbox, app):
    auth.login(owner)
    client.post("/profile/invitations", data={"invite-email": "op@example.com"})
    link = next(w for w in mail_outbox.wait_for(1)[0].text().split() if "/invitations/" in w)
    invitation = db.session.scalar(sa.select(Invitation))
    client.post(f"/profile/invitations/{invitation.id}/revoke")
    assert app.test_client().get("/" + link.split("/", 3)[3]).status_code == 400


def test_another_studios_staff_and_invitations_answer_404(client, auth, owner, other_owner):
    from app import timeutil
    from app.accounts.services import invite_operator

    invitation = invite_operator(other_owner.studio, "x@other.test", other_owner, timeutil.now())
    db.session.commit()
    auth.login(owner)
    assert client.post(f"/profile/staff/{other_owner.id}/remove").status_code == 404
    assert client.post(f"/profile/invitations/{invitation.id}/revoke").status_code == 404
    assert db.session.get(User, other_owner.id) is not None


def test_owner_cannot_be_removed(client, logged_in):
    page = client.post(f"/profile/staff/{logged_in.id}/remove", follow_redirects=True)
    assert b"owner cannot be removed" in page.data
