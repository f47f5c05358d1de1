"""The workflow builder over HTTP: templates, duplicate, rename, delete, emails and their rules,
preview, test send, images, gallery assignment and timeline."""

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.galleries.models import GalleryAccess
from app.mailing.models import MailKind, OutboxMessage
from app.workflows.models import GalleryWorkflow, Workflow, WorkflowEmail
from app.workflows.templates import TEMPLATES
from tests import factories
from tests.factories import NOW
from tests.workflow_factories import assign, make_workflow


def email_data(**overrides):
    data = {
        "trigger": "sale_start",
        "rule": "after",
        "days": "3",
        "send_time": "09:00",
        "recipient_filter": "not_ordered",
        "subject": "Don't miss your photos",
        "body_html": '<p>Hello %client_name%, see <a href="%gallery_link%">them</a>.</p>',
    }
    data.update(overrides)
    return data


def test_duplicate_a_template_copies_every_email(client, logged_in):
    response = client.post(
        "/admin/workflows/templates/school/duplicate", data={"title": "Spring 2027 school"}
    )
    workflow = db.session.scalar(sa.select(Workflow))
    assert response.status_code == 302 and workflow.title == "Spring 2027 school"
    assert len(workflow.emails) == len(TEMPLATES["school"].emails) == 7
    page = client.get(f"/admin/workflows/{workflow.id}").data.decode()
    assert "3 days after the sale starts, at 9:00" in page
    assert "to clients who have not ordered" in page and "<em>Don" in page


def test_add_rename_duplicate_and_delete(client, logged_in):
    client.post("/admin/workflows/new", data={"title": "Weddings"})
    workflow = db.session.scalar(sa.select(Workflow))
    client.post(f"/admin/workflows/{workflow.id}/emails/new", data=email_data())
    client.post(f"/admin/workflows/{workflow.id}/rename", data={"title": "Weddings 2027"})
    client.post(f"/admin/workflows/{workflow.id}/duplicate", data={"title": "Weddings copy"})
    titles = sorted(db.session.scalars(sa.select(Workflow.title)))
    assert titles == ["Weddings 2027", "Weddings copy"]
    copy = db.session.scalar(sa.select(Workflow).where(Workflow.title == "Weddings copy"))
    assert len(copy.emails) == 1
    gallery = factories.make_gallery(logged_in.studio, title="Smith wedding")
    assign(gallery, copy)
    confirm = client.get(f"/admin/workflows/{copy.id}/delete")
    assert b"Smith wedding" in confirm.data  # says which galleries use it
    assert db.session.get(GalleryWorkflow, gallery.id) is not None  # nothing changed yet
    client.post(f"/admin/workflows/{copy.id}/delete")
    db.session.expire_all()
    assert db.session.get(GalleryWorkflow, gallery.id) is None
    assert db.session.scalar(sa.select(sa.func.count(Workflow.id))) == 1


def test_blank_title_is_refused(client, logged_in):
    page = client.post("/admin/workflows/new", data={"title": "  "}, follow_redirects=True)
    assert b"Please give the workflow a title." in page.data
    assert db.session.scalar(sa.select(sa.func.count(Workflow.id))) == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(trigger="registration", rule="before"), "“Days before” only works with a date"),
        (dict(days="366"), "Days must be between 0 and 365."),
        (dict(days="-1"), "Days must be between 0 and 365."),
        (dict(send_time=""), "Choose the time of day to send this email."),
        (dict(trigger="order", recipient_filter="not_ordered"), "An email sent after an order"),
        (dict(subject=""), "Please write a subject."),
        (dict(subject="Hi\r\nBcc: x@y.z"), "The subject must be on one line."),
        (dict(body_html="<p>Hi %first_name%</p>"), "Unknown variable: %first_name%."),
        (dict(subject="Hi %nickname%"), "Unknown variable: %nickname%."),
        (dict(body_html=""), "Please write the message."),
    ],
)
def test_every_email_rule_has_a_clear_message(client, logged_in, overrides, message):
    workflow = make_workflow(logged_in.studio)
    response = client.post(f"/admin/workflows/{workflow.id}/emails/new", data=email_data(**overrides))
    assert response.status_code == 422 and message in response.data.decode()
    assert db.session.scalar(sa.select(sa.func.count(WorkflowEmail.id))) == 0


def test_instant_emails_need_no_send_time_and_bodies_are_sanitized(client, logged_in):
    workflow = make_workflow(logged_in.studio)
    client.post(
        f"/admin/workflows/{workflow.id}/emails/new",
        data=email_data(
            rule="instant",
            send_time="",
            days="",
            body_html='<p onclick="x()">Hi<script>alert(1)</script></p>',
        ),
    )
    email = db.session.scalar(sa.select(WorkflowEmail))
    assert (email.rule, email.days, email.send_time) == ("instant", 0, None)
    assert "onclick" not in email.body_html and "<script" not in email.body_html


def test_preview_uses_a_real_client_when_there_is_one(client, logged_in):
    workflow = make_workflow(
        logged_in.studio,
        emails=[dict(trigger="sale_start", subject="Photos of %gallery_title% for %client_name%")],
    )
    email = workflow.emails[0]
    sample = client.get(f"/admin/workflows/{workflow.id}/emails/{email.id}/preview").data
    assert b"for Alex Martin" in sample and b"Sample values: create a gallery" in sample
    gallery = factories.make_gallery(logged_in.studio, title="Riverside")
    factories.make_client(logged_in.studio, email="nina@example.com", name="Nina", gallery=gallery)
    assign(gallery, workflow)
    real = client.get(f"/admin/workflows/{workflow.id}/emails/{email.id}/preview").data
    assert b"Photos of Riverside for Nina" in real and b"Real data: Nina" in real


def test_send_test_email_goes_through_the_outbox_marked_test(client, logged_in, mail_outbox):
    workflow = make_workflow(
        logged_in.studio,
        emails=[
            dict(
                trigger="sale_start",
                subject="Hello %client_name%",
                body_html="<p>Dear %client_name% of %studio_name%</p>",
            )
        ],
    )
    email = workflow.emails[0]
    client.post(f"/admin/workflows/{workflow.id}/emails/{email.id}/test", data={"to": "me@example.com"})
    mail = mail_outbox.wait_for(1)[0]
    assert mail.subject == "[Test] Hello Alex Martin" and mail.rcpt_tos == ["me@example.com"]
    assert "Dear Alex Martin of Northlight Studio" in mail.text()
    row = db.session.scalar(sa.select(OutboxMessage))
    assert row.kind == MailKind.TEST and row.state == "sent"
    bad = client.post(
        f"/admin/workflows/{workflow.id}/emails/{email.id}/test", data={"to": "nobody"}, follow_redirects=True
    )
    assert b"An email address must have an @-sign." in bad.data


def _image_bytes(kind="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buffer, kind)
    return buffer.getvalue()


def test_images_for_messages_are_checked_and_served_publicly(client, logged_in, app):
    ok = client.post(
        "/admin/workflows/images",
        data={"image": (io.BytesIO(_image_bytes()), "logo.png")},
        content_type="multipart/form-data",
    )
    url = ok.get_json()["url"]
    assert ok.status_code == 200 and "/media/email/" in url
    served = app.test_client().get("/" + url.split("/", 3)[3])
    assert served.status_code == 200 and served.data == _image_bytes()
    served.close()
    bad = client.post(
        "/admin/workflows/images",
        data={"image": (io.BytesIO(b"<svg onload=alert(1)>"), "x.png")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "not an image" in bad.get_json()["error"]


def test_assign_to_several_galleries_at_once(client, logged_in):
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    other = make_workflow(logged_in.studio, title="Other")
    galleries = [factories.make_gallery(logged_in.studio, title=f"G{i}") for i in range(3)]
    assign(galleries[2], other)
    client.post(
        f"/admin/workflows/{workflow.id}/galleries",
        data={"gallery_ids": [str(galleries[0].id), str(galleries[2].id)]},
    )
    db.session.expire_all()
    using = {row.gallery_id: row.workflow_id for row in db.session.scalars(sa.select(GalleryWorkflow))}
    assert using == {galleries[0].id: workflow.id, galleries[2].id: workflow.id}


def test_gallery_page_assigns_a_template_copy_and_shows_the_timeline(client, logged_in, monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    gallery = factories.make_gallery(
        logged_in.studio,
        title="Riverside",
        access=GalleryAccess.REGISTRATION,
        sale_starts_at=NOW + timedelta(days=2),
    )
    factories.make_client(logged_in.studio, gallery=gallery)
    page = client.post(
        f"/admin/workflows/galleries/{gallery.id}",
        data={"workflow": "template:school"},
        follow_redirects=True,
    )
    assert b"This gallery now uses" in page.data
    workflow = db.session.scalar(sa.select(Workflow))
    assert workflow.title == "School photography" and len(workflow.emails) == 7
    assert page.data.count(b'data-state="upcoming"') >= 3
    # The timeline reads subjects as the gallery's clients will: the title filled in.
    assert b"The photos of Riverside are online" in page.data
    assert b"%gallery_title%" not in page.data


def test_missed_email_can_be_sent_from_the_gallery_page(client, logged_in, monkeypatch, mail_outbox):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    gallery = factories.make_gallery(logged_in.studio, sale_starts_at=NOW - timedelta(days=3))
    factories.make_client(logged_in.studio, gallery=gallery)
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start", subject="We are open")])
    assign(gallery, workflow)
    page = client.get(f"/admin/workflows/galleries/{gallery.id}").data
    assert b'data-state="missed"' in page and b"Send now" in page
    client.post(
        f"/admin/workflows/galleries/{gallery.id}/missed",
        data={"email_id": workflow.emails[0].id, "kind": "gallery", "occurrence_id": gallery.id},
    )
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
    again = client.post(
        f"/admin/workflows/galleries/{gallery.id}/missed",
        data={"email_id": workflow.emails[0].id, "kind": "gallery", "occurrence_id": gallery.id},
        follow_redirects=True,
    )
    assert b"not waiting to be sent" in again.data
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
