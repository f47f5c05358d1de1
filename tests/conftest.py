"""Shared fixtures: the app on SQLite and on a real PostgreSQL server, a real SMTP server that
collects messages, a guard against reaching any other mail server, a live server and Chromium."""

import shutil
import smtplib
import socket
import threading
import time
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from app import create_app
from app.extensions import db
from tests import factories
from tests.postgres import PostgresCluster, find_postgres_bin

pytest_plugins = ["tests.browser_fixtures", "tests.secure_smtp", "tests.dns_server"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- mail


class CollectingHandler:
    """aiosmtpd handler keeping every message received, parsed, with its envelope."""

    def __init__(self):
        self.messages = []
        self._condition = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self._condition:
            self.messages.append(
                SimpleMail(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    parsed,
                    envelope.original_content or envelope.content,
                )
            )
            self._condition.notify_all()
        return "250 OK"

    def wait_for(self, count, timeout=10):
        """Wait until at least ``count`` messages arrived; return them."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
                self._condition.wait(remaining)
            return list(self.messages)


class SimpleMail:
    def __init__(self, mail_from, rcpt_tos, message, raw):
        self.mail_from, self.rcpt_tos, self.message, self.raw = mail_from, rcpt_tos, message, raw

    @property
    def subject(self):
        return self.message["Subject"]

    @property
    def to(self):
        return self.message["To"]

    def text(self):
        return self.message.get_body(preferencelist=("plain",)).get_content()

    def html(self):
        return self.message.get_body(preferencelist=("html",)).get_content()


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on a free local port for the whole test session."""
    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.collector = handler
    yield controller
    controller.stop()


@pytest.fixture
def mail_outbox(smtp_server):
    """The messages the SMTP server receives during this test (``.messages``, ``.wait_for``)."""
    smtp_server.collector.messages.clear()
    return smtp_server.collector


LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(autouse=True)
def refuse_remote_mail_servers(monkeypatch):
    """Fail any test that would reach a mail server that is not on this machine."""
    original_connect = smtplib.SMTP.connect

    def guarded_connect(self, host="localhost", port=0, source_address=None):
        if host not in LOCAL_HOSTS:
            raise AssertionError(f"test tried to reach a non-local mail server: {host}:{port}")
        return original_connect(self, host, port, source_address)

    monkeypatch.setattr(smtplib.SMTP, "connect", guarded_connect)


# ---------------------------------------------------------------- databases


def _upgrade(database_url, instance_path):
    from flask_migrate import upgrade

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test"}, instance_path=str(instance_path)
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite file upgraded by the migrations once; each test gets a copy."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.db"
    _upgrade(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """A throw-away PostgreSQL cluster for this test session (Debian's postgresql package)."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql): PostgreSQL variants skipped")
    cluster = PostgresCluster(bin_dir, free_port())
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server):
    """A database upgraded by the migrations once; each test gets a copy (CREATE ... TEMPLATE)."""
    postgres_server.create_database("proofsheet_template")
    url = postgres_server.url("proofsheet_template")
    _upgrade(url, postgres_server.folder)
    return "proofsheet_template"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "no_database: the test needs an app but no table: it runs once, on an empty "
        "SQLite file (a query fails with 'no such table'), not also on PostgreSQL",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc):
    # A parametrize mark on the test overrides the database_url fixture's two params.
    if metafunc.definition.get_closest_marker("no_database") and "database_url" in metafunc.fixturenames:
        metafunc.definition.add_marker(pytest.mark.parametrize("database_url", ["sqlite"], indirect=True))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Every database test runs on SQLite and on PostgreSQL; a ``no_database`` test runs once,
    on a SQLite file without tables."""
    if request.node.get_closest_marker("no_database"):
        yield f"sqlite:///{tmp_path / 'no-tables.db'}"
        return
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    server = request.getfixturevalue("postgres_server")
    name = f"test_{uuid.uuid4().hex[:12]}"
    server.create_database(name, template=template)
    yield server.url(name)
    server.drop_database(name)


def make_test_app(database_url, instance_path, smtp_port, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_port,
        "MAIL_SUPPRESS_SEND": False,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
        "SMTP_ALLOW_PRIVATE_HOSTS": ["127.0.0.1"],  # local test servers stand in for studios'
    }
    config.update(overrides)
    # Tests process photos when they say so; a browser's site (TESTING off) as a real one does.
    config.setdefault("PHOTO_PROCESSING_IN_WEB", not config["TESTING"])
    return create_app(config, instance_path=str(instance_path))


@pytest.fixture
def app_config():
    """Override this (or parametrize it indirectly) to change the test app's configuration."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, smtp_server, app_config):
    app = make_test_app(database_url, tmp_path / "instance", smtp_server.port, **app_config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---------------------------------------------------------------- people


@pytest.fixture
def owner(app):
    """The owner of a studio ("Northlight Studio", Europe/Paris, EUR)."""
    return factories.make_owner(name="Northlight Studio", email="owner@northlight.test")


@pytest.fixture
def other_owner(app):
    """The owner of a second studio, for tenant isolation tests."""
    return factories.make_owner(
        name="Other Studio", email="owner@other.test", timezone="America/New_York", currency="USD"
    )


@pytest.fixture
def auth(client):
    """Log staff in and out of the test client."""
    return factories.Auth(client)


@pytest.fixture
def logged_in(auth, owner):
    auth.login(owner)
    return owner


def pytest_collection_modifyitems(items):
    # Browser journeys are the slowest: start them first so xdist spreads them over workers.
    items.sort(key=lambda item: 0 if item.get_closest_marker("browser") else 1)


__all__ = ["free_port", "make_test_app", "Path"]
