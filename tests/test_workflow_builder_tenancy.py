"""Every route of the workflow builder, given another studio's ids, answers 404 and changes
nothing; lists and pickers never show another studio's rows."""

import pytest
import sqlalchemy as sa
from flask import url_for

from app.extensions import db
from app.mailing.models import OutboxMessage
from app.workflows.models import GalleryWorkflow, Workflow, WorkflowEmail, WorkflowEmailTranslation
from tests import factories
from tests.workflow_factories import assign, make_workflow

# (endpoint, method): every workflow-builder rule that takes an id, on every method it accepts.
ROUTES = [
    ("workflows.workflow", "GET"),
    ("workflows.rename", "POST"),
    ("workflows.duplicate", "POST"),
    ("workflows.delete", "GET"),
    ("workflows.delete", "POST"),
    ("workflows.assign", "POST"),
    ("workflows.new_email", "GET"),
    ("workflows.new_email", "POST"),
    ("workflows.edit_email", "GET"),
    ("workflows.edit_email", "POST"),
    ("workflows.duplicate_email", "POST"),
    ("workflows.delete_email", "POST"),
    ("workflows.preview", "GET"),
    ("workflows.test_send", "POST"),
    ("workflows.gallery", "GET"),
    ("workflows.gallery", "POST"),
    ("workflows.send_missed_now", "POST"),
    ("workflows.revert_translation", "POST"),
]
# Arguments that are not ids of a studio's rows.
NOT_IDS = {"key", "language"}


def _theirs(studio):
    gallery = factories.make_gallery(studio, title="Their gallery")
    factories.make_client(studio, email="their.client@example.com", gallery=gallery)
    workflow = make_workflow(
        studio, title="Their workflow", emails=[dict(trigger="sale_start", subject="Their subject")]
    )
    assign(gallery, workflow)
    db.session.add(
        WorkflowEmailTranslation(
            email_id=workflow.emails[0].id,
            language="sv",
            subject="Deras ämne",
            body_html="<p>Deras</p>",
            updated_at=factories.NOW,
        )
    )
    db.session.commit()
    return {
        "workflow_id": workflow.id,
        "email_id": workflow.emails[0].id,
        "gallery_id": gallery.id,
        "language": "sv",
    }


def _snapshot():
    return (
        db.session.execute(
            sa.select(Workflow.id, Workflow.title, Workflow.updated_at).order_by(Workflow.id)
        ).all(),
        db.session.execute(
            sa.select(WorkflowEmail.id, WorkflowEmail.subject).order_by(WorkflowEmail.id)
        ).all(),
        db.session.execute(
            sa.select(GalleryWorkflow.gallery_id, GalleryWorkflow.workflow_id).order_by(
                GalleryWorkflow.gallery_id
            )
        ).all(),
        db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))),
        db.session.execute(
            sa.select(WorkflowEmailTranslation.email_id, WorkflowEmailTranslation.language)
        ).all(),
    )


@pytest.mark.no_database
def test_the_list_of_routes_is_complete(app):
    rules = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("workflows.") and set(rule.arguments) - NOT_IDS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert rules == set(ROUTES)


@pytest.mark.parametrize(("endpoint", "method"), ROUTES)
def test_another_studios_ids_answer_404(app, client, auth, owner, other_owner, endpoint, method):
    theirs = _theirs(other_owner.studio)
    mine = make_workflow(owner.studio, title="Mine")  # a real workflow of mine, for mixed URLs
    auth.login(owner)
    before = _snapshot()
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    data = {
        "title": "Stolen",
        "to": "me@example.com",
        "gallery_ids": [str(theirs["gallery_id"])],
        "workflow": str(mine.id),
        "email_id": str(theirs["email_id"]),
        "kind": "gallery",
        "occurrence_id": str(theirs["gallery_id"]),
        "trigger": "sale_start",
        "rule": "instant",
        "days": "0",
        "recipient_filter": "all",
        "subject": "Stolen",
        "body_html": "<p>Stolen</p>",
    }
    with app.test_request_context():
        path = url_for(endpoint, **{name: theirs[name] for name in rule.arguments})
    response = client.open(path, method=method, data=data)
    assert response.status_code == 404, f"{method} {path}"
    if "email_id" in rule.arguments:  # their email under my workflow: still not found
        with app.test_request_context():
            mixed = url_for(
                endpoint,
                workflow_id=mine.id,
                email_id=theirs["email_id"],
                **{name: theirs[name] for name in rule.arguments & NOT_IDS},
            )
        assert client.open(mixed, method=method, data=data).status_code == 404
    db.session.expire_all()
    assert _snapshot() == before


def test_lists_and_pickers_show_only_the_studios_own_rows(client, auth, owner, other_owner):
    _theirs(other_owner.studio)
    mine = make_workflow(owner.studio, title="Mine")
    my_gallery = factories.make_gallery(owner.studio, title="My gallery")
    auth.login(owner)
    pages = [
        client.get("/admin/workflows/").data,
        client.get(f"/admin/workflows/{mine.id}").data,
        client.get(f"/admin/workflows/galleries/{my_gallery.id}").data,
    ]
    for page in pages:
        assert b"Their workflow" not in page and b"Their gallery" not in page
        assert b"their.client@example.com" not in page


def test_preview_never_uses_another_studios_client(client, auth, owner, other_owner):
    _theirs(other_owner.studio)
    mine = make_workflow(owner.studio, emails=[dict(trigger="sale_start", subject="Hi %client_name%")])
    auth.login(owner)
    page = client.get(f"/admin/workflows/{mine.id}/emails/{mine.emails[0].id}/preview").data
    assert b"Their gallery" not in page and b"Hi Alex Martin" in page


def test_another_studios_gallery_cannot_fill_a_preview_or_a_test(client, auth, owner, other_owner):
    theirs = _theirs(other_owner.studio)
    mine = make_workflow(owner.studio, emails=[dict(trigger="sale_start")])
    auth.login(owner)
    base = f"/admin/workflows/{mine.id}/emails/{mine.emails[0].id}"
    assert client.get(f"{base}/preview?gallery={theirs['gallery_id']}").status_code == 404
    sent = client.post(f"{base}/test", data={"to": "me@example.com", "gallery": theirs["gallery_id"]})
    assert sent.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0
