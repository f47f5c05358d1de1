"""The client page (issue 15, "per client"): what a client received, is waiting for, will get
(with what may still stop it) and what was not sent, with why; scoped to the studio."""

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.mailing.models import MailKind, MailState
from app.mailing.outbox import queue_message
from app.workflows.models import (
    CampaignOccurrence,
    GalleryWorkflow,
    OccurrenceKind,
    Purpose,
    RecipientFilter,
    Rule,
    Workflow,
    WorkflowEmail,
)
from tests import factories
from tests.factories import NOW


def _workflow(studio, gallery, **email):
    workflow = Workflow(studio_id=studio.id, title="School", created_at=NOW, updated_at=NOW)
    fields = dict(
        trigger="sale_end",
        rule=Rule.DAYS_BEFORE,
        days=2,
        send_time=None,
        recipient_filter=RecipientFilter.NOT_ORDERED,
        subject="Last days to order",
        body_html="<p>Hurry</p>",
        purpose=Purpose.MARKETING,
        created_at=NOW,
        updated_at=NOW,
    )
    fields.update(email)
    workflow.emails = [WorkflowEmail(**fields)]
    db.session.add(workflow)
    db.session.flush()
    db.session.add(GalleryWorkflow(gallery_id=gallery.id, workflow_id=workflow.id, assigned_at=NOW))
    db.session.commit()
    return workflow.emails[0]


def _mail(studio, recipient, subject, state, error=None):
    row = queue_message(
        kind=MailKind.CAMPAIGN,
        studio_id=studio.id,
        sender="s@example.com",
        recipient=recipient,
        subject=subject,
        html="<p>x</p>",
        text="x",
        now=NOW,
        state=state,
    )
    row.last_error = error
    db.session.commit()
    return row


def test_the_client_page_shows_mail_in_every_state_and_what_is_coming(client, logged_in, monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    studio = logged_in.studio
    gallery = factories.make_gallery(studio, title="Maple class", sale_ends_at=NOW + timedelta(days=10))
    email = _workflow(studio, gallery)
    parent = factories.make_client(studio, email="parent@example.com", gallery=gallery)
    _mail(studio, parent.email, "Your gallery is ready", MailState.SENT)
    _mail(studio, parent.email, "Order reminder", MailState.QUEUED)
    _mail(studio, parent.email, "Bounced one", MailState.FAILED, "550 5.1.1 no such user")
    _mail(studio, "someone.else@example.com", "Not theirs", MailState.SENT)
    reminder = WorkflowEmail(
        workflow_id=email.workflow_id,
        trigger="sale_start",
        rule=Rule.DAYS_AFTER,
        days=3,
        recipient_filter=RecipientFilter.NOT_ORDERED,
        subject="Still time to order",
        body_html="<p>x</p>",
        created_at=NOW,
        updated_at=NOW,
    )
    db.session.add(reminder)
    db.session.flush()
    db.session.add(
        CampaignOccurrence(
            workflow_email_id=reminder.id,
            occurrence_kind=OccurrenceKind.GALLERY,
            occurrence_id=gallery.id,
            gallery_id=gallery.id,
            due_at=NOW - timedelta(days=1),
            processed_at=NOW,
            skip_reason="sale_closed",
        )
    )
    db.session.commit()
    page = client.get(f"/admin/clients/{parent.id}").data.decode()
    received = page[page.index('data-testid="client-received"') :]
    assert "Your gallery is ready" in received.split("</section>")[0]
    waiting = page[page.index('data-testid="client-waiting"') :].split("</section>")[0]
    assert "Order reminder" in waiting
    skipped = page[page.index('data-testid="client-skipped"') :].split("</section>")[0]
    assert "550 5.1.1 no such user" in skipped and "Skipped: the sale had closed" in skipped
    assert "Still time to order" in skipped
    coming = page[page.index('data-testid="client-upcoming"') :].split("</section>")[0]
    assert "Last days to order" in coming
    assert "only if they have not ordered by then" in coming
    assert "not sent: no consent to news and offers" in coming
    assert "Not theirs" not in page


def test_the_client_list_finds_clients_by_name_or_email_and_only_the_studios(client, logged_in, other_owner):
    factories.make_client(logged_in.studio, email="julie@example.com", name="Julie Moreau")
    factories.make_client(logged_in.studio, email="paul@example.com", name="Paul Martin")
    theirs = factories.make_client(other_owner.studio, email="julie.other@example.com", name="Julie Other")
    page = client.get("/admin/clients/?q=JULIE").data.decode()
    assert "Julie Moreau" in page and "Paul Martin" not in page and "Julie Other" not in page
    assert "No client matches" in client.get("/admin/clients/?q=nobody").data.decode()
    assert client.get(f"/admin/clients/{theirs.id}").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("client"))) == 3


def test_a_cart_email_is_not_coming_once_the_cart_is_emptied(client, logged_in, monkeypatch):
    from tests.shop_factories import fill_cart, make_price_list, sell_gallery

    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    studio = logged_in.studio
    gallery = factories.make_gallery(studio, title="Maple class")
    photo = factories.make_photo(gallery)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    _workflow(
        studio,
        gallery,
        trigger="cart",
        rule=Rule.DAYS_AFTER,
        days=2,
        recipient_filter=RecipientFilter.ALL,
        subject="Your cart is waiting",
        purpose=Purpose.SERVICE,
    )
    parent = factories.make_client(studio, email="parent@example.com", gallery=gallery)
    cart = fill_cart(parent, gallery, photo, price_list.products[0])

    def coming():
        page = client.get(f"/admin/clients/{parent.id}").data.decode()
        return page[page.index('data-testid="client-upcoming"') :].split("</section>")[0]

    assert "Your cart is waiting" in coming()
    cart.closed_at, cart.closed_reason = NOW, "emptied"
    db.session.commit()
    assert "Your cart is waiting" not in coming()
