"""Playwright driving Debian's Chromium against the app served on a free local port."""

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class LiveServer:
    """The app in a thread on its own port, its own instance folder and SQLite database."""

    def __init__(self, app):
        from tests.conftest import free_port

        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app.config["BASE_URL"] = self.url
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(tmp_path, sqlite_template, smtp_server, mail_outbox, app_config):
    """The whole site on a free port, CSRF on, over a fresh copy of the migrated SQLite file."""
    from app.extensions import db
    from tests.conftest import make_test_app

    database = tmp_path / "live.db"
    shutil.copy(sqlite_template, database)
    app = make_test_app(
        f"sqlite:///{database}",
        tmp_path / "instance",
        smtp_server.port,
        WTF_CSRF_ENABLED=True,
        TESTING=False,
        **app_config,
    )
    server = LiveServer(app).start()
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def context(browser, tmp_path):
    """A fresh browser context (cookies, storage) per test; closed afterwards."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="Europe/Paris"
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


def log_in(page, live_server, email, password):
    """Log in through the real form at /login and wait for the admin pages."""
    import re

    page.goto(live_server.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/admin/.*"))
