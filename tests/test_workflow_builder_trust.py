"""The builder sends what the photographer set up (issue 15): each email's consent purpose, the
predefined templates' wording, test sends filled for a sample client whose links lead to a
"this is a test" page, and the editor's warnings about variables that would stay empty."""

import html
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.workflows.models import Purpose, RecipientFilter, Rule, Trigger, Workflow, WorkflowEmail
from app.workflows.services import default_purpose
from app.workflows.templates import TEMPLATES, render_body
from tests import factories
from tests.factories import NOW
from tests.shop_factories import make_promotion
from tests.workflow_factories import assign, make_workflow

TEST_PAGE = "This is a test email: this link works in your clients' emails."


def email_data(**overrides):
    data = {
        "trigger": "sale_start",
        "rule": "after",
        "days": "3",
        "send_time": "09:00",
        "recipient_filter": "not_ordered",
        "purpose": "marketing",
        "subject": "Don't miss your photos",
        "body_html": "<p>Hello %client_name%</p>",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def _purposes():
    return dict(db.session.execute(sa.select(WorkflowEmail.subject, WorkflowEmail.purpose)).all())


@pytest.fixture
def frozen(monkeypatch):
    """The routes' clock at the factories' NOW (their promotions run around it)."""
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)


# ------------------------------------------------------------------ purpose


def test_the_chosen_purpose_is_saved_and_shown(client, logged_in):
    workflow = make_workflow(logged_in.studio)
    client.post(
        f"/admin/workflows/{workflow.id}/emails/new",
        data=email_data(trigger="archive", rule="before", purpose="service", subject="Archived soon"),
    )
    client.post(
        f"/admin/workflows/{workflow.id}/emails/new",
        data=email_data(trigger="archive", rule="before", purpose="marketing", subject="Last offer"),
    )
    purposes = _purposes()
    assert purposes == {"Archived soon": "service", "Last offer": "marketing"}
    page = client.get(f"/admin/workflows/{workflow.id}").data.decode()
    assert "to clients who have not ordered (service email): <em>Archived soon" in page
    assert (
        "to clients who have not ordered (marketing: only those who accepted news and offers): <em>Last offer"
    ) in page
    email = db.session.scalar(sa.select(WorkflowEmail).where(WorkflowEmail.subject == "Archived soon"))
    form = client.get(f"/admin/workflows/{workflow.id}/emails/{email.id}").data.decode()
    assert re.search(
        r'<input checked id="purpose-0" name="purpose" type="radio" '
        r'value="service">',
        form,
    )
    assert "Marketing emails go only to clients who ticked “news and offers”." in form


def test_a_new_email_offers_the_likely_purpose(client, logged_in):
    workflow = make_workflow(logged_in.studio)
    form = client.get(f"/admin/workflows/{workflow.id}/emails/new").data.decode()
    # The form opens on "sale start, instant, all clients": the gallery is ready, a service.
    assert re.search(
        r'<input checked id="purpose-0" name="purpose" type="radio" '
        r'value="service">',
        form,
    )
    assert "sale_start/instant/all" in form.split("data-service-defaults=")[1].split('"')[1]
    client.post(
        f"/admin/workflows/{workflow.id}/emails/new",  # a page without the choice
        data=email_data(purpose=None, subject="Reminder"),
    )
    client.post(
        f"/admin/workflows/{workflow.id}/emails/new",
        data=email_data(purpose=None, trigger="archive", recipient_filter="all", subject="Archive"),
    )
    purposes = _purposes()
    assert purposes == {"Reminder": "marketing", "Archive": "service"}


@pytest.mark.parametrize(
    ("trigger", "rule", "audience", "expected"),
    [
        (Trigger.SALE_START, Rule.INSTANT, RecipientFilter.ALL, Purpose.SERVICE),
        (Trigger.REGISTRATION, Rule.INSTANT, RecipientFilter.ALL, Purpose.SERVICE),
        (Trigger.ARCHIVE, Rule.DAYS_BEFORE, RecipientFilter.ALL, Purpose.SERVICE),
        (Trigger.ARCHIVE, Rule.DAYS_BEFORE, RecipientFilter.NOT_ORDERED, Purpose.MARKETING),
        (Trigger.SALE_START, Rule.DAYS_AFTER, RecipientFilter.ALL, Purpose.MARKETING),
        (Trigger.SALE_END, Rule.DAYS_BEFORE, RecipientFilter.ALL, Purpose.MARKETING),
        (Trigger.PROMOTION_EXPIRY, Rule.DAYS_BEFORE, RecipientFilter.ALL, Purpose.MARKETING),
        (Trigger.CART, Rule.DAYS_AFTER, RecipientFilter.ALL, Purpose.MARKETING),
        (Trigger.ORDER, Rule.DAYS_AFTER, RecipientFilter.ALL, Purpose.MARKETING),
    ],
)
def test_default_purpose(trigger, rule, audience, expected):
    assert default_purpose(trigger, rule, audience) == expected


def test_an_unknown_purpose_gets_a_message(client, logged_in):
    workflow = make_workflow(logged_in.studio)
    response = client.post(f"/admin/workflows/{workflow.id}/emails/new", data=email_data(purpose="spam"))
    assert response.status_code == 422 and "Not a valid choice" in response.data.decode()
    assert db.session.scalar(sa.select(sa.func.count(WorkflowEmail.id))) == 0


def test_copies_keep_the_purpose(client, logged_in):
    source = make_workflow(logged_in.studio, emails=[dict(trigger="archive")])
    source.emails[0].purpose = Purpose.SERVICE
    db.session.commit()
    client.post(f"/admin/workflows/{source.id}/duplicate", data={"title": "Copy"})
    client.post(f"/admin/workflows/{source.id}/emails/{source.emails[0].id}/duplicate")
    db.session.expire_all()
    assert set(db.session.scalars(sa.select(WorkflowEmail.purpose))) == {"service"}
    assert db.session.scalar(sa.select(sa.func.count(WorkflowEmail.id))) == 3


# ------------------------------------------------------------------ templates


def test_templates_mark_every_email_and_copies_keep_it(client, logged_in):
    school = [email.purpose for email in TEMPLATES["school"].emails]
    assert school == ["service", "marketing", "marketing", "marketing", "marketing", "marketing", "service"]
    for template in TEMPLATES.values():  # what a photographer would get by default
        for email in template.emails:
            assert email.purpose == default_purpose(email.trigger, email.rule, email.recipient_filter), (
                email.subject
            )
    client.post("/admin/workflows/templates/portrait/duplicate", data={"title": "Portraits"})
    copied = [email.purpose for email in db.session.scalar(sa.select(Workflow)).emails]
    assert copied == [email.purpose for email in TEMPLATES["portrait"].emails]
    listing = client.get("/admin/workflows/").data.decode()
    assert "When the sale starts, to all clients (service email)" in listing


@pytest.mark.no_database
def test_no_template_thanks_for_an_order_at_once(app):
    for template in TEMPLATES.values():
        for email in template.emails:
            assert not (email.trigger == Trigger.ORDER and email.rule == Rule.INSTANT), (
                template.key,
                str(email.subject),
            )
    school_order = [email for email in TEMPLATES["school"].emails if email.trigger == "order"]
    assert [(email.rule, email.days) for email in school_order] == [("after", 3)]
    with app.test_request_context():
        body = render_body(school_order[0].body_html)
    assert "As long as the sale is open" in body and "%gallery_link%" in body


@pytest.mark.no_database
def test_archive_emails_follow_the_dates_and_promise_no_ordering(app):
    archive = [
        email
        for template in TEMPLATES.values()
        for email in template.emails
        if email.trigger == Trigger.ARCHIVE
    ]
    assert len(archive) == 2
    with app.test_request_context():
        for email in archive:
            body = render_body(email.body_html)
            words = re.sub(r"<[^>]*>", " ", f"{email.subject} {body}").lower()
            assert "archived on %archive_date%" in words
            assert not re.search(r"\b(order|orders|ordering|prints|still|now is the time)\b", words), words
            assert email.purpose == Purpose.SERVICE


# ------------------------------------------------------------------ test sends

LINKS_BODY = (
    "<p>Dear %client_name% (%client_email%) of %gallery_title%: "
    '<a href="%gallery_link%">gallery</a> <a href="%order_link%">orders</a> '
    '<a href="%cart_link%">cart</a> <a href="%unsubscribe_link%">stop</a></p>'
)


def _real_client_setup(studio):
    gallery = factories.make_gallery(studio, title="Riverside")
    nina = factories.make_client(studio, email="nina.duval@example.com", name="Nina Duval", gallery=gallery)
    workflow = make_workflow(
        studio, emails=[dict(trigger="sale_start", subject="Photos for %client_name%", body_html=LINKS_BODY)]
    )
    assign(gallery, workflow)
    return gallery, nina, workflow


def test_a_test_send_uses_a_sample_client_and_test_links(client, logged_in, mail_outbox, app):
    gallery, nina, workflow = _real_client_setup(logged_in.studio)
    email = workflow.emails[0]
    preview = client.get(f"/admin/workflows/{workflow.id}/emails/{email.id}/preview").data
    assert b"Real data: Nina Duval" in preview  # the preview may show a real client
    client.post(
        f"/admin/workflows/{workflow.id}/emails/{email.id}/test", data={"to": "owner-test@example.com"}
    )
    mail = mail_outbox.wait_for(1)[0]
    assert mail.rcpt_tos == ["owner-test@example.com"]
    assert mail.subject == "[Test] Photos for Alex Martin"
    raw = mail.raw.decode("utf-8", "replace")
    for part in (mail.text(), mail.html(), raw):
        assert "Nina" not in part and "nina.duval" not in part
        assert "/signin/" not in part and "/unsubscribe/" not in part
    assert "Dear Alex Martin (alex.martin@example.com) of Riverside" in mail.text()
    links = set(re.findall(r'href="([^"]+)"', mail.html()))
    assert links == {
        f"http://localhost/email-test/{name}"
        for name in ("gallery_link", "order_link", "cart_link", "unsubscribe_link")
    } | {"http://localhost/email-test/unsubscribe_link?page=preferences"}  # the footer's too
    for link in links:
        page = client.get(link.removeprefix("http://localhost"))
        assert page.status_code == 200 and TEST_PAGE in html.unescape(page.data.decode())
    assert "List-Unsubscribe" not in mail.message


@pytest.mark.no_database
def test_the_test_link_page_knows_only_link_variables(client):
    assert client.get("/email-test/gallery_link").status_code == 200  # no login needed
    assert client.get("/email-test/client_name").status_code == 404
    assert client.get("/email-test/nothing").status_code == 404


# ------------------------------------------------------------------ warnings


def test_a_variable_the_trigger_does_not_fill_is_warned_not_refused(client, logged_in):
    workflow = make_workflow(logged_in.studio)
    saved = client.post(
        f"/admin/workflows/{workflow.id}/emails/new",
        data=email_data(body_html="<p>Your order %order_number% and cart %cart_total%</p>"),
        follow_redirects=True,
    )
    page = saved.data.decode()
    assert "Email saved." in page and 'data-testid="email-warnings"' in page
    assert ("%order_number% would be empty in this email: only “After an order” emails fill it.") in page
    assert "%cart_total% would be empty in this email: only “Product added to cart”" in page
    email = db.session.scalar(sa.select(WorkflowEmail))
    fine = client.post(
        f"/admin/workflows/{workflow.id}/emails/{email.id}",
        data=email_data(
            trigger="order",
            rule="after",
            recipient_filter="all",
            body_html="<p>Your order %order_number%</p>",
        ),
        follow_redirects=True,
    )
    assert 'data-testid="email-warnings"' not in fine.data.decode()


def test_promotion_variables_without_a_promotion_are_warned(client, logged_in, frozen):
    workflow = make_workflow(
        logged_in.studio,
        emails=[
            dict(
                trigger="sale_start",
                subject="%promotion_name% for you",
                body_html="<p>%promotion_discount% off</p>",
            )
        ],
    )
    gallery = factories.make_gallery(logged_in.studio)
    assign(gallery, workflow)
    url = f"/admin/workflows/{workflow.id}/emails/{workflow.emails[0].id}"
    warning = "%promotion_name%, %promotion_discount% are filled only while a promotion runs"
    assert warning in client.get(url).data.decode()
    make_promotion(gallery, starts_at=NOW - timedelta(days=9), ends_at=NOW - timedelta(days=2))
    assert warning in client.get(url).data.decode()  # over: it fills nothing any more
    other = factories.make_gallery(logged_in.studio, title="Not using it")
    make_promotion(other)
    assert warning in client.get(url).data.decode()  # another workflow's gallery
    make_promotion(gallery, starts_at=NOW + timedelta(days=3), ends_at=NOW + timedelta(days=9))
    assert 'data-testid="email-warnings"' not in client.get(url).data.decode()  # planned


def test_a_promotion_expiry_email_always_has_its_promotion(client, logged_in, frozen):
    workflow = make_workflow(
        logged_in.studio,
        emails=[
            dict(
                trigger="promotion_expiry",
                rule="before",
                days=1,
                send_time="10:00",
                subject="%promotion_name% ends tomorrow",
            )
        ],
    )
    page = client.get(f"/admin/workflows/{workflow.id}/emails/{workflow.emails[0].id}")
    assert 'data-testid="email-warnings"' not in page.data.decode()
