"""Staff sessions end for real (issue 14.3), forms that mail or check a secret are rate limited
(14.4), and nothing tells an attacker whether an address has an account (14.5)."""

import statistics
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import GalleryAccess
from tests import factories

PASSWORD = "correct horse"


def log_in(app, owner, remember=False):
    """A browser that logged in through the form (a real session, its own cookie)."""
    browser = app.test_client()
    data = {"email": owner.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = browser.post("/login", data=data)
    assert response.status_code == 302, response.data[:300]
    return browser


def is_logged_in(browser):
    factories.Auth._forget_cached_user()  # tests share one app context (and Flask-Login's g)
    return browser.get("/admin/galleries/").status_code == 200


def copy_of(app, browser):
    """Another browser holding a copy of ``browser``'s cookies (a stolen cookie)."""
    thief = app.test_client()
    for cookie in browser._cookies.values():
        thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return thief


def test_a_copied_cookie_dies_with_log_out(app, owner):
    browser = log_in(app, owner)
    thief = copy_of(app, browser)
    assert is_logged_in(thief)
    browser.post("/logout")
    assert not is_logged_in(thief)


def test_a_copied_remember_cookie_dies_with_log_out(app, owner):
    browser = log_in(app, owner, remember=True)
    remember = app.test_client()
    remember.set_cookie("remember_token", browser.get_cookie("remember_token").value)
    assert is_logged_in(remember)
    browser.post("/logout")
    fresh = app.test_client()
    fresh.set_cookie(
        "remember_token",
        browser.get_cookie("remember_token").value if browser.get_cookie("remember_token") else "",
    )
    assert not is_logged_in(remember) and not is_logged_in(fresh)


def test_changing_the_password_ends_the_other_sessions_only(app, owner):
    here, elsewhere = log_in(app, owner), log_in(app, owner)
    response = here.post(
        "/profile/password",
        data={
            "password-current": PASSWORD,
            "password-password": "a much longer secret",
            "password-confirm": "a much longer secret",
        },
    )
    assert response.status_code == 302
    assert is_logged_in(here) and not is_logged_in(elsewhere)


def test_a_password_reset_ends_every_session(app, owner):
    from app.accounts.services import password_reset_token

    elsewhere = log_in(app, owner)
    with app.test_request_context():
        token = password_reset_token(owner)
    reset = app.test_client()
    response = reset.post(
        f"/reset-password/{token}",
        data={"password": "a much longer secret", "confirm": "a much longer secret"},
    )
    assert response.status_code == 302
    assert is_logged_in(reset) and not is_logged_in(elsewhere)


def test_sign_out_everywhere(app, owner):
    here, elsewhere = log_in(app, owner), log_in(app, owner)
    assert b"Sign out everywhere" in here.get("/profile").data
    assert here.post("/profile/sessions/end").status_code == 302
    assert not is_logged_in(here) and not is_logged_in(elsewhere)
    assert is_logged_in(log_in(app, owner))  # logging in again works


# ------------------------------------------------------------------ rate limits


class TestRateLimits:
    """With the limiter on (the rest of the suite runs without it)."""

    @pytest.fixture
    def app_config(self):
        return {
            "RATELIMIT_ENABLED": True,
            "CLIENT_SIGN_IN_RATE_LIMIT_PER_ADDRESS": "3 per hour",
            "CLIENT_SIGN_IN_RATE_LIMIT_PER_IP": "6 per hour",
            "PASSWORD_RESET_RATE_LIMIT_PER_ADDRESS": "2 per hour",
            "PASSWORD_RESET_RATE_LIMIT_PER_IP": "4 per hour",
            "CLIENT_SIGN_IN_CODE_RATE_LIMIT": "8 per hour",
        }

    @staticmethod
    def _register(browser, studio, gallery, email):
        return browser.post(
            f"/g/{studio.slug}/{gallery.slug}/register",
            data={"name": "Alex", "email": email, "language": "en"},
        )

    def test_registrations_are_limited_per_address_across_galleries_and_per_network(self, app, owner):
        one = factories.make_gallery(owner.studio, title="One", access=GalleryAccess.REGISTRATION)
        two = factories.make_gallery(owner.studio, title="Two", access=GalleryAccess.REGISTRATION)
        browser = app.test_client()
        for gallery, email in ((one, "a@example.com"), (two, "A@example.com "), (one, "a@example.com")):
            assert self._register(browser, owner.studio, gallery, email).status_code == 302
        blocked = self._register(browser, owner.studio, two, "a@example.com")
        assert blocked.status_code == 429 and b"Too many attempts" in blocked.data
        for email in ("b@example.com", "c@example.com", "d@example.com"):  # others still can...
            assert self._register(browser, owner.studio, one, email).status_code == 302
        # ...until the network address reached its own limit.
        assert self._register(browser, owner.studio, one, "e@example.com").status_code == 429

    def test_password_resets_are_limited_per_address_and_per_network(self, app, owner, mail_outbox):
        browser = app.test_client()
        for _ in range(2):
            assert browser.post("/forgot-password", data={"email": owner.email}).status_code == 302
        blocked = browser.post("/forgot-password", data={"email": owner.email.upper()})
        assert blocked.status_code == 429 and b"Too many attempts" in blocked.data
        assert len(mail_outbox.wait_for(2)) == 2
        for email in ("x@example.com", "y@example.com"):
            assert browser.post("/forgot-password", data={"email": email}).status_code == 302
        assert browser.post("/forgot-password", data={"email": "z@example.com"}).status_code == 429

    def test_typing_codes_is_limited_per_network(self, app, owner):
        gallery = factories.make_gallery(owner.studio, access=GalleryAccess.REGISTRATION)
        browser = app.test_client()
        self._register(browser, owner.studio, gallery, "a@example.com")
        statuses = [browser.post("/sign-in/code", data={"code": "000000"}).status_code for _ in range(9)]
        assert statuses[-1] == 429 and 429 not in statuses[:8]


# ------------------------------------------------------------------ enumeration


def test_reset_answers_the_same_for_known_and_unknown_addresses(app, owner):
    answers = []
    for email in (owner.email, "nobody@example.com"):
        response = app.test_client().post("/forgot-password", data={"email": email}, follow_redirects=True)
        answers.append((response.status_code, response.data.replace(email.encode(), b"")))
    assert answers[0] == answers[1]


def test_login_costs_the_same_for_unknown_accounts(app, owner):
    """A wrong password for a real account and any password for no account both check one
    password hash: the timing does not tell them apart (each median within 2x of the other)."""
    db.session.commit()

    def median_login(email):
        browser, times = app.test_client(), []
        for _ in range(7):
            started = time.perf_counter()
            response = browser.post("/login", data={"email": email, "password": "wrong guess"})
            times.append(time.perf_counter() - started)
            assert b"Email or password is incorrect." in response.data
        return statistics.median(times)

    median_login(owner.email)  # warm up (the unknown-account hash is made once)
    median_login("nobody@example.com")
    known, unknown = median_login(owner.email), median_login("nobody@example.com")
    assert 0.5 < unknown / known < 2.0, (known, unknown)


# ------------------------------------------------------------------ confirmed sign-ups


class TestSignupByEmail:
    """Where mail really goes out, a sign-up waits for its emailed link, and the page answers
    the same for an address with an account and one without."""

    @pytest.fixture
    def app_config(self):
        return {"SIGNUP_EMAIL_CONFIRMATION": True}

    @staticmethod
    def _form(email, studio="Lumen Studio"):
        return {
            "studio_name": studio,
            "name": "Ana Silva",
            "email": email,
            "password": "a much longer secret",
            "confirm": "a much longer secret",
            "timezone": "Europe/Paris",
            "currency": "EUR",
            "language": "en",
        }

    def test_known_and_unknown_addresses_get_the_same_answer(self, app, mail_outbox):
        owner = factories.make_owner(email="owner@example.com")  # sign-up refuses .test
        answers = []
        for email in (owner.email, "ana@example.com"):
            browser = app.test_client()
            response = browser.post("/signup", data=self._form(email))
            page = browser.get(response.location)
            answers.append(
                (response.status_code, response.location, page.data.replace(email.encode(), b"ADDRESS"))
            )
        assert answers[0] == answers[1] and answers[0][0] == 302
        from app.accounts.models import Studio

        assert db.session.scalar(sa.select(sa.func.count(Studio.id))) == 1  # nothing made yet
        mails = {mail.rcpt_tos[0]: mail for mail in mail_outbox.wait_for(2)}
        assert "already has an account" in mails[owner.email].text()
        assert "/signup/confirm/" in mails["ana@example.com"].text()

    def test_the_emailed_link_creates_the_studio_once(self, app, mail_outbox):
        app.test_client().post("/signup", data=self._form("ana@example.com"))
        text = mail_outbox.wait_for(1)[0].text()
        path = "/" + next(w for w in text.split() if "/signup/confirm/" in w).split("/", 3)[3]
        browser = app.test_client()
        assert b"Create Lumen Studio" in browser.get(path).data  # a GET creates nothing
        from app.accounts.models import Studio, User

        assert db.session.scalar(sa.select(sa.func.count(Studio.id))) == 0
        created = browser.post(path)
        assert created.status_code == 302 and created.location.endswith("/admin/galleries/")
        assert is_logged_in(browser)
        user = db.session.scalar(sa.select(User).where(User.email == "ana@example.com"))
        assert user.studio.name == "Lumen Studio" and user.is_owner
        again = app.test_client().post(path)
        assert again.status_code == 400 and b"This link cannot be used" in again.data
        assert db.session.scalar(sa.select(sa.func.count(Studio.id))) == 1

    def test_the_embedded_default_signs_up_at_once(self, app):
        app.config.update(SIGNUP_EMAIL_CONFIRMATION=None, MAIL_SINK_ENABLED=True)
        browser = app.test_client()
        response = browser.post("/signup", data=self._form("ana@example.com"))
        assert response.location.endswith("/admin/galleries/") and is_logged_in(browser)
