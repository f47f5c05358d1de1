"""The password policy: at least 10 characters, not in the shipped list of common passwords
(Django's, compared lower-cased), not the account's email nor its local part. Checked on
sign-up, password reset, change password and accepting an invitation."""

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from app.accounts import services as accounts
from app.accounts.forms import ResetPasswordForm, common_passwords, password_problem
from app.accounts.models import Studio, User
from app.demo import DEMO_PASSWORD
from app.extensions import db
from tests.factories import NOW

SHORT = "Use at least 10 characters."
COMMON = "This password is too common: choose one that is harder to guess."
IS_EMAIL = "Your password cannot be your email address, nor the part before the @."

# (password, message or None when accepted), for an account of "ana.lumen@example.com".
CASES = [
    ("short pw", SHORT),
    ("password123", COMMON),
    ("qwertyuiop", COMMON),
    ("QwertyUIOP", COMMON),  # the list is lower-cased: so is the comparison
    ("ana.lumen@example.com", IS_EMAIL),
    ("Ana.Lumen@Example.com", IS_EMAIL),
    ("ana.lumen12", None),  # not the local part itself
    ("a long secret", None),
]
EMAIL = "ana.lumen@example.com"


def test_the_common_list_is_djangos_and_read_once():
    passwords = common_passwords()
    assert len(passwords) > 19_000 and {"password123", "qwertyuiop", "123456"} <= passwords
    assert common_passwords() is passwords


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password123", COMMON),
        ("  Password123 ", COMMON),
        ("ana.lumen", IS_EMAIL),
        (EMAIL, IS_EMAIL),
        ("ANA.LUMEN@EXAMPLE.COM", IS_EMAIL),
        ("correct horse battery", None),
    ],
)
def test_password_problem(password, message):
    problem = password_problem(password, EMAIL)
    assert (str(problem) if problem else None) == message


def test_the_demo_password_and_the_tests_own_passwords_pass_the_policy():
    for password in (
        DEMO_PASSWORD,
        "correct horse",
        "a long secret",
        "new password 1",
        "another one 2",
        "a new secret",
        "operator pass",
    ):
        assert len(password) >= 10 and password_problem(password) is None, password


def assert_refused(response, message):
    assert response.status_code in (200, 400, 422), response.status_code
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(("password", "message"), CASES)
def test_signup(client, app, password, message):
    response = client.post(
        "/signup",
        data={
            "studio_name": "Lumen Studio",
            "name": "Ana Lumen",
            "email": EMAIL,
            "password": password,
            "confirm": password,
            "timezone": "Europe/Paris",
            "currency": "EUR",
            "language": "en",
        },
    )
    studios = db.session.scalar(sa.select(sa.func.count(Studio.id)))
    if message is None:
        assert response.status_code == 302 and studios == 1
    else:
        assert_refused(response, message)
        assert studios == 0


def _password_of(user_id):
    db.session.expire_all()
    return db.session.get(User, user_id).password_hash


@pytest.mark.parametrize(
    ("password", "message"), CASES[:4] + CASES[-1:] + [("owner@northlight.test", IS_EMAIL)]
)
def test_password_reset(client, owner, password, message):
    token = accounts.password_reset_token(owner)
    before = owner.password_hash
    response = client.post(f"/reset-password/{token}", data={"password": password, "confirm": password})
    if message is None:
        assert response.status_code == 302
        assert check_password_hash(_password_of(owner.id), password)
    else:
        assert_refused(response, message)
        assert _password_of(owner.id) == before


@pytest.mark.parametrize("password", ["northlight.owner@example.com", "NorthLight.Owner"])
@pytest.mark.no_database
def test_a_reset_form_built_with_the_account_email_refuses_it(app, password):
    with app.test_request_context(method="POST", data={"password": password, "confirm": password}):
        form = ResetPasswordForm(email="northlight.owner@example.com", meta={"csrf": False})
        assert not form.validate() and form.password.errors == [IS_EMAIL]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        *CASES[:4],
        ("owner@northlight.test", IS_EMAIL),
        ("Owner", SHORT),
        ("owner12345", None),
        ("a long secret", None),
    ],
)
def test_change_password(client, logged_in, password, message):
    before = logged_in.password_hash
    response = client.post(
        "/profile/password",
        data={
            "password-current": "correct horse",
            "password-password": password,
            "password-confirm": password,
        },
    )
    if message is None:
        assert response.status_code == 302
        assert check_password_hash(_password_of(logged_in.id), password)
    else:
        assert_refused(response, message)
        assert _password_of(logged_in.id) == before


@pytest.mark.parametrize(("password", "message"), CASES[:4] + CASES[-1:] + [(EMAIL, IS_EMAIL)])
def test_accepting_an_invitation(client, owner, password, message):
    invitation = accounts.invite_operator(owner.studio, EMAIL, owner, NOW)
    db.session.commit()
    response = client.post(
        f"/invitations/{accounts.invitation_token(invitation)}",
        data={"name": "Olivia", "password": password, "confirm": password},
    )
    operators = db.session.scalar(sa.select(sa.func.count(User.id)).where(User.email == EMAIL))
    if message is None:
        assert response.status_code == 302 and operators == 1
    else:
        assert_refused(response, message)
        assert operators == 0
