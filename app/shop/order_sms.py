"""Order texts (SMS): an order event may text the client as well as email them.

Per event the studio chooses never / always (whenever a mobile number is known) / when the
client agreed to texts (``Client.sms_consent_at``). The number is the one typed at checkout,
else the client's. The team never gets texts.

Each event has a short standard text per language (gettext, %variables% written ``%(name)s``);
a studio may write its own, language by language (``OrderSmsWording``). A text is queued in the
SMS outbox in the same transaction as the event's emails, under a key that makes an event
handled twice queue one text, and sent with the emails once the request has committed
(``notifications.send_queued``). Texts are never held for review: the review queue edits
emails (subject, rich text, attachments); a text is short and final, so it goes straight away.
"""

import sqlalchemy as sa
from flask import g
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.i18n import with_variables
from app.mailing.placeholders import PLACEHOLDER, substitute
from app.shop.models import OrderSmsWording
from app.shop.order_email_content import (
    ALWAYS,
    NEVER,
    REQUESTED,
    VARIABLES,
    email_language,
    one_line,
    order_values,
)
from app.sms.models import SmsMessage, SmsState
from app.sms.outbox import queue_sms
from app.sms.phone import PhoneRefused, default_region, normalize_phone
from app.sms.segments import count_segments

SMS_MODE_LABELS = {
    NEVER: _l("No text"),
    ALWAYS: _l("Always (when we have a mobile number)"),
    REQUESTED: _l("When the client agreed to texts"),
}

# Three segments: 459 GSM characters, 201 with an emoji or a non-Latin letter. Longer texts
# cost the studio more and some phones show them in pieces.
MAX_SEGMENTS = 3

STANDARD_TEXTS = {
    "placed": _l(
        "%(studio_name)s: thank you for your order %(order_number)s (%(order_total)s). "
        "Follow it here: %(order_link)s"
    ),
    "paid": _l(
        "%(studio_name)s: we received your payment for order %(order_number)s. We are preparing it now."
    ),
    "in_production": _l("%(studio_name)s: your order %(order_number)s is in production."),
    "shipped": _l("%(studio_name)s: your order %(order_number)s has shipped. Track it: %(tracking_link)s"),
    "ready_for_pickup": _l(
        "%(studio_name)s: your order %(order_number)s is ready. You can pick it up at the studio."
    ),
    "delivered": _l("%(studio_name)s: your order %(order_number)s was delivered. Enjoy your photos!"),
    "cancelled": _l("%(studio_name)s: your order %(order_number)s was cancelled: %(reason)s"),
    "delivery_changed": _l(
        "%(studio_name)s: your order %(order_number)s is now expected on %(expected_delivery)s. "
        "%(order_link)s"
    ),
    "refunded": _l("%(studio_name)s: we refunded %(refund_amount)s of your order %(order_number)s."),
    "download_ready": _l(
        "%(studio_name)s: your photos from order %(order_number)s are ready to download: %(download_link)s"
    ),
}

# The order emails' variables that fit in a text (not the items table, the client's own
# address or the payment instructions, which are paragraphs).
SMS_VARIABLES = [
    variable
    for variable in VARIABLES
    if variable.name not in {"order_items", "client_email", "payment_instructions"}
]
SMS_VARIABLE_NAMES = frozenset(variable.name for variable in SMS_VARIABLES)

STATE_LABELS = {
    SmsState.QUEUED: _l("Waiting to be sent"),
    SmsState.SENDING: _l("Being sent"),
    SmsState.SENT: _l("Sent"),
    SmsState.FAILED: _l("Failed"),
    SmsState.SKIPPED: _l("Not sent"),
    SmsState.UNKNOWN: _l("In doubt"),
}


# ------------------------------------------------------------------ wording


def standard_text(event):
    """The standard text of ``event`` in the current locale (``force_locale``)."""
    return with_variables(STANDARD_TEXTS[event])


def stored_text(studio_id, event, language):
    """The studio's own text of ``event`` in ``language`` (an ``OrderSmsWording``), or None."""
    return db.session.get(OrderSmsWording, (studio_id, event, language))


def text_for(studio_id, event, language):
    """The text template of ``event`` in ``language``: the studio's own, else the standard one."""
    row = stored_text(studio_id, event, language)
    if row is not None:
        return row.body
    with force_locale(language):
        return standard_text(event)


def clean_text(body):
    """A text as it is kept: no spaces around it, line breaks as the phone shows them."""
    return "\n".join(line.rstrip() for line in (body or "").strip().replace("\r\n", "\n").split("\n"))


def save_text(studio_id, event, language, body):
    """Keep the studio's text of ``event`` in ``language``; the standard text of that language
    is not stored (so a later improvement of it reaches the studio). Flushes."""
    body = clean_text(body)
    with force_locale(language):
        standard = standard_text(event)
    row = stored_text(studio_id, event, language)
    if one_line(body) == one_line(standard):
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(OrderSmsWording(studio_id=studio_id, event=event, language=language, body=body))
    else:
        row.body = body
    db.session.flush()


def revert_text(studio_id, event, language):
    """Back to the standard text of ``event`` in ``language``. Flushes."""
    row = stored_text(studio_id, event, language)
    if row is not None:
        db.session.delete(row)
        db.session.flush()


def customised_text_languages(studio_id):
    """event -> the languages the studio wrote its own text in."""
    languages: dict[str, set[str]] = {}
    for event, language in db.session.execute(
        sa.select(OrderSmsWording.event, OrderSmsWording.language).where(
            OrderSmsWording.studio_id == studio_id
        )
    ):
        languages.setdefault(event, set()).add(language)
    return languages


def unknown_variables(body):
    """The %names% in ``body`` that a text cannot fill, sorted."""
    return sorted(set(PLACEHOLDER.findall(body or "")) - SMS_VARIABLE_NAMES)


def fill_text(template, values):
    """``template`` with its variables filled: plain text, each value on one line."""
    sms_values = {name: one_line(values[name]) for name in SMS_VARIABLE_NAMES if name in values}
    return clean_text(substitute(template, sms_values, html=False))


# ------------------------------------------------------------------ who gets a text


def order_phone(order, studio):
    """The number to text about ``order`` in E.164: the one typed at checkout, else the
    client's; None when neither is a mobile number (orders placed before numbers were checked
    may hold free text)."""
    region = default_region(studio)
    for candidate in (order.contact_phone, order.client.phone if order.client is not None else None):
        if not candidate:
            continue
        try:
            return normalize_phone(candidate, region)
        except PhoneRefused:
            continue
    return None


def wants_text(sms_mode, order):
    """Whether ``sms_mode`` texts the client of ``order`` (given a number)."""
    if sms_mode == ALWAYS:
        return True
    consented = order.client is not None and order.client.sms_consent_at is not None
    return sms_mode == REQUESTED and consented


def queue_order_text(order, studio, event, sms_mode, now, reason=None, refund_minor=None, occurrence=None):
    """Queue this event's text to the client of ``order`` when ``sms_mode`` asks for one and a
    number is known; flushes and returns the text's id, or None.

    ``occurrence`` tells apart events that may happen again to one order (a second refund, a
    new delivery date): each gets its text, while the same one handled twice gets one."""
    if sms_mode not in (ALWAYS, REQUESTED) or event not in STANDARD_TEXTS or not wants_text(sms_mode, order):
        return None
    phone = order_phone(order, studio)
    if phone is None:
        return None
    language = email_language(order, studio)
    with force_locale(language):
        values = order_values(order, studio, language, reason, refund_minor)
    body = fill_text(text_for(studio.id, event, language), values)
    if not body:
        return None
    key = f"order:{order.id}:{event}:{phone}" + (f":{occurrence}" if occurrence else "")
    text_id = queue_sms(
        studio_id=studio.id,
        kind="notification",
        recipient=phone,
        body=body,
        now=now,
        dedup_key=key,
        source=f"order:{order.id}:{event}",
    )
    if text_id is not None:
        g.setdefault("order_sms_ids", []).append(text_id)
    return text_id


def texts_of(order):
    """The texts queued for ``order``, oldest first."""
    sources = [f"order:{order.id}:{event}" for event in STANDARD_TEXTS]
    return db.session.scalars(
        sa.select(SmsMessage)
        .where(SmsMessage.studio_id == order.studio_id, SmsMessage.source.in_(sources))
        .order_by(SmsMessage.created_at, SmsMessage.id)
    ).all()


def segments_with(body, values):
    """The ``SegmentCount`` of ``body`` filled with ``values``."""
    return count_segments(fill_text(body, values))
