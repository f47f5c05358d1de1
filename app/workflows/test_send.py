"""Test sends: a workflow email as a client would receive it, filled for a made-up client.

The test goes to the address the photographer types, but every client variable is the sample
client's (from the variable registry) and every link leads to a page saying that this is a test
(``test_link_routes``): a forwarded test can never sign anyone into a real client's gallery nor
unsubscribe a real client. The gallery's own values (title, dates, promotion) are real when a
gallery is chosen or uses the workflow, as in the preview.
"""

from dataclasses import dataclass

from flask_babel import force_locale

from app.galleries.models import Gallery
from app.mailing.identity import studio_identity
from app.mailing.models import MailKind
from app.mailing.outbox import queue_message
from app.sms.outbox import queue_sms
from app.urls import external_url
from app.workflows.preview import sample_gallery
from app.workflows.rendering import branding_of, personalize, prepare
from app.workflows.sms import sms_text_in, sms_translations_of, with_stop_line
from app.workflows.translations import text_in
from app.workflows.values import running_promotions
from app.workflows.variables import (
    REGISTRY,
    is_offered,
    recipient_values,
    sample_values,
    substitute,
    variables_in,
)


@dataclass(frozen=True)
class RenderedTest:
    subject: str
    html: str
    text: str
    gallery: Gallery | None


def link_for_test(name):
    """Where the %name% link of a test email leads: the "this is a test" page."""
    return external_url("email_test.link", name=name)


def _gallery_values(needed, studio, gallery, language, now):
    """The real values of the gallery-wide variables in ``needed`` (never a client's), with the
    promotion running ``now`` as a campaign email due now would have it."""
    promotion = running_promotions({(gallery.id, now)}).get((gallery.id, now))
    shared = [name for name in needed if not REGISTRY[name].per_recipient]
    with force_locale(language):
        values = recipient_values(
            shared, studio=studio, gallery=gallery, client=None, language=language, promotion=promotion
        )
    return {name: value for name, value in values.items() if value not in ("", None)}


def sample_client_values(needed, trigger, studio, gallery, language, now):
    """Every value of a test email: the sample client's, the studio's, the gallery's real ones,
    test links in place of every link, and nothing for what ``trigger`` does not offer (empty
    in real mail too)."""
    values = sample_values() | {"studio_name": studio.name, "studio_email": studio.email}
    if gallery is not None:
        values |= _gallery_values(
            [name for name in needed if name in REGISTRY], studio, gallery, language, now
        )
    values |= {name: link_for_test(name) for name, variable in REGISTRY.items() if variable.is_link}
    return values | {name: "" for name in needed if name in REGISTRY and not is_offered(name, trigger)}


def render_test(email, studio, now, gallery=None, language=None):
    """``email`` rendered exactly as campaign mail (``prepare`` then ``personalize``) for the
    sample client, in ``language`` (one of the studio's client languages; None: the studio's),
    as if it were due ``now``."""
    gallery = sample_gallery(email.workflow, gallery)
    language = language or studio.language
    prepared = prepare(*text_in(email, language, studio.language), language, branding_of(studio, gallery))
    values = sample_client_values(prepared.variables, email.trigger, studio, gallery, language, now)
    subject, html, text = personalize(prepared, values)
    return RenderedTest(subject, html, text, gallery)


def queue_test(email, studio, to, now, gallery=None, language=None):
    """Queue ``email`` for the sample client to ``to``, its subject marked [Test], as an outbox
    row like every real message (flushed; the route commits, then dispatches it)."""
    rendered = render_test(email, studio, now, gallery, language)
    identity = studio_identity(studio.id)
    return queue_message(
        kind=MailKind.TEST,
        studio_id=studio.id,
        sender=identity.sender,
        recipient=to,
        subject=f"[Test] {rendered.subject}",
        html=rendered.html,
        text=rendered.text,
        now=now,
        reply_to=identity.reply_to,
        headers={"X-Proofsheet-Studio": str(studio.id)},
        gallery_id=rendered.gallery.id if rendered.gallery else None,
        source=f"workflow_email:{email.id}",
    )


def render_test_text(email, studio, now, gallery=None, language=None):
    """``email``'s text message as a test: filled like the test email (the sample client, test
    links), marked [Test], with a marketing text's stop line."""
    gallery = sample_gallery(email.workflow, gallery)
    language = language or studio.language
    body = sms_text_in(email, language, studio.language, sms_translations_of({email.id}))
    values = sample_client_values(variables_in(body), email.trigger, studio, gallery, language, now)
    return "[Test] " + with_stop_line(substitute(body, values, html=False), email.purpose, language)


def queue_test_text(email, studio, phone, now, gallery=None, language=None):
    """Queue the test of ``email``'s text message to ``phone`` (E.164) in the SMS outbox, like
    every text (flushed; the route commits, then dispatches it). Returns its id."""
    return queue_sms(
        studio_id=studio.id,
        kind="test",
        recipient=phone,
        body=render_test_text(email, studio, now, gallery, language),
        now=now,
        source=f"workflow_email:{email.id}",
        gallery_id=gallery.id if gallery else None,
    )
