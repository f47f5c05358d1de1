"""Workflow emails in the studio's client languages.

A workflow email is written in the studio's language (``WorkflowEmail.subject``/``body_html``);
a ``WorkflowEmailTranslation`` gives its subject and message in another of the languages the
studio's clients may choose. A client gets the translation of their language when there is one,
else the email's own text; a client whose language the studio does not offer gets the studio's.

Services take ``now``, flush and never commit.
"""

import sqlalchemy as sa

from app.database import among
from app.extensions import db
from app.i18n import client_languages, language_name  # noqa: F401 (language_name: for routes)
from app.workflows.models import WorkflowEmailTranslation
from app.workflows.variables import sanitize_body

T = WorkflowEmailTranslation


def other_languages(studio):
    """The client languages a workflow email may be translated into (all but the studio's)."""
    return client_languages(studio)[1:]


def recipient_language(studio, client_language, offered=None):
    """The language a client of ``studio`` is written to: theirs when the studio offers it,
    else the studio's. ``offered``: ``client_languages(studio)``, when the caller has it."""
    offered = client_languages(studio) if offered is None else offered
    return client_language if client_language in offered else studio.language


def translations_of(email_ids):
    """{(email id, language): (subject, body_html)} of these emails, in one query."""
    if not email_ids:
        return {}
    return {
        (email_id, language): (subject, body_html)
        for email_id, language, subject, body_html in db.session.execute(
            sa.select(T.email_id, T.language, T.subject, T.body_html).where(among(T.email_id, email_ids))
        )
    }


def text_in(email, language, studio_language, translations=None):
    """(subject, body_html) of ``email`` in ``language``: its translation when there is one,
    else its own text (the studio's language). ``translations``: as ``translations_of`` gives
    them, when the caller has read them for many emails; else the one row is read."""
    if language != studio_language:
        if translations is not None:
            found = translations.get((email.id, language))
        else:
            row = db.session.get(T, (email.id, language)) if email.id is not None else None
            found = (row.subject, row.body_html) if row is not None else None
        if found is not None:
            return found
    return email.subject, email.body_html


def email_translations(email):
    """{language: translation row} of ``email`` (empty for a new one)."""
    if email is None or email.id is None:
        return {}
    return {row.language: row for row in db.session.scalars(sa.select(T).where(T.email_id == email.id))}


def translated_languages(email_ids):
    """{email id: [languages it is translated into]} (one query)."""
    found = {}
    if not email_ids:
        return found
    for email_id, language in db.session.execute(
        sa.select(T.email_id, T.language).where(T.email_id.in_(list(email_ids))).order_by(T.language)
    ):
        found.setdefault(email_id, []).append(language)
    return found


def save_translations(email, texts, now, sms_texts=None):
    """Store ``texts`` ({language: (subject, body_html)}) of a saved ``email`` and its text
    messages (``sms_texts``: {language: text}, empty: the email's own): a language whose
    subject and message are both empty has no translation (its clients get the email's own
    text). Bodies are sanitized."""
    existing = email_translations(email)
    sms_texts = sms_texts or {}
    for language, (subject, body_html) in texts.items():
        row = existing.get(language)
        if not (subject or "").strip() and not has_text(body_html):
            if row is not None:
                db.session.delete(row)
            continue
        if row is None:
            row = T(email_id=email.id, language=language)
            db.session.add(row)
        row.subject, row.body_html = subject.strip(), sanitize_body(body_html)
        row.sms_body = plain_text(sms_texts.get(language)) or None
        row.updated_at = now
    db.session.flush()


def plain_text(text):
    """A text message as typed, with the line ends browsers send (CR LF) as plain LF."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def has_text(body_html):
    """Whether a message from the editor says anything (an empty editor sends "<p><br></p>")."""
    return (body_html or "").strip() not in ("", "<p><br></p>", "<p></p>")


def delete_translation(email, language, now):
    """Revert ``email`` in ``language`` to the studio's text; False when it had no translation."""
    row = db.session.get(T, (email.id, language))
    if row is None:
        return False
    db.session.delete(row)
    email.updated_at = email.workflow.updated_at = now
    db.session.flush()
    return True


def copy_translations(source_ids_to_copies, now):
    """Give each copy (``{source email id: copy email}``, copies flushed) its source's
    translations."""
    if not source_ids_to_copies:
        return
    for row in db.session.scalars(sa.select(T).where(T.email_id.in_(list(source_ids_to_copies)))):
        db.session.add(
            T(
                email_id=source_ids_to_copies[row.email_id].id,
                language=row.language,
                subject=row.subject,
                body_html=row.body_html,
                sms_body=row.sms_body,
                updated_at=now,
            )
        )
    db.session.flush()
