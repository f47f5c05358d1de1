"""A studio's SMTP server settings cannot be used to probe the platform's network.

Loopback, private, link-local and metadata addresses are refused after DNS resolution, when the
settings are saved, by "Test connection" and at send time; the connection goes to the addresses
that were checked; "Test connection" never repeats what a server said. Name resolution is faked
with a patched ``socket.getaddrinfo`` and every connection made here goes to 127.0.0.1.
"""

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app import timeutil
from app.config import DEFAULTS
from app.extensions import db
from app.mailing.addresses import HostNotAllowed, HostPolicy, resolve
from app.mailing.models import OutboxMessage, StudioMailSettings
from app.mailing.studio_settings import check_connection, host_policy
from app.mailing.transport import SmtpSettings
from tests import conftest
from tests.conftest import CollectingHandler, free_port

STRICT = {"SMTP_ALLOW_PRIVATE_HOSTS": []}
REFUSED = "is on a private or local network"
real_getaddrinfo = socket.getaddrinfo


def fake_dns(monkeypatch, answers):
    """Resolve the names in ``answers`` ({name: [ip, ...]}) without any traffic; other names
    (IP literals, localhost) resolve as usual."""

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in answers:
            return real_getaddrinfo(host, port, family, type, proto, flags)
        infos = []
        for text in answers[host]:
            ip = ipaddress.ip_address(text)
            family_of = socket.AF_INET if ip.version == 4 else socket.AF_INET6
            sockaddr = (text, port) if ip.version == 4 else (text, port, 0, 0)
            infos.append((family_of, socket.SOCK_STREAM, 6, "", sockaddr))
        return infos

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def policy(**config):
    return HostPolicy.from_config({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": 8025} | config)


# ---------------------------------------------------------------- the check itself


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.0.0.1",
        "192.168.1.1",
        "172.16.5.4",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",
        "localhost",
    ],
)
def test_local_private_link_local_and_metadata_addresses_are_refused(host):
    with pytest.raises(HostNotAllowed, match=REFUSED):
        policy().check(host, 587)


def test_a_name_is_refused_when_any_of_its_addresses_is_private(monkeypatch):
    fake_dns(
        monkeypatch,
        {
            "mail.mixed.example": ["93.184.216.34", "10.0.0.5"],
            "mail.public.example": ["93.184.216.34", "2606:4700::1111"],
        },
    )
    with pytest.raises(HostNotAllowed) as refusal:
        policy().check("mail.mixed.example", 587)
    assert "mail.mixed.example" in str(refusal.value) and "10.0.0.5" not in str(refusal.value)
    checked = policy().check("mail.public.example", 587)
    assert [resolved.sockaddr[0] for resolved in checked] == ["93.184.216.34", "2606:4700::1111"]


def test_the_operator_may_allow_private_networks_and_names_but_never_metadata(monkeypatch):
    fake_dns(monkeypatch, {"mail.internal": ["192.168.7.7"], "mail.other": ["192.168.7.8"]})
    allowing = policy(SMTP_ALLOW_PRIVATE_HOSTS=["10.0.0.0/8", "fd00::/8", "169.254.0.0/16", "mail.internal"])
    assert allowing.check("10.0.0.1", 587)[0].sockaddr[0] == "10.0.0.1"
    assert allowing.check("169.254.1.1", 587)
    assert allowing.check("mail.internal", 587)[0].sockaddr[0] == "192.168.7.7"
    for refused in ("192.168.1.1", "mail.other", "169.254.169.254", "fd00:ec2::254"):
        with pytest.raises(HostNotAllowed):
            allowing.check(refused, 587)
    # From the environment: one comma-separated string.
    from_env = policy(SMTP_ALLOW_PRIVATE_HOSTS="10.0.0.1, 127.0.0.1")
    assert from_env.check("127.0.0.1", 25) and from_env.check("10.0.0.1", 25)


def test_the_platform_server_is_always_allowed():
    """The embedded sink (127.0.0.1:8025 by default) stays usable as a studio's server; the same
    host on another port is not the platform's server."""
    assert HostPolicy.from_config(DEFAULTS).check("127.0.0.1", 8025)
    with pytest.raises(HostNotAllowed):
        HostPolicy.from_config(DEFAULTS).check("127.0.0.1", 8026)


def test_a_name_the_codec_rejects_is_an_unknown_name():
    with pytest.raises(socket.gaierror):
        resolve("bad..name", 25)


# ---------------------------------------------------------------- saving, testing, sending


def settings_form(host, port, **overrides):
    data = {
        "sender_email": "hello@northlight.example.com",
        "sender_name": "Northlight Studio",
        "smtp_host": host,
        "smtp_port": str(port),
        "security": "none",
        "username": "",
        "password": "",
    }
    return data | overrides


@pytest.mark.parametrize("app_config", [STRICT])
@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "fe80::1", "localhost", "mail.mixed.example"]
)
def test_saving_a_private_server_names_the_host_and_saves_nothing(
    client, logged_in, host, monkeypatch, app_config
):
    fake_dns(monkeypatch, {"mail.mixed.example": ["93.184.216.34", "10.0.0.5"]})
    page = client.post("/admin/mail/settings", data=settings_form(host, 587))
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and f"{host} {REFUSED}" in text
    assert "10.0.0.5" not in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StudioMailSettings)) == 0


@pytest.mark.parametrize("app_config", [STRICT])
def test_saving_the_platform_server_is_allowed(client, logged_in, smtp_server, app_config):
    """The test app's platform server is 127.0.0.1 on the session SMTP server's port."""
    page = client.post("/admin/mail/settings", data=settings_form("127.0.0.1", smtp_server.port))
    assert page.status_code == 302


def test_saving_is_allowed_when_the_operator_allows_the_address(client, logged_in):
    """The test app allows 127.0.0.1 (conftest.make_test_app)."""
    assert client.post("/admin/mail/settings", data=settings_form("127.0.0.1", 2525)).status_code == 302


@pytest.fixture
def listener():
    """A socket listening on 127.0.0.1, to tell whether anyone connected (``.port``)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.settimeout(0.3)
        yield SimpleNamespace(sock=sock, port=sock.getsockname()[1])


def _was_contacted(listener):
    try:
        listener.sock.accept()[0].close()
    except TimeoutError:
        return False
    return True


def store_settings(studio_id, host, port):
    """Settings saved before the rule existed (or written by hand): the form never saw them."""
    db.session.add(
        StudioMailSettings(
            studio_id=studio_id,
            sender_email="hello@northlight.test",
            smtp_host=host,
            smtp_port=port,
            security="none",
            updated_at=timeutil.now(),
        )
    )
    db.session.commit()


@pytest.mark.parametrize("app_config", [STRICT])
def test_test_connection_refuses_before_connecting(client, logged_in, listener, app_config):
    store_settings(logged_in.studio_id, "127.0.0.1", listener.port)
    page = client.post("/admin/mail/settings/test-connection", follow_redirects=True)
    assert f"127.0.0.1 {REFUSED}" in page.get_data(as_text=True)
    assert not _was_contacted(listener)


@pytest.mark.parametrize("app_config", [STRICT])
def test_the_dispatcher_holds_mail_for_a_refused_server_with_the_reason(
    client, logged_in, listener, app_config
):
    from app.mailing.dispatch import dispatch

    store_settings(logged_in.studio_id, "127.0.0.1", listener.port)
    page = client.post(
        "/admin/mail/settings/test-message", data={"to": "client@example.com"}, follow_redirects=True
    )
    assert REFUSED in page.get_data(as_text=True)
    row = db.session.scalar(sa.select(OutboxMessage))
    assert row.state == "queued" and REFUSED in row.last_error
    result = dispatch(timeutil.now() + dt.timedelta(hours=2))  # once the backoff has passed
    assert result.retried == 1 and result.sent == 0
    db.session.refresh(row)
    # Refused before connecting: a setup failure, never counted towards the 4xx attempts
    assert row.state == "queued" and row.attempts == 0
    assert not _was_contacted(listener)
    activity = client.get("/admin/activity/?state=queued").get_data(as_text=True)
    assert f"127.0.0.1 {REFUSED}" in activity


# ---------------------------------------------------------------- banners


@pytest.fixture
def banner_server():
    """A TCP server on 127.0.0.1 (``.port``) greeting every connection with ``.banner``."""
    server = SimpleNamespace(sock=socket.socket(), banner=b"")
    server.sock.bind(("127.0.0.1", 0))
    server.sock.listen()
    server.port = server.sock.getsockname()[1]

    def serve():
        while True:
            try:
                conn, _ = server.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(server.banner)
                conn.settimeout(1)
                with contextlib.suppress(OSError):
                    conn.recv(1024)  # the client's EHLO or QUIT, if any

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server
    server.sock.close()
    thread.join(timeout=2)


@pytest.mark.parametrize(
    ("banner", "explanation"),
    [
        ("SSH-2.0-OpenSSH_9.2p1 Secret-Banner-7Q4Z", "did not accept the connection setup"),
        ("554 Secret-Banner-7Q4Z internal relay only", "did not accept the connection setup"),
        ("220 Secret-Banner-7Q4Z ESMTP\r\n500 Secret-Banner-7Q4Z what?", "does not offer STARTTLS"),
    ],
)
def test_test_connection_never_shows_what_the_server_said(
    client, logged_in, banner_server, banner, explanation
):
    """With 127.0.0.1 allowed (the test app's config), "Test connection" reaches the server and
    says what went wrong in its own words."""
    banner_server.banner = banner.encode() + b"\r\n"
    assert (
        client.post(
            "/admin/mail/settings", data=settings_form("127.0.0.1", banner_server.port, security="starttls")
        ).status_code
        == 302
    )
    page = client.post("/admin/mail/settings/test-connection", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and explanation in text
    assert "Secret-Banner" not in text


def test_a_non_smtp_banner_is_not_stored_for_email_activity(client, logged_in, banner_server):
    banner_server.banner = b"SSH-2.0-OpenSSH_9.2p1 Secret-Banner-7Q4Z\r\n"
    client.post("/admin/mail/settings", data=settings_form("127.0.0.1", banner_server.port))
    page = client.post(
        "/admin/mail/settings/test-message", data={"to": "client@example.com"}, follow_redirects=True
    )
    assert "Secret-Banner" not in page.get_data(as_text=True)
    row = db.session.scalar(sa.select(OutboxMessage))
    assert row.last_error == "The server did not answer like an SMTP server."


# ---------------------------------------------------------------- pinned connections


@pytest.mark.no_database
def test_the_connection_goes_to_the_checked_address_without_resolving_again(app, smtp_server, monkeypatch):
    """A name resolved once: a second lookup (where DNS rebinding would strike) fails the test."""
    lookups = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "localhost":
            lookups.append(host)
            if len(lookups) > 1:
                raise AssertionError("localhost was resolved a second time")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    ok, message = check_connection(
        SmtpSettings(host="localhost", port=smtp_server.port, timeout=2, policy=host_policy())
    )
    assert ok, message
    assert lookups == ["localhost"]


def _certificate_for(name, folder):
    """A self-signed certificate for the DNS name ``name`` only (no IP address in it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def named_tls_server(tmp_path):
    """A STARTTLS server on 127.0.0.1 whose certificate names mail.studio.test only."""
    cert, key = _certificate_for("mail.studio.test", tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(
        CollectingHandler(),
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
    )
    controller.start()
    controller.cert = cert
    yield controller
    controller.stop()


@pytest.mark.parametrize(("name", "ok"), [("mail.studio.test", True), ("mail.other.test", False)])
@pytest.mark.no_database
def test_tls_over_a_pinned_connection_verifies_the_host_name(app, named_tls_server, monkeypatch, name, ok):
    """Both names resolve (faked) to 127.0.0.1; the certificate names mail.studio.test and no
    address, so the check passes only if it is made against the name that was typed."""
    from app.mailing import transport

    fake_dns(monkeypatch, {name: ["127.0.0.1"]})
    monkeypatch.setattr(conftest, "LOCAL_HOSTS", conftest.LOCAL_HOSTS | {name})
    monkeypatch.setattr(
        transport,
        "_tls_context",
        lambda settings: ssl.create_default_context(cafile=str(named_tls_server.cert)),
    )
    result, message = check_connection(
        SmtpSettings(
            host=name, port=named_tls_server.port, security="starttls", timeout=2, policy=host_policy()
        )
    )
    assert result is ok, message
    assert ok or "certificate is not trusted" in message
