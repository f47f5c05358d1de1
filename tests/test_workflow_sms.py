"""The text message variant of workflow emails (issue 19): the editor (on/off, a text per
language, the checks shown on the page), the tick queueing the text with the email to the
clients with a number and the SMS consent, exactly once, in their language, the stop line of
marketing texts, the text reaching the local sink, the preview and the activity page."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.galleries.models import GalleryStatus
from app.mailing.models import MailKind, OutboxMessage
from app.sms.dispatch import dispatch_sms
from app.sms.inbound import is_stop
from app.sms.models import SmsMessage, SmsState
from app.sms.outbox import queue_sms, suppress
from app.workflows.due import due_occurrences
from app.workflows.engine import queue_occurrences, tick
from app.workflows.models import Purpose, Trigger, WorkflowEmail, WorkflowEmailTranslation
from app.workflows.sms import stop_line
from app.workflows.timeline import send_missed
from tests import factories
from tests.test_campaign_engine import ARCHIVE, SALE_END, SALE_START
from tests.test_workflow_languages import email_data, offer, section, translations
from tests.workflow_factories import assign, make_workflow

PHONE = "+46701234567"
OTHER_PHONE = "+46701234568"
TEXT = "Hi %client_name%, the photos of %gallery_title% are online: %gallery_link%"


def with_phone(client, phone=PHONE, consent=True):
    client.phone = phone
    client.sms_consent_at = SALE_START - timedelta(days=10) if consent else None
    db.session.commit()
    return client


def texts():
    db.session.expire_all()
    return {row.recipient: row for row in db.session.scalars(sa.select(SmsMessage).order_by(SmsMessage.id))}


def emails():
    db.session.expire_all()
    return {
        row.recipient: row
        for row in db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == MailKind.CAMPAIGN))
    }


def unsigned(text):
    """Sign-in tokens carry their second of signing."""
    return re.sub(r"/signin/[^?\s\"]+", "/signin/TOKEN", text)


@pytest.fixture
def school(owner):
    """A published gallery with four registered clients: one with a number and the SMS
    consent, one with a number only, one with neither, one Swedish with both; a sale-start
    email with its text message on."""
    studio = owner.studio
    gallery = factories.make_gallery(
        studio, title="Riverside", sale_starts_at=SALE_START, sale_ends_at=SALE_END, archives_at=ARCHIVE
    )
    registered = SALE_START - timedelta(days=5)

    def client(name, language="en"):
        made = factories.make_client(
            studio, email=f"{name}@example.com", name=name.title(), gallery=gallery, registered_at=registered
        )
        made.language, made.marketing_consent = language, True
        return made

    consenting = with_phone(client("consenting"))
    number_only = with_phone(client("numberonly"), OTHER_PHONE, consent=False)
    client("nophone")
    swedish = with_phone(client("swedish", "sv"), "+46701234569")
    workflow = make_workflow(
        studio,
        emails=[dict(trigger=Trigger.SALE_START, body_html='<p>Open <a href="%gallery_link%">it</a></p>')],
    )
    email = workflow.emails[0]
    email.sms_enabled, email.sms_body = True, TEXT
    db.session.commit()
    assign(gallery, workflow)
    return type(
        "School",
        (),
        dict(
            studio=studio,
            gallery=gallery,
            workflow=workflow,
            email=email,
            consenting=consenting,
            number_only=number_only,
            swedish=swedish,
        ),
    )


# ------------------------------------------------------------------ the tick


def test_the_tick_queues_the_text_with_the_email_to_clients_with_a_number_and_consent(school):
    result = tick(SALE_START)
    db.session.commit()
    assert result.queued.total() == 4 and result.texts == 2
    assert set(emails()) == {
        "consenting@example.com",
        "numberonly@example.com",
        "nophone@example.com",
        "swedish@example.com",
    }
    queued = texts()
    assert set(queued) == {PHONE, "+46701234569"}  # not the number without consent
    text = queued[PHONE]
    assert text.body.startswith("Hi Consenting, the photos of Riverside are online: http")
    assert "Reply STOP" not in text.body  # a service email's text
    assert text.state == SmsState.QUEUED and text.kind == "campaign"
    assert text.due_at == emails()["consenting@example.com"].due_at == SALE_START
    assert text.source == f"workflow_email:{school.email.id}" and text.gallery_id == school.gallery.id
    # The same signed link as the client's email.
    link = re.search(r"https?://\S+", text.body).group(0)
    assert unsigned(link) in unsigned(emails()["consenting@example.com"].text)
    assert "/signin/" in link and f"gallery={school.gallery.id}" in link


def test_a_second_tick_or_a_second_process_queues_no_text_again(school):
    tick(SALE_START)
    db.session.commit()
    again = tick(SALE_START + timedelta(minutes=1))
    db.session.commit()
    assert again.texts == 0
    # Another process dealing with the same due occurrence at once (before either recorded
    # it): the keys under the unique index keep one text per client.
    due = due_occurrences(SALE_START - timedelta(hours=1), SALE_START, skip_processed=False)
    assert due
    assert queue_occurrences(due, SALE_START + timedelta(minutes=2)).texts == 0
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == 2


def test_each_client_gets_the_text_in_their_language(school):
    offer(school.studio, "en,sv")
    translated = WorkflowEmailTranslation(
        email_id=school.email.id,
        language="sv",
        subject="Hej %client_name%",
        body_html="<p>Hej</p>",
        sms_body="Hej %client_name%, bilderna från %gallery_title% finns här: %gallery_link%",
        updated_at=factories.NOW,
    )
    db.session.add(translated)
    db.session.commit()
    tick(SALE_START)
    db.session.commit()
    queued = texts()
    assert queued["+46701234569"].body.startswith("Hej Swedish, bilderna från Riverside finns här: http")
    assert queued[PHONE].body.startswith("Hi Consenting")


def test_an_empty_translated_text_sends_the_default_languages(school):
    offer(school.studio, "en,sv")
    db.session.add(
        WorkflowEmailTranslation(
            email_id=school.email.id,
            language="sv",
            subject="Hej %client_name%",
            body_html="<p>Hej</p>",
            sms_body=None,
            updated_at=factories.NOW,
        )
    )
    db.session.commit()
    tick(SALE_START)
    db.session.commit()
    assert texts()["+46701234569"].body.startswith("Hi Swedish, the photos of Riverside")
    assert emails()["swedish@example.com"].subject == "Hej Swedish"


def test_marketing_texts_end_with_how_to_stop_and_follow_the_marketing_consent(school):
    school.email.purpose = Purpose.MARKETING
    school.consenting.marketing_consent = False
    db.session.commit()
    result = tick(SALE_START)
    db.session.commit()
    assert "consenting@example.com" not in emails()  # no news and offers: neither email...
    queued = texts()
    assert set(queued) == {"+46701234569"}  # ...nor text
    assert result.texts == 1
    # The Swedish client's stop line is in Swedish and names a reply word the webhook knows.
    swedish_stop = stop_line("sv")
    assert queued["+46701234569"].body.endswith("\n" + swedish_stop)
    assert swedish_stop != "Reply STOP to opt out."
    assert any(is_stop(word) for word in re.findall(r"\w+", swedish_stop))


def test_an_email_without_its_text_message_queues_no_text(school):
    school.email.sms_enabled = False
    db.session.commit()
    assert tick(SALE_START).queued.total() == 4
    db.session.commit()
    assert texts() == {}


def test_a_missed_email_sent_on_purpose_sends_its_text_too(school):
    school.gallery.status = GalleryStatus.DRAFT  # unpublished at its due time: missed
    db.session.commit()
    tick(SALE_START)
    db.session.commit()
    assert texts() == {}
    school.gallery.status = GalleryStatus.PUBLISHED
    db.session.commit()
    later = SALE_START + timedelta(hours=2)
    assert send_missed(school.gallery, school.email.id, "gallery", school.gallery.id, later) == 4
    db.session.commit()
    assert set(texts()) == {PHONE, "+46701234569"}
    assert texts()[PHONE].due_at == later


def test_an_enabled_but_empty_text_sends_nothing_not_even_the_stop_line(school):
    school.email.purpose, school.email.sms_body = Purpose.MARKETING, "  "
    db.session.commit()
    tick(SALE_START)
    db.session.commit()
    assert texts() == {} and len(emails()) == 4


def test_a_number_that_replied_stop_gets_no_campaign_text(school):
    suppress(school.studio.id, PHONE, "stop", SALE_START - timedelta(days=1))
    db.session.commit()
    tick(SALE_START)
    db.session.commit()
    text = texts()[PHONE]
    assert text.state == SmsState.SKIPPED
    dispatch_sms(SALE_START)
    assert texts()[PHONE].state == SmsState.SKIPPED


def sink(app):
    folder = Path(app.config["SMS_SINK_FOLDER"])
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]


def test_the_text_reaches_the_sink_through_the_sms_dispatcher(app, school):
    tick(SALE_START)
    db.session.commit()
    result = dispatch_sms(SALE_START)
    assert result.sent == 2
    received = {record["to"]: record for record in sink(app)}
    assert set(received) == {PHONE, "+46701234569"}
    assert received[PHONE]["body"] == texts()[PHONE].body
    assert received[PHONE]["studio_id"] == school.studio.id
    assert {row.state for row in texts().values()} == {SmsState.SENT}


# ------------------------------------------------------------------ speed: the batch's queries


def _statements(run):
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement.lower())

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_the_phones_of_a_batch_are_read_in_one_query_and_not_at_all_without_texts(school):
    for number in range(8):
        more = factories.make_client(
            school.studio,
            email=f"more{number}@example.com",
            name=f"More {number}",
            gallery=school.gallery,
            registered_at=SALE_START - timedelta(days=1),
        )
        with_phone(more, f"+4670200{number:04d}")
    statements = _statements(lambda: tick(SALE_START))
    db.session.commit()
    assert sum("sms_consent_at" in statement for statement in statements) == 1
    assert len(texts()) == 10

    school.email.sms_enabled = False
    db.session.commit()
    quiet = _statements(lambda: tick(SALE_START + timedelta(days=30)))  # nothing due: no text
    db.session.rollback()
    later = factories.make_client(school.studio, email="late@example.com", gallery=school.gallery)
    with_phone(later, "+46702009999")
    due = due_occurrences(SALE_START - timedelta(hours=1), SALE_START, skip_processed=False)
    without = _statements(lambda: queue_occurrences(due, SALE_START))
    db.session.rollback()
    assert not [s for s in quiet + without if "sms_consent_at" in s or "sms_message" in s]


# ------------------------------------------------------------------ the editor


def edit_url(workflow, email=None):
    base = f"/admin/workflows/{workflow.id}/emails"
    return f"{base}/{email.id}" if email else f"{base}/new"


def test_the_editor_saves_the_text_message_and_shows_its_counter(client, logged_in):
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    email = workflow.emails[0]
    page = client.get(edit_url(workflow, email)).data.decode()
    assert "Also send a text message" in page and "data-sms-counter" in page
    assert "js/sms-counter.js" in page
    response = client.post(
        edit_url(workflow, email),
        data=email_data(sms_enabled="y", sms_body="Hi %client_name%\r\nSee %gallery_link%  "),
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(WorkflowEmail, email.id)
    assert saved.sms_enabled is True and saved.sms_body == "Hi %client_name%\nSee %gallery_link%"
    page = client.get(edit_url(workflow, email)).data.decode()
    assert 'name="sms_enabled" type="checkbox" value="y"' in page and "checked" in page
    assert 'data-testid="with-text"' in client.get(f"/admin/workflows/{workflow.id}").data.decode()
    client.post(edit_url(workflow, email), data=email_data(sms_body=saved.sms_body))  # turned off
    db.session.expire_all()
    off = db.session.get(WorkflowEmail, email.id)
    assert off.sms_enabled is False and off.sms_body == saved.sms_body  # kept for next time


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            dict(sms_enabled="y", sms_body="  "),
            "Please write the text message, or turn the text message off.",
        ),
        (dict(sms_enabled="y", sms_body="Hi %first_name%"), "Unknown variable: %first_name%."),
        (dict(sms_body="Off, but %nope% is still unknown"), "Unknown variable: %nope%."),
        (
            dict(sms_enabled="y", sms_body="Photos! " * 60),
            "The text message is too long: it would be sent as 4 texts, at most 3.",
        ),
        (
            # Three texts as typed, but every link counts as a real signed one.
            dict(sms_enabled="y", sms_body="x" * 400 + " %gallery_link%"),
            "The text message is too long",
        ),
    ],
)
def test_the_editor_explains_what_is_wrong_with_the_text_and_saves_nothing(
    client, logged_in, fields, message
):
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    email = workflow.emails[0]
    response = client.post(edit_url(workflow, email), data=email_data(**fields))
    assert response.status_code == 422
    page = response.data.decode()
    assert message in page.replace("&#34;", '"')
    assert "Please correct what is marked below." in page
    db.session.expire_all()
    assert db.session.get(WorkflowEmail, email.id).sms_enabled is False


def test_a_marketing_texts_stop_line_counts_in_its_length(client, logged_in):
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    url = edit_url(workflow, workflow.emails[0])
    body = "y" * (3 * 153 - 10)  # fits in three texts alone, not with "Reply STOP to opt out."
    assert client.post(url, data=email_data(sms_enabled="y", sms_body=body)).status_code == 302
    refused = client.post(url, data=email_data(purpose="marketing", sms_enabled="y", sms_body=body))
    assert refused.status_code == 422 and "The text message is too long" in refused.data.decode()


def test_each_language_has_its_text_message(client, logged_in):
    offer(logged_in.studio, "en,sv")
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    email = workflow.emails[0]
    url = edit_url(workflow, email)
    assert 'id="sv-sms_body"' in section(client.get(url).data.decode(), "sv")
    swedish = {"sv-subject": "Hej", "sv-body_html": "<p>Hej</p>", "sv-sms_body": "Hej %client_name%"}
    assert client.post(url, data=email_data(sms_enabled="y", sms_body="Hi", **swedish)).status_code == 302
    assert translations(email.id)["sv"].sms_body == "Hej %client_name%"
    # An unknown variable in a language's text is shown in its section.
    refused = client.post(
        url, data=email_data(sms_enabled="y", sms_body="Hi", **swedish | {"sv-sms_body": "%x%"})
    )
    assert refused.status_code == 422
    assert "Unknown variable: %x%." in section(refused.data.decode(), "sv")
    # A text without the email's subject and message in that language cannot be saved.
    lone = {"sv-subject": "", "sv-body_html": "", "sv-sms_body": "Hej"}
    refused = client.post(url, data=email_data(sms_enabled="y", sms_body="Hi", **lone))
    assert refused.status_code == 422
    assert "Please write the subject and message in this language too" in section(refused.data.decode(), "sv")
    assert translations(email.id)["sv"].sms_body == "Hej %client_name%"  # nothing half-saved
    # Emptied: the Swedish clients get the English text.
    client.post(url, data=email_data(sms_enabled="y", sms_body="Hi", **swedish | {"sv-sms_body": ""}))
    assert translations(email.id)["sv"].sms_body is None


def test_copies_keep_the_text_messages(client, logged_in):
    offer(logged_in.studio, "en,sv")
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    url = edit_url(workflow, workflow.emails[0])
    swedish = {"sv-subject": "Hej", "sv-body_html": "<p>Hej</p>", "sv-sms_body": "Hej!"}
    client.post(url, data=email_data(sms_enabled="y", sms_body="Hi!", **swedish))
    client.post(f"/admin/workflows/{workflow.id}/emails/{workflow.emails[0].id}/duplicate")
    client.post(f"/admin/workflows/{workflow.id}/duplicate", data={"title": "Copy"})
    db.session.expire_all()
    copies = db.session.scalars(
        sa.select(WorkflowEmail).where(WorkflowEmail.id != workflow.emails[0].id)
    ).all()
    assert len(copies) == 3
    assert all(copy.sms_enabled and copy.sms_body == "Hi!" for copy in copies)
    assert all(translations(copy.id)["sv"].sms_body == "Hej!" for copy in copies)


def test_the_preview_shows_the_text_message(client, logged_in):
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start", purpose=Purpose.MARKETING)])
    email = workflow.emails[0]
    url = f"/admin/workflows/{workflow.id}/emails/{email.id}/preview"
    assert 'data-testid="preview-sms"' not in client.get(url).data.decode()
    email.sms_enabled, email.sms_body = True, "Hi %client_name%, %studio_name% here"
    db.session.commit()
    page = client.get(url).data.decode()
    assert 'data-testid="preview-sms"' in page
    assert f"Hi Alex Martin, {logged_in.studio.name} here\nReply STOP to opt out." in page
    assert "1 text message (GSM-7)" in page


# ------------------------------------------------------------------ activity


def test_email_activity_lists_the_studios_texts(client, logged_in, other_owner):
    gallery = factories.make_gallery(logged_in.studio, title="Riverside")
    queue_sms(
        studio_id=logged_in.studio_id,
        kind="campaign",
        recipient=PHONE,
        body="Hi, the photos are online",
        now=factories.NOW,
        gallery_id=gallery.id,
    )
    failed = queue_sms(
        studio_id=logged_in.studio_id,
        kind="campaign",
        recipient=OTHER_PHONE,
        body="Second",
        now=factories.NOW,
    )
    queue_sms(
        studio_id=other_owner.studio_id, kind="campaign", recipient=PHONE, body="Not ours", now=factories.NOW
    )
    row = db.session.get(SmsMessage, failed)
    row.state, row.last_error = SmsState.FAILED, "Invalid number (21211)"
    db.session.commit()
    assert 'data-testid="texts-tab"' in client.get("/admin/activity/").data.decode()
    page = client.get("/admin/activity/texts").data.decode()
    assert "+46 70 123 45 67" in page and "Hi, the photos are online" in page and "Riverside" in page
    assert "Invalid number (21211)" in page and "Failed" in page and "Waiting to be sent" in page
    assert "Not ours" not in page
    only_failed = client.get("/admin/activity/texts?state=failed").data.decode()
    assert "Second" in only_failed and "Hi, the photos are online" not in only_failed
    by_gallery = client.get(f"/admin/activity/texts?gallery={gallery.id}").data.decode()
    assert "Hi, the photos are online" in by_gallery and "Second" not in by_gallery
    other_gallery = factories.make_gallery(other_owner.studio, title="Theirs")
    assert client.get(f"/admin/activity/texts?gallery={other_gallery.id}").status_code == 404


# ------------------------------------------------------------------ test sends


def test_a_test_send_texts_the_typed_number_too(app, client, logged_in, mail_outbox):
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start", purpose=Purpose.MARKETING)])
    email = workflow.emails[0]
    test_url = f"/admin/workflows/{workflow.id}/emails/{email.id}/test"
    assert 'name="phone"' not in client.get(edit_url(workflow, email)).data.decode()  # no text yet
    email.sms_enabled, email.sms_body = True, "Hi %client_name%, see %gallery_link%"
    db.session.commit()
    assert 'name="phone"' in client.get(edit_url(workflow, email)).data.decode()
    page = client.post(
        test_url, data={"to": "me@example.com", "phone": "+46 70 123 45 67"}, follow_redirects=True
    ).data.decode()
    assert "Test text message sent to +46 70 123 45 67." in page and "Test email sent to" in page
    (received,) = sink(app)
    assert received["to"] == PHONE
    assert received["body"].startswith("[Test] Hi Alex Martin, see http")
    assert "/email-test/gallery_link" in received["body"]  # the page saying it is a test
    assert received["body"].endswith("\nReply STOP to opt out.")
    assert "/signin/" not in received["body"]  # never a real client's link
    assert mail_outbox.wait_for(1)[0].subject.startswith("[Test]")


def test_a_test_send_to_a_number_we_cannot_text_sends_nothing(app, client, logged_in, mail_outbox):
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    email = workflow.emails[0]
    email.sms_enabled, email.sms_body = True, "Hi"
    db.session.commit()
    page = client.post(
        f"/admin/workflows/{workflow.id}/emails/{email.id}/test",
        data={"to": "me@example.com", "phone": "hello"},
        follow_redirects=True,
    ).data.decode()
    assert "This is not a phone number we can read." in page
    assert texts() == {} and db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.no_database
@pytest.mark.parametrize("language", ["en", "sv", "fr", "de", "ru"])
def test_every_languages_stop_line_names_a_reply_word_the_webhook_knows(app, language):
    with app.test_request_context():
        line = stop_line(language)
    assert any(is_stop(word) for word in re.findall(r"\w+", line)), line
