"""Workflow emails in the studio's client languages (issue 18): the editor's translations, the
tick writing each client in their language, template copies translated from the catalogues,
preview and test send in a chosen language."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.extensions import db
from app.i18n import with_variables
from app.mailing.models import MailKind, OutboxMessage
from app.workflows.due import due_occurrences
from app.workflows.engine import queue_occurrences, tick
from app.workflows.models import Trigger, Workflow, WorkflowEmail, WorkflowEmailTranslation
from app.workflows.preview import render_for_preview
from app.workflows.templates import TEMPLATES
from tests import factories
from tests.test_campaign_engine import ARCHIVE, SALE_END, SALE_START
from tests.test_campaign_variables import _unsigned
from tests.workflow_factories import assign, make_workflow

SWEDISH = ("Hej %client_name%, dina bilder", "<p>Hej %client_name%, se %gallery_title%.</p>")


def email_data(**overrides):
    data = {
        "trigger": "sale_start",
        "rule": "instant",
        "days": "0",
        "send_time": "",
        "recipient_filter": "all",
        "purpose": "service",
        "subject": "Hello %client_name%, your photos",
        "body_html": "<p>Hello %client_name%, see %gallery_title%.</p>",
    }
    data.update(overrides)
    return data


def translations(email_id):
    db.session.expire_all()
    return {
        row.language: row
        for row in db.session.scalars(
            sa.select(WorkflowEmailTranslation).where(WorkflowEmailTranslation.email_id == email_id)
        )
    }


def translate(email, language, subject, body_html):
    db.session.add(
        WorkflowEmailTranslation(
            email_id=email.id,
            language=language,
            subject=subject,
            body_html=body_html,
            updated_at=factories.NOW,
        )
    )
    db.session.commit()


def offer(studio, languages):
    studio.client_languages = languages
    db.session.commit()


def section(page, language):
    """The editor's <details> section of one language."""
    start = page.index(f'data-language="{language}"')
    return page[start : page.index("</details>", start)]


# ------------------------------------------------------------------ the editor


def test_the_editor_has_a_section_per_other_client_language(client, logged_in):
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    url = f"/admin/workflows/{workflow.id}/emails/{workflow.emails[0].id}"
    page = client.get(url).data.decode()  # "": every language of the site, but the studio's own
    assert [f'data-language="{code}"' in page for code in ("sv", "fr", "de", "ru", "en")] == [
        True,
        True,
        True,
        True,
        False,
    ]
    offer(logged_in.studio, "ru,sv")
    page = client.get(url).data.decode()
    assert 'data-language="sv"' in page and 'data-language="ru"' in page
    assert 'data-language="fr"' not in page and 'data-language="de"' not in page
    assert page.index('data-language="sv"') < page.index('data-language="ru"')  # site's order
    assert "uses the English text" in section(page, "sv") and 'id="editor-sv"' in page
    assert "Remove this translation" not in page  # nothing translated yet
    offer(logged_in.studio, "en")
    assert "email-languages" not in client.get(url).data.decode()  # one language: no section


def test_the_editor_saves_updates_and_reverts_a_translation(client, logged_in):
    offer(logged_in.studio, "sv,ru")
    workflow = make_workflow(logged_in.studio)
    response = client.post(
        f"/admin/workflows/{workflow.id}/emails/new",
        data=email_data(
            **{
                "sv-subject": f"  {SWEDISH[0]} ",
                "sv-body_html": SWEDISH[1] + "<script>x()</script>",
                "ru-subject": "",
                "ru-body_html": "<p><br></p>",
            }
        ),
    )
    assert response.status_code == 302
    email = db.session.scalar(sa.select(WorkflowEmail))
    saved = translations(email.id)
    assert set(saved) == {"sv"}  # an empty language has no translation
    assert (saved["sv"].subject, saved["sv"].body_html) == SWEDISH  # trimmed and sanitized
    page = client.get(response.headers["Location"]).data.decode()
    assert 'data-testid="translated"' in section(page, "sv") and SWEDISH[0] in section(page, "sv")
    assert "uses the English text" in section(page, "ru")
    assert 'data-testid="revert-sv"' in page and 'data-testid="revert-ru"' not in page
    assert "Remove this translation" in section(page, "sv")
    # Saving again updates the translation; emptying both fields removes it.
    url = f"/admin/workflows/{workflow.id}/emails/{email.id}"
    client.post(url, data=email_data(**{"sv-subject": "Nytt ämne", "sv-body_html": "<p>Ny</p>"}))
    assert translations(email.id)["sv"].subject == "Nytt ämne"
    client.post(url, data=email_data(**{"sv-subject": "", "sv-body_html": ""}))
    assert translations(email.id) == {}
    # "Remove this translation" deletes the language's text.
    translate(email, "sv", *SWEDISH)
    reverted = client.post(f"{url}/translations/sv/delete", follow_redirects=True)
    assert translations(email.id) == {}
    assert "clients who chose Swedish get the English text" in reverted.data.decode()
    assert "uses the English text" in section(reverted.data.decode(), "sv")


def test_a_translation_is_checked_as_the_default_text_and_nothing_is_half_saved(client, logged_in):
    offer(logged_in.studio, "sv")
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start", subject="Old subject")])
    email = workflow.emails[0]
    url = f"/admin/workflows/{workflow.id}/emails/{email.id}"
    default = client.post(url, data=email_data(body_html="<p>Hi %first_name%</p>"))
    refused = client.post(
        url, data=email_data(**{"sv-subject": "Hej", "sv-body_html": "<p>Hej %first_name%</p>"})
    )
    assert default.status_code == refused.status_code == 422
    assert "Unknown variable: %first_name%." in default.data.decode()
    page = refused.data.decode()
    assert "Unknown variable: %first_name%." in section(page, "sv")
    assert '<details class="card email-language" data-language="sv" open>' in page
    assert "Please correct what is marked below." in page
    db.session.expire_all()
    assert db.session.get(WorkflowEmail, email.id).subject == "Old subject"  # not half-saved
    assert translations(email.id) == {}
    for fields, message in [
        ({"sv-subject": "Hej %nickname%", "sv-body_html": "<p>Hej</p>"}, "Unknown variable: %nickname%."),
        (
            {"sv-subject": "Hej\r\nBcc: x@y.z", "sv-body_html": "<p>Hej</p>"},
            "The subject must be on one line.",
        ),
        (
            {"sv-subject": "", "sv-body_html": "<p>Hej</p>"},
            "Please write the subject too, or empty the message to send the English text.",
        ),
        (
            {"sv-subject": "Hej", "sv-body_html": "<p><br></p>"},
            "Please write the message too, or empty the subject to send the English text.",
        ),
    ]:
        response = client.post(url, data=email_data(**fields))
        assert response.status_code == 422 and message in section(response.data.decode(), "sv")
    assert translations(email.id) == {}


def test_the_workflow_page_shows_which_languages_are_translated(client, logged_in):
    offer(logged_in.studio, "sv,ru")
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start"), dict(trigger="sale_end")])
    translate(workflow.emails[0], "sv", *SWEDISH)
    translate(workflow.emails[0], "de", "Hallo", "<p>Hallo</p>")  # no longer offered: not shown
    page = client.get(f"/admin/workflows/{workflow.id}").data.decode()
    assert page.count('data-testid="translated-sv"') == 1
    assert 'data-testid="translated-de"' not in page and 'data-testid="translated-ru"' not in page
    assert "Translated into Swedish" in page


def test_copies_of_workflows_and_emails_keep_their_translations(client, logged_in):
    workflow = make_workflow(logged_in.studio, emails=[dict(trigger="sale_start")])
    translate(workflow.emails[0], "sv", *SWEDISH)
    client.post(f"/admin/workflows/{workflow.id}/duplicate", data={"title": "Copy"})
    copy = db.session.scalar(sa.select(Workflow).where(Workflow.title == "Copy"))
    assert translations(copy.emails[0].id)["sv"].subject == SWEDISH[0]
    client.post(f"/admin/workflows/{workflow.id}/emails/{workflow.emails[0].id}/duplicate")
    db.session.expire_all()
    second = db.session.get(Workflow, workflow.id).emails[1]
    assert translations(second.id)["sv"].body_html == SWEDISH[1]


# ------------------------------------------------------------------ template copies


def test_a_template_copy_is_translated_into_each_client_language(client, logged_in):
    studio = logged_in.studio
    studio.language, studio.client_languages = "sv", "en,ru"
    db.session.commit()
    client.post("/admin/workflows/templates/school/duplicate", data={"title": "Skolfoto"})
    workflow = db.session.scalar(sa.select(Workflow))
    template = TEMPLATES["school"]
    for email, source in zip(workflow.emails, template.emails, strict=True):
        saved = translations(email.id)
        assert set(saved) == {"en", "ru"}  # never the studio's own language
        for language in ("en", "ru"):
            with force_locale(language):
                assert saved[language].subject == with_variables(source.subject)
        with force_locale("sv"):
            assert email.subject == with_variables(source.subject)
    first = translations(workflow.emails[0].id)
    assert len({workflow.emails[0].subject, first["en"].subject, first["ru"].subject}) == 3
    assert "%client_name%" in first["ru"].body_html or "%gallery_link%" in first["ru"].body_html
    page = client.get(f"/admin/workflows/{workflow.id}").data.decode()
    assert (
        page.count('data-testid="translated-en"')
        == page.count('data-testid="translated-ru"')
        == len(template.emails)
    )


# ------------------------------------------------------------------ the tick


@pytest.fixture
def multilingual(owner):
    """An English studio offering Swedish, a gallery whose clients speak Swedish, English and
    German (a language the studio does not offer), and a translated sale-start email."""
    studio = owner.studio
    offer(studio, "sv")
    gallery = factories.make_gallery(
        studio, title="Riverside", sale_starts_at=SALE_START, sale_ends_at=SALE_END, archives_at=ARCHIVE
    )
    clients = {}
    for days, language in enumerate(("de", "en", "sv"), start=3):  # the Swedish one first
        clients[language] = factories.make_client(
            studio,
            email=f"{language}@example.com",
            name=f"Client {language}",
            gallery=gallery,
            registered_at=SALE_START - timedelta(days=days),
        )
        clients[language].language = language
    workflow = make_workflow(
        studio,
        emails=[
            dict(
                trigger=Trigger.SALE_START,
                subject="Hello %client_name%, your photos",
                body_html="<p>Hello %client_name%, see %gallery_title%.</p>",
            )
        ],
    )
    translate(workflow.emails[0], "sv", *SWEDISH)
    translate(workflow.emails[0], "de", "Hallo %client_name%", "<p>Hallo</p>")  # not offered
    assign(gallery, workflow)
    return type(
        "Multilingual", (), dict(studio=studio, gallery=gallery, clients=clients, email=workflow.emails[0])
    )


def _queued():
    db.session.expire_all()
    return {
        row.recipient: row
        for row in db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == MailKind.CAMPAIGN))
    }


def test_the_tick_writes_each_client_in_their_language(multilingual):
    assert tick(SALE_START).queued.total() == 3
    db.session.commit()
    rows = _queued()
    swedish = rows["sv@example.com"]
    assert swedish.subject == "Hej Client sv, dina bilder"
    assert "Hej Client sv, se Riverside." in swedish.text and '<html lang="sv">' in swedish.html
    english = rows["en@example.com"]
    assert english.subject == "Hello Client en, your photos" and '<html lang="en">' in english.html
    assert "Hello Client en, see Riverside." in english.text
    # German is not one of the studio's client languages: the studio's language, not "de".
    german = rows["de@example.com"]
    assert german.subject == "Hello Client de, your photos" and '<html lang="en">' in german.html


def test_the_tick_reads_the_translations_once_whatever_the_recipients(multilingual):
    for number in range(6):
        client = factories.make_client(
            multilingual.studio,
            email=f"more{number}@example.com",
            name=f"More {number}",
            gallery=multilingual.gallery,
            registered_at=SALE_START - timedelta(days=1),
        )
        client.language = ("sv", "en")[number % 2]
    db.session.commit()
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert tick(SALE_START).queued.total() == 9
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert sum("workflow_email_translation" in sql for sql in statements) == 1
    db.session.commit()
    assert {row.subject for recipient, row in _queued().items() if recipient.startswith("more")} == {
        f"Hej More {n}, dina bilder" if n % 2 == 0 else f"Hello More {n}, your photos" for n in range(6)
    }


def test_the_preview_of_a_swedish_client_is_their_queued_message(multilingual):
    email, studio, gallery = multilingual.email, multilingual.studio, multilingual.gallery
    preview = render_for_preview(email, studio, gallery)  # its first client: the Swedish one
    assert preview.client.id == multilingual.clients["sv"].id and preview.language == "sv"
    [occurrence] = due_occurrences(gallery_id=gallery.id, skip_processed=False)
    queue_occurrences([occurrence], occurrence.due_at)
    row = _queued()["sv@example.com"]
    assert row.subject == preview.subject == "Hej Client sv, dina bilder"
    assert (_unsigned(row.html), _unsigned(row.text)) == (_unsigned(preview.html), _unsigned(preview.text))
    english = render_for_preview(email, studio, gallery, language="en")
    assert english.subject == "Hello Client sv, your photos" and english.language == "en"


# ------------------------------------------------------------------ preview and test send


def test_preview_and_test_send_in_a_chosen_language(client, logged_in, mail_outbox):
    offer(logged_in.studio, "sv")
    workflow = make_workflow(
        logged_in.studio, emails=[dict(trigger="sale_start", subject="Hello %client_name%, your photos")]
    )
    email = workflow.emails[0]
    translate(email, "sv", *SWEDISH)
    url = f"/admin/workflows/{workflow.id}/emails/{email.id}/preview"
    page = client.get(url).data.decode()  # no client yet: the studio's language
    assert "Hello Alex Martin, your photos" in page
    assert '<option value="en" selected>English</option>' in page
    assert '<option value="sv">Swedish</option>' in page
    swedish = client.get(f"{url}?language=sv").data.decode()
    assert "Hej Alex Martin, dina bilder" in swedish and "lang=&#34;sv&#34;" in swedish
    assert '<option value="sv" selected>Swedish</option>' in swedish
    assert '<input type="hidden" name="language" value="sv">' in swedish
    assert "Hello Alex Martin" in client.get(f"{url}?language=xx").data.decode()  # not offered
    sent = client.post(
        f"/admin/workflows/{workflow.id}/emails/{email.id}/test",
        data={"to": "me@example.com", "language": "sv", "back": "preview"},
    )
    assert sent.headers["Location"].endswith("/preview?language=sv")
    mail = mail_outbox.wait_for(1)[0]
    assert mail.subject == "[Test] Hej Alex Martin, dina bilder"
    assert "Hej Alex Martin, se" in mail.text()


def test_the_editors_test_send_offers_the_client_languages(client, logged_in, mail_outbox):
    offer(logged_in.studio, "sv")
    workflow = make_workflow(
        logged_in.studio, emails=[dict(trigger="sale_start", subject="Hello %client_name%, your photos")]
    )
    email = workflow.emails[0]
    page = client.get(f"/admin/workflows/{workflow.id}/emails/{email.id}").data.decode()
    assert '<select id="language" name="language">' in page
    test_url = f"/admin/workflows/{workflow.id}/emails/{email.id}/test"
    # Not translated: the Swedish test has the default text.
    client.post(test_url, data={"to": "me@example.com", "language": "sv"})
    assert mail_outbox.wait_for(1)[0].subject == "[Test] Hello Alex Martin, your photos"
    refused = client.post(test_url, data={"to": "me@example.com", "language": "de"}, follow_redirects=True)
    assert "Choose one of your clients&#39; languages." in refused.data.decode()
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1
