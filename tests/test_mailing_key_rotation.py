"""Rotating SECRET_KEY: links signed with a key listed in SECRET_KEY_FALLBACKS keep working, new
ones are signed with the new key only, and a key that is in neither is refused. BASE_URL over
plain http to a public host is flagged in the log and to the studio's owner."""

import logging

import pytest

from app.config import insecure_base_url, parse_env_value
from app.galleries.clients import read_sign_in_token, sign_in_token
from app.mailing import return_path
from app.mailing.unsubscribe import read_unsubscribe_token, unsubscribe_token
from app.shop.client_services import (
    download_token,
    my_orders_token,
    read_download_token,
    read_my_orders_token,
)
from app.signing import signing_keys
from tests import factories
from tests.conftest import make_test_app

OLD, NEW, UNKNOWN = "old-secret", "new-secret", "someone-elses-secret"


def tokens(studio_id, client):
    return {
        "unsubscribe": unsubscribe_token(studio_id, "a@example.com"),
        "sign_in": sign_in_token(client),
        "orders": my_orders_token(studio_id, client.id),
        "download": download_token(5, 6),
        "bounce": return_path.address_for("bounce", 42, "b.test"),
    }


def readable(found, studio_id, client):
    from app.shop.client_services import DownloadRefused

    try:
        download = read_download_token(found["download"])
    except DownloadRefused:
        download = None
    return {
        "unsubscribe": read_unsubscribe_token(found["unsubscribe"]) == (studio_id, "a@example.com"),
        "sign_in": read_sign_in_token(found["sign_in"]) == (studio_id, client.id),
        "orders": read_my_orders_token(found["orders"]) == (studio_id, client.id),
        "download": download == (5, 6),
        "bounce": return_path.read_address(found["bounce"], "b.test") == ("bounce", 42),
    }


def test_links_signed_with_an_old_key_work_after_rotating(app, owner):
    client = factories.make_client(owner.studio)
    app.config["SECRET_KEY"] = OLD
    before = tokens(owner.studio_id, client)
    app.config.update(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD])
    assert all(readable(before, owner.studio_id, client).values())
    app.config["SECRET_KEY_FALLBACKS"] = []  # the old key dropped: its links die
    assert not any(readable(before, owner.studio_id, client).values())


def test_links_signed_with_an_unknown_key_are_refused(app, owner):
    client = factories.make_client(owner.studio)
    app.config["SECRET_KEY"] = UNKNOWN
    forged = tokens(owner.studio_id, client)
    app.config.update(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD])
    assert not any(readable(forged, owner.studio_id, client).values())


def test_new_links_are_signed_with_the_new_key_only(app, owner):
    client = factories.make_client(owner.studio)
    app.config.update(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD])
    after = tokens(owner.studio_id, client)
    app.config.update(SECRET_KEY=OLD, SECRET_KEY_FALLBACKS=[])  # only the old key: refused
    assert not any(readable(after, owner.studio_id, client).values())
    app.config.update(SECRET_KEY=NEW)
    assert all(readable(after, owner.studio_id, client).values())


def test_an_old_unsubscribe_link_still_opens_its_page(app, client, owner):
    app.config["SECRET_KEY"] = OLD
    token = unsubscribe_token(owner.studio_id, "a@example.com")
    app.config.update(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD])
    assert client.get(f"/unsubscribe/{token}").status_code == 200
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get(f"/unsubscribe/{token}").status_code == 404


def test_fallbacks_from_the_environment_are_comma_separated():
    assert parse_env_value("SECRET_KEY_FALLBACKS", "older, old") == ["older", "old"]
    assert signing_keys({"SECRET_KEY": "k", "SECRET_KEY_FALLBACKS": "a,b"}) == ("a", "b", "k")


def test_http_base_url_is_insecure_only_for_public_hosts():
    assert insecure_base_url({"BASE_URL": "http://photos.example.com"})
    assert not insecure_base_url({"BASE_URL": "https://photos.example.com"})
    for local in ("http://localhost:5000", "http://127.0.0.1:5000", "http://[::1]:5000"):
        assert not insecure_base_url({"BASE_URL": local})


@pytest.mark.no_database
def test_http_base_url_is_logged_at_start_up(database_url, tmp_path, smtp_server, caplog):
    with caplog.at_level(logging.WARNING):
        make_test_app(
            database_url, tmp_path / "instance", smtp_server.port, BASE_URL="http://photos.example.com"
        )
    assert "BASE_URL is http://photos.example.com" in caplog.text


def test_the_owner_sees_a_banner_while_base_url_is_http(app, client, auth, owner):
    auth.login(owner)
    banner = b"starts with http://"
    assert banner not in client.get("/admin/workflows/").data  # localhost in the tests
    app.config["BASE_URL"] = "http://photos.example.com"
    assert banner in client.get("/admin/workflows/").data
    app.config["BASE_URL"] = "https://photos.example.com"
    assert banner not in client.get("/admin/workflows/").data


def test_password_reset_and_invitation_links_survive_a_key_rotation(app, owner):
    from app.accounts import services as accounts
    from app.extensions import db

    app.config["SECRET_KEY"] = OLD
    reset = accounts.password_reset_token(owner)
    invitation = accounts.invite_operator(owner.studio, "op@example.com", owner, factories.NOW)
    db.session.commit()
    invite = accounts.invitation_token(invitation)
    app.config.update(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD])
    assert accounts.user_for_reset_token(reset, 3600).id == owner.id
    assert accounts.invitation_for_token(invite, 3600).id == invitation.id
    app.config["SECRET_KEY_FALLBACKS"] = []
    for read, token in ((accounts.user_for_reset_token, reset), (accounts.invitation_for_token, invite)):
        try:
            read(token, 3600)
        except accounts.LinkProblem as problem:
            assert problem.reason == "invalid"
        else:
            raise AssertionError("a link signed with a dropped key still works")


@pytest.mark.no_database
def test_secrets_at_rest_decrypt_with_an_old_key_after_rotating(app):
    """SMTP passwords, Stripe keys and DKIM private keys survive a rotation through the
    fallbacks, are encrypted with the new key from then on, and die with the old key."""
    from app.mailing.crypto import decrypt, encrypt

    with app.app_context():
        app.config.update(SECRET_KEY=OLD, SECRET_KEY_FALLBACKS=[])
        stored = encrypt("smtp-password")
        app.config.update(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD])
        assert decrypt(stored) == "smtp-password"
        fresh = encrypt("new-secret-value")
        app.config["SECRET_KEY_FALLBACKS"] = []
        assert decrypt(stored) is None
        assert decrypt(fresh) == "new-secret-value"
