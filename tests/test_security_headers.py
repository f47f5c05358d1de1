"""Security headers on every response, and a Content-Security-Policy the pages keep to: no inline
script, no inline event handler (checked in the templates, in rendered pages and in Chromium)."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import url_for

from app.extensions import db
from app.galleries.models import AccessCard, Gallery
from app.security_headers import CONTENT_SECURITY_POLICY
from app.shop.models import Order
from tests.test_tenant_isolation import FIXED_ARGUMENTS, _their_objects

TEMPLATES = Path(__file__).parent.parent / "app" / "templates"

EXPECTED = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def assert_security_headers(response, where):
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, f"{where}: {name} is {response.headers.get(name)!r}"


def test_the_policy_allows_no_inline_or_evaluated_script():
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe" not in directives["script-src"] + directives["default-src"]


# ---------------------------------------------------------------- every GET route


class InlineScriptFinder(HTMLParser):
    """Collects inline scripts (other than JSON data blocks), on* attributes and javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src") and attributes.get("type") != "application/json":
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> at line {self.getpos()[0]}")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:...> at line {self.getpos()[0]}")


def inline_script_in(html):
    finder = InlineScriptFinder()
    finder.feed(html)
    return finder.found


def _values(app, owner):
    """A real value for every URL argument: the owner's own objects, so admin pages render."""
    values = _their_objects(owner.studio)
    gallery = db.session.get(Gallery, values["gallery_id"])
    card = db.session.get(AccessCard, values["card_id"])
    order = db.session.get(Order, values["order_id"])
    values.update(FIXED_ARGUMENTS)
    values.update(
        {
            "studio_slug": owner.studio.slug,
            "gallery_slug": gallery.slug,
            "code": card.code,
            "number": order.number,
            "studio_id": owner.studio.id,
            "name": "missing.png",
            "filename": "css/app.css",
            "token": "not-a-token",
        }
    )
    return values


def _get_paths(app, values):
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if "GET" not in rule.methods:
            continue
        missing = set(rule.arguments) - set(values)
        assert not missing, f"{rule.rule}: teach this test the argument(s) {missing}"
        arguments = {name: values[name] for name in rule.arguments}
        with app.test_request_context():
            yield url_for(rule.endpoint, **arguments)


def test_every_get_route_sends_the_headers_and_no_inline_script(app, client, auth, owner):
    values = _values(app, owner)
    auth.login(owner)
    checked = 0
    for path in _get_paths(app, values):
        response = client.get(path)
        assert response.status_code < 500, f"GET {path} answered {response.status_code}"
        assert_security_headers(response, f"GET {path}")
        assert "Strict-Transport-Security" not in response.headers
        if response.mimetype == "text/html":
            assert inline_script_in(response.get_data(as_text=True)) == [], f"GET {path}"
        response.close()
        checked += 1
    assert checked > 60


def test_public_pages_as_a_visitor(app, client, owner):
    values = _values(app, owner)
    for path in [
        "/",
        "/login",
        "/signup",
        "/forgot-password",
        "/c",
        f"/c/{values['code']}",
        f"/g/{values['studio_slug']}/{values['gallery_slug']}",
        "/static/js/app.js",
        "/no-such-page",
    ]:
        response = client.get(path)
        assert response.status_code < 500, path
        assert_security_headers(response, path)
        response.close()


def test_a_404_a_405_and_a_static_file_carry_the_headers(client):
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert_security_headers(missing, "404")
    wrong_method = client.delete("/login")
    assert wrong_method.status_code == 405
    assert_security_headers(wrong_method, "405")
    script = client.get("/static/js/app.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert_security_headers(script, "static file")
    script.close()


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
@pytest.mark.no_database
def test_a_csrf_failure_400_carries_the_headers(client, app_config):
    response = client.post("/login", data={"email": "a@b.test", "password": "x"})
    assert response.status_code == 400
    assert_security_headers(response, "400")


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "1 per minute"}])
def test_a_rate_limited_429_carries_the_headers(client, app_config):
    statuses = []
    for _ in range(3):
        response = client.post("/login", data={"email": "a@b.test", "password": "x"})
        statuses.append(response.status_code)
    assert statuses[-1] == 429, statuses
    assert_security_headers(response, "429")


@pytest.mark.parametrize("app_config", [{"TESTING": False}])
@pytest.mark.no_database
def test_a_500_carries_the_headers(app, app_config):
    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/broken-for-test", "broken_for_test", broken)
    response = app.test_client().get("/broken-for-test")
    assert response.status_code == 500
    assert_security_headers(response, "500")


@pytest.mark.no_database
def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


@pytest.mark.parametrize("app_config", [{"SESSION_COOKIE_SECURE": True}])
@pytest.mark.no_database
def test_hsts_when_the_session_cookie_is_secure(client, app_config):
    for path in ["/login", "/static/css/app.css", "/no-such-page"]:
        response = client.get(path)
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", path
        response.close()


# ---------------------------------------------------------------- templates

ON_ATTRIBUTE = re.compile(r"""\son[a-z]+\s*=\s*["'{]""", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def _template_problems(text):
    problems = [f"inline handler {match.group(0).strip()!r}" for match in ON_ATTRIBUTE.finditer(text)]
    for match in SCRIPT_TAG.finditer(text):
        attributes = match.group(1)
        if "src=" not in attributes and not re.search(r"""type=["']application/json""", attributes):
            problems.append(f"inline script {match.group(0)!r}")
    if re.search(r"javascript:", text, re.IGNORECASE):
        problems.append("a javascript: URL")
    return problems


def test_no_template_has_inline_script_or_event_handlers():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 50
    problems = {
        str(path.relative_to(TEMPLATES)): found
        for path in templates
        if (found := _template_problems(path.read_text()))
    }
    assert problems == {}


@pytest.mark.parametrize(
    "snippet",
    [
        '<form onsubmit="return confirm(1)">',
        "<button onclick='x()'>",
        "<script>var a;</script>",
        '<a href="javascript:void(0)">',
        '<select ONCHANGE="this.form.submit()">',
    ],
)
def test_the_template_check_catches_inline_script(snippet):
    assert _template_problems(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/js/app.js" defer></script>',
        '<script type="application/json" id="data">{"a": 1}</script>',
        '<form data-confirm="Delete?">',
        "<p>Click once to continue</p>",
    ],
)
def test_the_template_check_allows_script_files_and_data(snippet):
    assert _template_problems(snippet) == []


def test_every_page_layout_loads_the_behaviour_script():
    """Layouts that do not extend base.html must load app.js themselves (data-confirm etc.)."""
    layouts = [
        path
        for path in TEMPLATES.rglob("*.html")
        if "<html" in path.read_text() and not path.is_relative_to(TEMPLATES / "email")
    ]
    assert {str(path.relative_to(TEMPLATES)) for path in layouts} >= {
        "base.html",
        "galleries/cards/print.html",
    }
    for path in layouts:
        assert "js/app.js" in path.read_text(), path


# ---------------------------------------------------------------- in Chromium

BROWSER_EMAIL, BROWSER_PASSWORD = "owner@csp.test", "correct horse battery"
# An image by URL in a campaign email: the editor and the preview (an iframe srcdoc, which
# inherits the page's policy) must be allowed to load it. Port 9 is one Chromium never
# connects to, so nothing leaves the machine.
OUTSIDE_IMAGE = "https://127.0.0.1:9/banner.png"

# Runs in every frame before the page's scripts (CDP, so the policy does not apply to it).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
}, true);
"""


def _browser_data(app):
    """A studio with a gallery, a photo, a client's order and a campaign email with an image."""
    from app.accounts import services as accounts
    from app.workflows.models import Workflow, WorkflowEmail
    from tests import factories
    from tests.factories import NOW
    from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery

    with app.app_context():
        owner = accounts.create_studio(
            name="Policy Studio",
            email=BROWSER_EMAIL,
            password=BROWSER_PASSWORD,
            timezone="Europe/Paris",
            currency="EUR",
            language="en",
            now=NOW,
        )
        db.session.commit()
        gallery = factories.make_gallery(owner.studio, title="Harbour wedding")
        photo = factories.make_photo(gallery, name="first-dance.jpg")
        price_list = make_price_list(owner.studio)
        sell_gallery(gallery, price_list)
        client = factories.make_client(owner.studio, gallery=gallery)
        fill_cart(client, gallery, photo, price_list.products[0])
        order = order_now(owner.studio, client)
        workflow = Workflow(studio_id=owner.studio_id, title="Wedding", created_at=NOW, updated_at=NOW)
        workflow.emails = [
            WorkflowEmail(
                trigger="sale_start",
                rule="instant",
                days=0,
                recipient_filter="all",
                subject="Your photos",
                created_at=NOW,
                updated_at=NOW,
                body_html=f'<p>Hello</p><p><img src="{OUTSIDE_IMAGE}" alt="banner"></p>',
            )
        ]
        db.session.add(workflow)
        db.session.commit()
        return {
            "gallery": gallery.id,
            "order": order.id,
            "workflow": workflow.id,
            "email": workflow.emails[0].id,
        }


class PolicyWatch:
    """Console messages and uncaught errors that tell of a blocked script, style or image."""

    def __init__(self, page):
        self.page = page
        self.problems = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message):
        # An image that cannot be fetched (OUTSIDE_IMAGE) logs "Failed to load resource";
        # a blocked one logs "Refused to ..." with the directive.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.problems.append(f"{self.page.url}: {message.text}")

    def check(self):
        """No problem so far, in the page or any of its frames."""
        for frame in self.page.frames:
            violations = frame.evaluate("window.__violations || []")
            self.problems.extend(f"{frame.url}: {violation}" for violation in violations)
        assert self.problems == []


@pytest.mark.browser
def test_key_pages_run_under_the_policy_and_keep_their_behaviour(live_server, context):
    from playwright.sync_api import expect

    from tests.browser_fixtures import log_in

    ids = _browser_data(live_server.app)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    watch = PolicyWatch(page)
    base = live_server.url

    # Sign-up: the browser's timezone is preselected by the static script.
    page.goto(base + "/signup")
    expect(page.locator("select[name=timezone]")).to_have_value("Europe/Paris")
    watch.check()

    log_in(page, live_server, BROWSER_EMAIL, BROWSER_PASSWORD)

    # The gallery page with the uploader; deleting a photo still asks first.
    page.goto(f"{base}/admin/galleries/{ids['gallery']}")
    expect(page.locator("[data-photo-id]")).to_have_count(1)
    questions = []

    def answer(accept):
        def handle(dialog):
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    page.once("dialog", answer(False))
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator("[data-photo-id]")).to_have_count(1)  # "no" kept it
    page.once("dialog", answer(True))
    page.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("first-dance.jpg deleted")
    expect(page.locator("[data-photo-id]")).to_have_count(0)
    assert questions == ["Delete first-dance.jpg? This cannot be undone."] * 2
    watch.check()

    # The workflow email editor (Quill) shows the email's image; so does the preview frame.
    page.goto(f"{base}/admin/workflows/{ids['workflow']}/emails/{ids['email']}")
    expect(page.locator("#editor .ql-editor")).to_contain_text("Hello")
    expect(page.locator(f'#editor .ql-editor img[src="{OUTSIDE_IMAGE}"]')).to_have_count(1)
    watch.check()
    page.goto(f"{base}/admin/workflows/{ids['workflow']}/emails/{ids['email']}/preview")
    frame = page.frame_locator("[data-testid=preview-frame]")
    expect(frame.locator("body")).to_contain_text("Hello")
    expect(frame.locator(f'img[src="{OUTSIDE_IMAGE}"]')).to_have_count(1)
    watch.check()

    # An order email's wording: the revert button (a submit button) asks before replacing it.
    page.goto(f"{base}/admin/shop/order-emails/shipped")
    page.locator("input[name=subject]").fill("Your order is on its way")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash-success")).to_have_text("Email saved.")
    page.once("dialog", answer(False))
    page.get_by_role("button", name="Revert to the standard wording").click()
    expect(page.locator("input[name=subject]")).to_have_value("Your order is on its way")
    page.once("dialog", answer(True))
    page.get_by_role("button", name="Revert to the standard wording").click()
    expect(page.locator(".flash-success")).to_have_text("The standard wording is back.")
    assert questions[-2:] == ["Replace your wording in English with the standard one?"] * 2
    watch.check()

    # Mail settings: the usual port follows the security mode.
    page.goto(f"{base}/admin/mail/settings")
    page.select_option("select[name=security]", "ssl")
    expect(page.locator("input[name=smtp_port]")).to_have_value("465")
    watch.check()

    # The order page: the reason field shows only for "cancelled".
    page.goto(f"{base}/admin/shop/orders/{ids['order']}")
    reason_field = page.locator("[data-status-form] [data-when-status=cancelled]")
    expect(reason_field).to_be_hidden()
    page.locator("[data-status-form] select[name=status]").select_option("cancelled")
    expect(reason_field).to_be_visible()
    watch.check()

    # The promotion gallery picker goes to the chosen gallery's new promotion.
    page.goto(f"{base}/admin/shop/promotions/")
    page.select_option("#promotion-gallery", label="Harbour wedding")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url(f"**/admin/shop/galleries/{ids['gallery']}/promotions/new")
    watch.check()

    # Email activity: choosing a gallery filters at once (auto-submitted select).
    page.goto(f"{base}/admin/activity/")
    page.select_option("select[name=gallery]", label="Harbour wedding")
    page.wait_for_url(f"**gallery={ids['gallery']}**")
    watch.check()

    # The card sheet (its own layout): the print button prints.
    page.evaluate("window.print = function () { window.__printed = true; }")
    page.goto(f"{base}/admin/galleries/{ids['gallery']}/cards/print")
    page.evaluate("window.print = function () { window.__printed = true; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("window.__printed") is True
    watch.check()
