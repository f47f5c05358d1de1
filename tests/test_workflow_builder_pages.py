"""The workflow builder's pages beyond the basics: the list, the language of template copies,
deleting, assigning, the per-gallery select, preview sources, save-and-preview, images."""

import io
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from PIL import Image

from app.extensions import db
from app.galleries.models import GalleryAccess
from app.workflows import templates as workflow_templates
from app.workflows.models import GalleryWorkflow, Workflow, WorkflowEmail
from tests import factories
from tests.factories import NOW
from tests.shop_factories import make_promotion
from tests.workflow_factories import assign, make_workflow


def _count(model_column):
    return db.session.scalar(sa.select(sa.func.count(model_column)))


# ------------------------------------------------------------------ the list


def test_the_list_has_an_empty_state_and_the_templates(client, logged_in):
    page = client.get("/admin/workflows/").data.decode()
    assert "No workflow yet." in page
    for template in workflow_templates.TEMPLATES.values():
        assert str(template.title) in page and str(template.description) in page
    assert "7 emails" in page  # the school template
    assert "3 days after the sale starts, at 9:00" in page  # what is inside, before copying


def test_the_list_shows_counts_and_the_last_saved_date_in_studio_time(client, logged_in):
    logged_in.studio.timezone = "Asia/Tokyo"
    db.session.commit()
    workflow = make_workflow(
        logged_in.studio, title="Weddings", emails=[dict(trigger="sale_start"), dict(trigger="order")]
    )
    workflow.updated_at = NOW  # 12:00 UTC is 21:00 in Tokyo
    db.session.commit()
    for title in ("A", "B"):
        assign(factories.make_gallery(logged_in.studio, title=title), workflow)
    row = (
        client.get("/admin/workflows/")
        .data.decode()
        .split(f'data-workflow="{workflow.id}"')[1]
        .split("</tr>")[0]
    )
    cells = [cell.split("</td>")[0] for cell in row.split("<td")[1:]]
    assert "Weddings" in cells[0] and cells[1].endswith(">2") and ">2</a>" in cells[2]
    assert "Nov 24, 2026, 9:00\u202fPM" in cells[3]


def test_the_list_renames_in_place(client, logged_in):
    workflow = make_workflow(logged_in.studio, title="Weddings")
    response = client.post(
        f"/admin/workflows/{workflow.id}/rename", data={"title": " Weddings 2027 ", "back": "index"}
    )
    assert response.headers["Location"].endswith("/admin/workflows/")
    assert db.session.get(Workflow, workflow.id).title == "Weddings 2027"


def test_a_blank_rename_is_refused(client, logged_in):
    workflow = make_workflow(logged_in.studio, title="Weddings")
    page = client.post(f"/admin/workflows/{workflow.id}/rename", data={"title": ""}, follow_redirects=True)
    assert b"Please give the workflow a title." in page.data
    assert db.session.get(Workflow, workflow.id).title == "Weddings"


# ------------------------------------------------------------------ duplicate, delete


class LocaleProbe:
    """A template string that shows the locale it is rendered in."""

    def __str__(self):
        from flask_babel import get_locale

        return f"written in {get_locale()}"


def test_a_template_copy_is_written_in_the_studios_language(client, logged_in, monkeypatch):
    logged_in.studio.language = "fr"
    db.session.commit()
    school = workflow_templates.TEMPLATES["school"]
    probe = replace(school, emails=tuple(replace(email, subject=LocaleProbe()) for email in school.emails))
    monkeypatch.setitem(workflow_templates.TEMPLATES, "school", probe)
    client.post("/admin/workflows/templates/school/duplicate", data={"title": "Rentrée"})
    workflow = db.session.scalar(sa.select(Workflow))
    assert [email.subject for email in workflow.emails] == ["written in fr"] * 7


def test_duplicating_a_workflow_copies_every_email_with_its_settings(client, logged_in):
    source = make_workflow(
        logged_in.studio,
        title="Weddings",
        emails=[
            dict(
                trigger="sale_start",
                rule="after",
                days=3,
                send_time="09:30",
                recipient_filter="not_ordered",
                subject="S1",
                body_html="<p><b>B1</b></p>",
            ),
            dict(trigger="order", subject="S2"),
        ],
    )
    client.post(f"/admin/workflows/{source.id}/duplicate", data={"title": "Weddings 2"})
    copy = db.session.scalar(sa.select(Workflow).where(Workflow.title == "Weddings 2"))
    settings = [
        (e.trigger, e.rule, e.days, e.send_time, e.recipient_filter, e.subject, e.body_html)
        for e in copy.emails
    ]
    assert settings == [
        (e.trigger, e.rule, e.days, e.send_time, e.recipient_filter, e.subject, e.body_html)
        for e in source.emails
    ]
    assert {e.id for e in copy.emails}.isdisjoint({e.id for e in source.emails})


def test_deleting_a_workflow_no_gallery_uses(client, logged_in):
    workflow = make_workflow(logged_in.studio, title="Weddings", emails=[dict(trigger="sale_start")])
    confirm = client.get(f"/admin/workflows/{workflow.id}/delete")
    assert b"No gallery uses it." in confirm.data and _count(Workflow.id) == 1
    page = client.post(f"/admin/workflows/{workflow.id}/delete", follow_redirects=True)
    assert "Workflow “Weddings” deleted." in page.data.decode()
    assert _count(Workflow.id) == 0 and _count(WorkflowEmail.id) == 0


def test_deleting_an_email_of_a_workflow(client, logged_in):
    workflow = make_workflow(
        logged_in.studio, emails=[dict(trigger="sale_start", subject="A"), dict(trigger="order", subject="B")]
    )
    client.post(f"/admin/workflows/{workflow.id}/emails/{workflow.emails[0].id}/delete")
    db.session.expire_all()
    assert [email.subject for email in db.session.get(Workflow, workflow.id).emails] == ["B"]


# ------------------------------------------------------------------ editing an email


def test_an_email_is_edited_in_place_and_can_go_straight_to_its_preview(client, logged_in):
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start", subject="Old")])
    email = workflow.emails[0]
    form = client.get(f"/admin/workflows/{workflow.id}/emails/{email.id}").data.decode()
    assert 'value="Old"' in form and "%client_name%" in form  # the variable picker
    response = client.post(
        f"/admin/workflows/{workflow.id}/emails/{email.id}",
        data={
            "trigger": "sale_end",
            "rule": "before",
            "days": "2",
            "send_time": "18:00",
            "recipient_filter": "not_ordered",
            "subject": "Last call",
            "body_html": "<p>Closing on %sale_end_date%</p>",
            "then": "preview",
        },
    )
    assert response.headers["Location"].endswith(f"/emails/{email.id}/preview")
    db.session.expire_all()
    saved = db.session.get(WorkflowEmail, email.id)
    assert (saved.trigger, saved.rule, saved.days, saved.send_time.strftime("%H:%M"), saved.subject) == (
        "sale_end",
        "before",
        2,
        "18:00",
        "Last call",
    )
    assert _count(WorkflowEmail.id) == 1


def test_an_email_of_another_workflow_is_not_found_under_this_one(client, logged_in):
    one = make_workflow(logged_in.studio, title="One", emails=[dict(trigger="sale_start")])
    two = make_workflow(logged_in.studio, title="Two", emails=[dict(trigger="sale_start")])
    assert client.get(f"/admin/workflows/{one.id}/emails/{two.emails[0].id}").status_code == 404


# ------------------------------------------------------------------ assignment


def test_multi_assign_switches_another_workflows_gallery_only_when_ticked(client, logged_in, other_owner):
    workflow = make_workflow(logged_in.studio, title="Mine")
    other = make_workflow(logged_in.studio, title="Other")
    ticked, kept, dropped = (
        factories.make_gallery(logged_in.studio, title=title) for title in ("Ticked", "Kept", "Dropped")
    )
    assign(ticked, other)
    assign(kept, other)
    assign(dropped, workflow)
    theirs = factories.make_gallery(other_owner.studio, title="Theirs")
    page = client.get(f"/admin/workflows/{workflow.id}").data.decode()
    assert page.count('data-testid="uses-other"') == 2 and "uses “Other”" in page
    assert "Theirs" not in page
    done = client.post(
        f"/admin/workflows/{workflow.id}/galleries",
        data={"gallery_ids": [str(ticked.id), str(theirs.id)]},
        follow_redirects=True,
    )
    assert "“Mine” is now used by 1 gallery." in done.data.decode()
    db.session.expire_all()
    using = dict(db.session.execute(sa.select(GalleryWorkflow.gallery_id, GalleryWorkflow.workflow_id)).all())
    assert using == {ticked.id: workflow.id, kept.id: other.id}  # theirs untouched


def test_gallery_select_assigns_an_existing_workflow_or_none(client, logged_in):
    workflow = make_workflow(logged_in.studio, title="Weddings")
    gallery = factories.make_gallery(logged_in.studio)
    page = client.get(f"/admin/workflows/galleries/{gallery.id}").data.decode()
    assert "This gallery sends no workflow emails." in page and "New copy of" in page
    client.post(f"/admin/workflows/galleries/{gallery.id}", data={"workflow": str(workflow.id)})
    assert db.session.get(GalleryWorkflow, gallery.id).workflow_id == workflow.id
    client.post(f"/admin/workflows/galleries/{gallery.id}", data={"workflow": ""})
    db.session.expire_all()
    assert db.session.get(GalleryWorkflow, gallery.id) is None


def test_gallery_select_refuses_another_studios_workflow(client, logged_in, other_owner):
    theirs = make_workflow(other_owner.studio, title="Theirs")
    gallery = factories.make_gallery(logged_in.studio)
    response = client.post(f"/admin/workflows/galleries/{gallery.id}", data={"workflow": str(theirs.id)})
    assert response.status_code == 404 and db.session.get(GalleryWorkflow, gallery.id) is None


def test_the_timeline_shows_subjects_with_the_gallerys_values(client, logged_in, monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    gallery = factories.make_gallery(
        logged_in.studio, title="Riverside", sale_starts_at=NOW + timedelta(days=2)
    )
    workflow = make_workflow(
        logged_in.studio,
        emails=[dict(trigger="sale_start", subject="%gallery_title% is open, %client_name%")],
    )
    assign(gallery, workflow)
    page = client.get(f"/admin/workflows/galleries/{gallery.id}").data.decode()
    assert "<em>Riverside is open, %client_name%</em>" in page
    assert "Nov 26, 2026, 1:00\u202fPM" in page  # 12:00 UTC, shown in Paris time


# ------------------------------------------------------------------ preview sources


def test_preview_of_a_gallery_without_clients_fills_what_the_gallery_knows(client, logged_in):
    workflow = make_workflow(
        logged_in.studio, emails=[dict(trigger="sale_start", subject="%gallery_title% for %client_name%")]
    )
    factories.make_gallery(logged_in.studio, title="Riverside")
    page = client.get(f"/admin/workflows/{workflow.id}/emails/{workflow.emails[0].id}/preview")
    text = page.data.decode()
    assert "Riverside for Alex Martin" in text and "with a sample client" in text


def test_preview_uses_the_gallerys_promotion_and_a_real_sign_in_link(client, logged_in):
    workflow = make_workflow(
        logged_in.studio,
        emails=[
            dict(
                trigger="promotion_expiry",
                subject="%promotion_name% ends, %client_name%",
                body_html='<p><a href="%gallery_link%">Open</a> %order_number%</p>',
            )
        ],
    )
    gallery = factories.make_gallery(logged_in.studio, title="Riverside")
    factories.make_client(logged_in.studio, name="Nina", gallery=gallery)
    make_promotion(gallery, name="Spring sale")
    page = client.get(f"/admin/workflows/{workflow.id}/emails/{workflow.emails[0].id}/preview")
    text = page.data.decode()
    assert "Spring sale ends, Nina" in text
    assert "/signin/" in text  # the client's own private link
    assert "Sample values for: %order_number%." in text  # Nina has not ordered yet


# ------------------------------------------------------------------ images


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10), (0, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_images_are_stored_under_the_studios_folder(client, logged_in, app):
    answer = client.post(
        "/admin/workflows/images",
        data={"image": (io.BytesIO(_png()), "logo.png")},
        content_type="multipart/form-data",
    ).get_json()
    name = answer["url"].rsplit("/", 1)[1]
    stored = Path(app.config["UPLOAD_FOLDER"]) / str(logged_in.studio_id) / "email-images" / name
    assert stored.read_bytes() == _png() and name.endswith(".png") and len(name) > 12


def test_image_upload_without_a_file_or_too_large(client, logged_in, monkeypatch):
    empty = client.post("/admin/workflows/images", data={}, content_type="multipart/form-data")
    assert empty.status_code == 400 and empty.get_json()["error"] == "Choose an image."
    # A small limit: the test client spools big bodies to a file it never closes.
    monkeypatch.setattr("app.workflows.image_routes.MAX_IMAGE_BYTES", 2000)
    huge = client.post(
        "/admin/workflows/images",
        data={"image": (io.BytesIO(_png() + b"\0" * 3000), "x.png")},
        content_type="multipart/form-data",
    )
    assert huge.status_code == 413 and "under 5 MB" in huge.get_json()["error"]


def test_an_unknown_image_name_is_not_found(client, logged_in):
    assert client.get(f"/media/email/{logged_in.studio_id}/nothing.png").status_code == 404
    assert client.get(f"/media/email/{logged_in.studio_id}/..%2F..%2Fconfig.py").status_code == 404


def test_access_needs_a_login(client, owner):
    response = client.get("/admin/workflows/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_preview_greets_the_first_registered_client(client, logged_in):
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="registration")])
    gallery = factories.make_gallery(logged_in.studio, access=GalleryAccess.REGISTRATION)
    factories.make_client(logged_in.studio, name="Rosa", gallery=gallery)
    page = client.get(f"/admin/workflows/{workflow.id}/emails/{workflow.emails[0].id}/preview")
    assert b"Hello Rosa" in page.data


def test_the_timeline_names_emails_that_have_no_moment_yet(client, logged_in, monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    gallery = factories.make_gallery(logged_in.studio, sale_starts_at=NOW + timedelta(days=2))
    workflow = make_workflow(
        logged_in.studio,
        emails=[
            dict(trigger="sale_start", subject="Open"),
            dict(
                trigger="promotion_expiry", rule="before", days=1, send_time="10:00", subject="Promotion ends"
            ),
        ],
    )
    assign(gallery, workflow)
    page = client.get(f"/admin/workflows/galleries/{gallery.id}").data.decode()
    unscheduled = page.split('data-testid="unscheduled"')[1].split("</ul>")[0]
    assert "Promotion ends" in unscheduled and "the gallery has no promotion" in unscheduled
    assert "Open" not in unscheduled
    make_promotion(gallery, name="Early bird")
    page = client.get(f"/admin/workflows/galleries/{gallery.id}").data.decode()
    assert 'data-testid="unscheduled"' not in page and page.count('data-state="upcoming"') == 2


def test_preview_and_test_send_with_a_chosen_gallery(client, logged_in, mail_outbox):
    workflow = make_workflow(
        logged_in.studio, emails=[dict(trigger="sale_start", subject="%gallery_title% for %client_name%")]
    )
    email = workflow.emails[0]
    first = factories.make_gallery(logged_in.studio, title="Alpha")
    factories.make_client(logged_in.studio, email="ann@example.com", name="Ann", gallery=first)
    assign(first, workflow)
    second = factories.make_gallery(logged_in.studio, title="Beta")
    factories.make_client(logged_in.studio, email="bob@example.com", name="Bob", gallery=second)
    url = f"/admin/workflows/{workflow.id}/emails/{email.id}/preview"
    assert b"Alpha for Ann" in client.get(url).data  # the gallery using the workflow first
    chosen = client.get(f"{url}?gallery={second.id}").data.decode()
    assert "Beta for Bob" in chosen and f'<option value="{second.id}" selected>' in chosen
    sent = client.post(
        f"/admin/workflows/{workflow.id}/emails/{email.id}/test",
        data={"to": "me@example.com", "gallery": second.id, "back": "preview"},
    )
    assert sent.headers["Location"].endswith(f"/preview?gallery={second.id}")
    # The chosen gallery's values, a sample client: a test never carries a real client's.
    assert mail_outbox.wait_for(1)[0].subject == "[Test] Beta for Alex Martin"


def test_an_email_is_duplicated_within_its_workflow(client, logged_in):
    workflow = make_workflow(
        logged_in.studio,
        emails=[
            dict(
                trigger="sale_start",
                rule="after",
                days=3,
                send_time="09:00",
                subject="Reminder",
                body_html="<p><strong>Hello</strong> %client_name%</p>",
            )
        ],
    )
    source = workflow.emails[0]
    response = client.post(f"/admin/workflows/{workflow.id}/emails/{source.id}/duplicate")
    db.session.expire_all()
    emails = db.session.get(Workflow, workflow.id).emails
    assert len(emails) == 2 and response.headers["Location"].endswith(f"/emails/{emails[1].id}")
    assert [(e.trigger, e.rule, e.days, e.send_time, e.subject, e.body_html) for e in emails][0] == [
        (e.trigger, e.rule, e.days, e.send_time, e.subject, e.body_html) for e in emails
    ][1]
