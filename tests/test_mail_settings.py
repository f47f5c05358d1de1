"""Settings → Email: validation, the password encrypted at rest, test connection against a real
STARTTLS + AUTH server (each failure explained), and mail going through the studio's server."""

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mailing.models import StudioMailSettings
from app.mailing.studio_settings import check_connection, smtp_settings
from tests import factories
from tests.conftest import free_port
from tests.secure_smtp import PASSWORD, USER


def settings_form(port, **overrides):
    data = {
        "sender_email": "hello@northlight.example.com",
        "sender_name": "Northlight Studio",
        "reply_to": "",
        "default_cc": "",
        "smtp_host": "127.0.0.1",
        "smtp_port": str(port),
        "security": "starttls",
        "allow_self_signed": "y",
        "username": USER,
        "password": PASSWORD,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_password_is_encrypted_at_rest_and_never_shown(client, logged_in, secure_server):
    assert client.post("/admin/mail/settings", data=settings_form(secure_server.port)).status_code == 302
    raw = db.session.execute(sa.text("SELECT password_encrypted FROM studio_mail_settings")).scalar_one()
    assert PASSWORD not in raw
    page = client.get("/admin/mail/settings").data.decode()
    assert PASSWORD not in page and "A password is saved." in page
    # Saving again with an empty password keeps the stored one.
    client.post("/admin/mail/settings", data=settings_form(secure_server.port, password=""))
    db.session.expire_all()
    assert smtp_settings(db.session.get(StudioMailSettings, logged_in.studio_id)).password == PASSWORD


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(sender_email="nope"), "nope: An email address must have an @-sign."),
        (dict(default_cc="a@example.com; bad@@example.com"), "bad@@example.com:"),
        (dict(smtp_port="70000"), "A port is a number from 1 to 65535."),
        (dict(password=""), "Please enter the password for this username."),
    ],
)
def test_bad_settings_name_the_problem_and_save_nothing(client, logged_in, overrides, message):
    page = client.post("/admin/mail/settings", data=settings_form(2525, **overrides))
    assert page.status_code == 422 and message in page.data.decode()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StudioMailSettings)) == 0


def _settings(port, **overrides):
    """A studio's server settings, checked against the test app's host policy (which allows
    127.0.0.1): the connection goes through the pinned client, as a studio's does."""
    from app.mailing.studio_settings import host_policy
    from app.mailing.transport import SmtpSettings

    values = dict(
        host="127.0.0.1",
        port=port,
        security="starttls",
        username=USER,
        password=PASSWORD,
        allow_self_signed=True,
        timeout=2,
        policy=host_policy(),
    )
    values.update(overrides)
    return SmtpSettings(**values)


@pytest.mark.no_database
def test_connection_succeeds_with_starttls_and_auth(app, secure_server):
    ok, message = check_connection(_settings(secure_server.port))
    assert ok and "with TLS and logged in" in message


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (dict(password="wrong"), "refused the username or password"),
        (dict(allow_self_signed=False), "certificate is not trusted"),
        (dict(security="none"), "closed the connection|refused the username|STARTTLS"),
        (dict(host="mail.nonexistent.invalid"), r"was not found \(DNS\)"),
    ],
)
@pytest.mark.no_database
def test_connection_failures_are_explained(app, secure_server, overrides, expected, monkeypatch):
    import re
    import smtplib

    if overrides.get("host", "").endswith(".invalid"):
        # The test guard refuses non-local servers before any lookup; here only the name is
        # resolved (an .invalid name never resolves), and nothing is ever sent.
        monkeypatch.setattr(smtplib.SMTP, "connect", _resolve_then_refuse)
    ok, message = check_connection(_settings(secure_server.port, **overrides))
    assert not ok and re.search(expected, message), message


def _resolve_then_refuse(self, host="localhost", port=0, source_address=None):
    import socket

    socket.getaddrinfo(host, port)  # raises gaierror for .invalid names: no traffic leaves
    raise AssertionError("unreachable")


@pytest.mark.no_database
def test_a_server_that_never_answers_is_explained_as_a_timeout(app):
    """A server that accepts the connection but never greets (a firewall, a wrong port)."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        ok, message = check_connection(_settings(silent.getsockname()[1], timeout=0.5))
    assert not ok and "did not answer in time" in message, message


@pytest.mark.no_database
def test_refused_port_is_explained(app):
    ok, message = check_connection(_settings(free_port()))
    assert not ok and "refused the connection" in message


def test_studio_mail_goes_through_its_own_server_from_its_address(
    client, logged_in, secure_server, mail_outbox
):
    client.post("/admin/mail/settings", data=settings_form(secure_server.port))
    response = client.post(
        "/admin/mail/settings/test-message", data={"to": "client@example.com"}, follow_redirects=True
    )
    assert b"Test message sent" in response.data
    mail = secure_server.collector.wait_for(1)[0]
    assert mail.message["From"] == "Northlight Studio <hello@northlight.example.com>"
    assert mail.rcpt_tos == ["client@example.com"] and mail_outbox.messages == []


def test_test_connection_button_reports_a_wrong_password(client, logged_in, secure_server, app):
    client.post("/admin/mail/settings", data=settings_form(secure_server.port, password="not it"))
    page = client.post("/admin/mail/settings/test-connection", follow_redirects=True)
    assert b"refused the username or password" in page.data


def test_operators_cannot_change_mail_settings(client, auth, owner):

    operator = factories.make_operator(owner.studio, email="op@example.com")
    auth.login(operator)
    assert client.get("/admin/mail/settings").status_code == 403
    assert client.post("/admin/mail/settings", data=settings_form(25)).status_code == 403


def test_mail_waits_on_a_wrong_password_and_goes_once_the_settings_are_fixed(
    client, logged_in, secure_server, app
):
    """Nothing is lost to a misconfiguration: the message stays queued with the server's error,
    attempt after attempt, and saving the right password sends it at the next dispatch."""
    from datetime import timedelta

    from app import timeutil
    from app.mailing.dispatch import MAX_ATTEMPTS, dispatch
    from app.mailing.models import OutboxMessage

    client.post("/admin/mail/settings", data=settings_form(secure_server.port, password="not it"))
    client.post("/admin/mail/settings/test-message", data={"to": "client@example.com"})
    row = db.session.scalar(sa.select(OutboxMessage))
    later = timeutil.now()
    for _ in range(MAX_ATTEMPTS + 1):
        later += timedelta(hours=2)
        dispatch(later)
        db.session.refresh(row)
        if row.state != "queued":
            break
    assert row.state == "queued", row.last_error
    assert "535" in row.last_error and secure_server.collector.messages == []
    activity = client.get("/admin/activity/?state=queued")
    assert b"535" in activity.data
    client.post("/admin/mail/settings", data=settings_form(secure_server.port))
    dispatch(timeutil.now() + timedelta(seconds=1))
    assert secure_server.collector.wait_for(1)[0].rcpt_tos == ["client@example.com"]
    db.session.refresh(row)
    assert row.state == "sent"


def test_connection_problems_are_explained_in_the_pages_language(app):
    from flask_babel import force_locale

    from app.mailing.studio_settings import refused_host_error

    with app.test_request_context(), force_locale("sv"):
        assert "ligger i ett privat eller lokalt nätverk" in refused_host_error("10.0.0.5", 25)
        ok, message = check_connection(_settings(free_port(), security="none", username=None))
    assert not ok and message.startswith("Servern nekade anslutningen på den här porten.")
