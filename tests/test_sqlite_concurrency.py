"""SQLite under concurrent writers: requests that may write take the write lock before their
first query (``database.init_app``), so "database is locked" never reaches a visitor.

SQLite only, on purpose: a deferred SQLite transaction that reads, then writes, fails at once
when another writer committed in between; PostgreSQL locks rows and needs none of this (the hook
does nothing there, checked below on both databases).
"""

import http.cookiejar
import shutil
import sqlite3
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app import database
from app.accounts import services as accounts
from app.accounts.models import User
from app.extensions import db
from app.galleries import clients
from app.galleries.models import Gallery, GalleryAccess
from app.shop.models import Cart, CartItem, OrderStatusChange, PriceList
from tests import factories
from tests.browser_fixtures import LiveServer
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery

PASSWORD = "correct horse"
DURATION = 10  # seconds each worker keeps going, at most
MAX_ACTIONS = 150  # per worker, whichever comes first
LOGIN_PAUSE = 0.4  # seconds between two logins of one worker


# ------------------------------------------------------------------ the hook itself


@pytest.mark.parametrize(
    ("method", "endpoint", "writes"),
    [
        ("POST", "accounts.logout", True),
        ("POST", "accounts.login", False),
        ("DELETE", None, True),
        ("GET", "shop.cart", False),
        ("HEAD", "shop.cart", False),
        ("POST", "galleries_admin.upload", False),
        ("POST", "galleries_public.gallery", False),
    ],
)
def test_which_requests_take_the_write_lock(method, endpoint, writes):
    assert database.request_may_write(method, endpoint) is writes


def test_a_writing_request_is_a_writer_on_sqlite_only(app):
    """On SQLite every transaction of a POST begins IMMEDIATE; on PostgreSQL nothing changes."""
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    with app.test_request_context("/logout", method="POST"):
        database._start_writer_request()
        assert database._sqlite_writer.get() is sqlite
        connection = db.session.connection()
        assert bool(connection.info.get(database._WRITER_INFO)) is sqlite
        database.begin_write()  # the routes' own call: a no-op now, not an error
        assert db.session.connection() is connection
        database._end_writer_request()
        assert database._sqlite_writer.get() is False
        # SQLite: the lock is released with the request; PostgreSQL: left to the app context.
        assert db.session().in_transaction() is not sqlite
    with app.test_request_context("/galleries", method="GET"):
        database._start_writer_request()
        assert database._sqlite_writer.get() is False


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_after_a_commit_the_request_writes_as_a_writer_again(app, owner):
    """A route commits, then send_now dispatches: the next transaction must take the lock too."""
    with app.test_request_context("/logout", method="POST"):
        database._start_writer_request()
        db.session.commit()
        db.session.scalar(sa.select(sa.literal(1)))
        assert db.session.connection().info[database._WRITER_INFO] is True
        database._end_writer_request()


@pytest.fixture
def short_busy_timeout(app):
    """Connections of this app wait 0.3 s for a lock instead of 15 s."""

    def shorten(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA busy_timeout=300")

    db.session.remove()
    db.engine.dispose()
    sa.event.listen(db.engine, "connect", shorten)
    yield
    sa.event.remove(db.engine, "connect", shorten)
    db.session.remove()
    db.engine.dispose()


def _hold_write_lock(app):
    path = db.engine.url.database
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_lock_not_granted_in_time_answers_a_friendly_503(app, client, owner, short_busy_timeout):
    login = {"email": "owner@northlight.test", "password": PASSWORD}
    holder = _hold_write_lock(app)
    try:
        response = client.post("/login", data=login)
        answer = client.post("/login", data=login, headers={"Accept": "application/json"})
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "The site is busy, please try again" in response.get_data(as_text=True)
    assert answer.status_code == 503 and "busy" in answer.get_json()["error"]
    # Once the lock is free the same request works, and the login was recorded.
    assert client.post("/login", data=login).status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == login["email"]))
    assert user.last_login_at is not None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_gallery_password_is_checked_without_the_write_lock(app, client, owner, short_busy_timeout):
    """The password form only reads: it works while another writer holds the lock (if it
    wrote, or took the lock, it would answer 503 here)."""
    with app.app_context():
        studio = db.session.scalar(sa.select(User).where(User.email == "owner@northlight.test")).studio
        gallery = factories.make_gallery(
            studio,
            title="Private",
            access=GalleryAccess.PASSWORD,
            password_hash=generate_password_hash("open sesame"),
        )
        url = f"/g/{studio.slug}/{gallery.slug}"
        db.session.remove()
    holder = _hold_write_lock(app)
    try:
        wrong = client.post(url, data={"password": "guess"})
        right = client.post(url, data={"password": "open sesame"})
    finally:
        holder.rollback()
        holder.close()
    assert wrong.status_code == 200 and "This password is not right" in wrong.get_data(as_text=True)
    assert right.status_code == 302


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_other_database_errors_are_not_disguised_as_busy(app, client):
    error = sa.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x"))
    assert not database.is_database_busy(error)
    assert database.is_database_busy(
        sa.exc.OperationalError("UPDATE x", {}, sqlite3.OperationalError("database is locked"))
    )


# ------------------------------------------------------------------ the site under load


@dataclass
class Outcomes:
    """What every worker saw: each action's HTTP status, and the writes that succeeded."""

    statuses: list = field(default_factory=list)  # (action, status, where it redirected)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, action, answer):
        status, location = answer
        # A redirect to the log-in page is no success: the session was lost on the way.
        where = "login" if "/login" in location else "page" if location else ""
        with self.lock:
            self.statuses.append((action, status, where))
        return status == 302 and where == "page"

    def count(self, action):
        """How many ``action``s succeeded (redirected to the page that follows)."""
        return sum(1 for seen in self.statuses if seen == (action, 302, "page"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is the answer we check, not a page to follow


class Visitor:
    """One browser: its own cookies, talking to 127.0.0.1 only (no proxy)."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),
            _NoRedirect,
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        )

    def call(self, path, data=None):
        """POST ``data`` (or GET) ``path``: (status, the redirect's location or "")."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base_url + path, data=body, timeout=60) as response:
                response.read()
                return response.status, ""
        except urllib.error.HTTPError as error:
            error.read()
            return error.code, error.headers.get("Location", "")


@dataclass
class Site:
    server: LiveServer
    studio_slug: str
    shop_gallery_id: int
    photo_ids: list
    product_ids: list
    edited_gallery_id: int
    edited_price_list_id: int
    order_ids: list
    editor_emails: list  # staff who edit (never logged out by the others)
    login_emails: list  # staff who only log in, again and again
    client_links: list  # (client id, private sign-in path)
    initial_changes: int  # status history rows before the test (placing an order makes one)


@pytest.fixture
def site(tmp_path, sqlite_template, smtp_server, mail_outbox):
    """A threaded werkzeug server on 127.0.0.1 over a fresh SQLite file, with a studio, two
    staff, a gallery selling two photos, clients and orders."""
    from tests.conftest import make_test_app

    path = tmp_path / "concurrency.db"
    shutil.copy(sqlite_template, path)
    app = make_test_app(
        f"sqlite:///{path}", tmp_path / "instance", smtp_server.port, TESTING=False
    )  # errors answer 500 as in production
    server = LiveServer(app)
    with app.app_context():
        built = _populate(server)
        db.session.remove()  # the test holds no transaction while the workers run
    server.start()
    yield built
    server.stop()
    with app.app_context():
        db.engine.dispose()


def _populate(server):
    now = datetime.now(UTC)
    dates = dict(
        sale_starts_at=now - timedelta(days=1),
        sale_ends_at=now + timedelta(days=30),
        archives_at=now + timedelta(days=60),
    )
    owner = factories.make_owner(password=PASSWORD)
    studio = owner.studio
    operators = [f"operator{index}@northlight.test" for index in range(3)]
    for email in operators:
        invitation = accounts.invite_operator(studio, email, owner, now)
        accounts.accept_invitation(invitation, "Olga Operator", PASSWORD, now)
    db.session.commit()
    shop_gallery = factories.make_gallery(studio, title="School 2026", **dates)
    edited = factories.make_gallery(studio, title="Smith wedding", **dates)
    selling = make_price_list(studio)
    sell_gallery(shop_gallery, selling)
    edited_list = make_price_list(studio, name="Weddings")
    photos = [factories.make_photo(shop_gallery, position=i) for i in range(2)]
    orders = []
    for index in range(12):
        buyer = factories.make_client(
            studio, email=f"buyer{index}@example.com", gallery=shop_gallery, registered_at=now
        )
        fill_cart(buyer, shop_gallery, photos[0], selling.products[0], now=now)
        orders.append(order_now(studio, buyer, now=now).id)
    links = []
    for index in range(3):
        shopper = factories.make_client(
            studio, email=f"shopper{index}@example.com", gallery=shop_gallery, registered_at=now
        )
        url = urllib.parse.urlsplit(clients.sign_in_url(shopper, shop_gallery))
        links.append((shopper.id, f"{url.path}?{url.query}"))
    return Site(
        server,
        studio.slug,
        shop_gallery.id,
        [photo.id for photo in photos],
        [product.id for product in selling.products],
        edited.id,
        edited_list.id,
        orders,
        [owner.email, operators[0]],
        operators[1:],
        links,
        db.session.scalar(sa.select(sa.func.count()).select_from(OrderStatusChange)),
    )


def _until_done():
    """Yield action numbers until the time or the count limit is reached."""
    deadline = time.monotonic() + DURATION
    for number in range(MAX_ACTIONS):
        if time.monotonic() >= deadline:
            return
        yield number


def _staff(site, email, outcomes):
    visitor = Visitor(site.server.url)
    outcomes.add("login", visitor.call("/login", {"email": email, "password": PASSWORD}))
    return visitor


def _cart_adds(site, sign_in_path, outcomes):
    visitor = Visitor(site.server.url)
    outcomes.add("sign-in", visitor.call(sign_in_path))
    combinations = [(photo, product) for photo in site.photo_ids for product in site.product_ids]
    for number in _until_done():
        photo, product = combinations[number % len(combinations)]
        outcomes.add(
            "cart-add",
            visitor.call(
                f"/s/{site.studio_slug}/cart/add",
                {"gallery_id": site.shop_gallery_id, "photo_id": photo, "product_id": product, "quantity": 1},
            ),
        )


def _logins(site, email, outcomes, last_login):
    """Log in again and again, each time from a new browser (a logged-in one is just sent on).

    With a pause: a login holds the write lock through its password check (0.1 s), so two
    threads logging in back to back would keep it held all the time, which no site sees.
    """
    for _number in _until_done():
        started = datetime.now(UTC)
        if outcomes.add(
            "login", Visitor(site.server.url).call("/login", {"email": email, "password": PASSWORD})
        ):
            last_login[email] = started
        time.sleep(LOGIN_PAUSE)


def _gallery_edits(site, outcomes, last):
    visitor = _staff(site, site.editor_emails[0], outcomes)
    for number in _until_done():
        description = f"Edit number {number}"
        answer = visitor.call(
            f"/admin/galleries/{site.edited_gallery_id}/edit",
            {
                "title": "Smith wedding",
                "slug": "smith-wedding",
                "description": description,
                "shoot_date": "2026-06-13",
                "sale_starts_at": "2026-06-20T09:00",
                "sale_ends_at": "2027-07-20T18:00",
                "archives_at": "2027-09-01T00:00",
                "status": "published",
                "access": "public",
                "password": "",
            },
        )
        if outcomes.add("gallery-edit", answer):
            last["gallery"] = description


def _price_list_edits(site, outcomes, last):
    visitor = _staff(site, site.editor_emails[1], outcomes)
    for number in _until_done():
        name = f"Weddings {number}"
        answer = visitor.call(
            f"/admin/shop/price-lists/{site.edited_price_list_id}/edit",
            {"name": name, "shipping": "6.90", "allows_pickup": "y", "pickup_instructions": ""},
        )
        if outcomes.add("price-list-edit", answer):
            last["price list"] = name


def _status_changes(site, outcomes):
    """Each order: paid, then delivered (each change emails the client after the commit)."""
    visitor = _staff(site, site.editor_emails[0], outcomes)
    steps = [(order, status) for order in site.order_ids for status in ("paid", "delivered")]
    for number in _until_done():
        if number >= len(steps):
            return
        order, status = steps[number]
        outcomes.add("status-change", visitor.call(f"/admin/shop/orders/{order}/status", {"status": status}))


def test_concurrent_cart_adds_logins_and_edits_never_fail(site):
    outcomes, last_login, last = Outcomes(), {}, {}
    workers = [
        *(
            threading.Thread(target=_cart_adds, args=(site, link, outcomes))
            for _client_id, link in site.client_links
        ),
        *(
            threading.Thread(target=_logins, args=(site, email, outcomes, last_login))
            for email in site.login_emails
        ),
        threading.Thread(target=_gallery_edits, args=(site, outcomes, last)),
        threading.Thread(target=_price_list_edits, args=(site, outcomes, last)),
        threading.Thread(target=_status_changes, args=(site, outcomes)),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=DURATION + 120)
    assert not any(worker.is_alive() for worker in workers)

    seen = Counter(outcomes.statuses)
    assert not [entry for entry in seen if entry[1] >= 500], seen
    # Every answer was the success redirect: no write was refused or lost on the way.
    assert {(status, where) for _action, status, where in seen} == {(302, "page")}, seen
    for action, at_least in (
        ("cart-add", 10),
        ("login", 10),
        ("gallery-edit", 3),
        ("price-list-edit", 3),
        ("status-change", 3),
    ):
        assert outcomes.count(action) >= at_least, seen
    _assert_every_write_landed(site, outcomes, last_login, last)


def _assert_every_write_landed(site, outcomes, last_login, last):
    with site.server.app.app_context():
        added = db.session.scalar(
            sa.select(sa.func.sum(CartItem.quantity))
            .join(Cart)
            .where(Cart.client_id.in_([client_id for client_id, _link in site.client_links]))
        )
        assert added == outcomes.count("cart-add")
        changes = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OrderStatusChange)
            .where(OrderStatusChange.order_id.in_(site.order_ids))
        )
        assert changes - site.initial_changes == outcomes.count("status-change")
        assert db.session.get(Gallery, site.edited_gallery_id).description == last["gallery"]
        assert db.session.get(PriceList, site.edited_price_list_id).name == last["price list"]
        for email, started in last_login.items():
            user = db.session.scalar(sa.select(User).where(User.email == email))
            assert user.last_login_at >= started
