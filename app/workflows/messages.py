"""The outbox rows of a due occurrence: one rendered message per recipient.

What every message of one workflow email in one language shares is worked out once per tick
(``_plan``), and for a gallery-wide occurrence what its recipients share once per gallery
(``_gallery_part``), so that per recipient only the values, the substitution and the row remain.
"""

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale

from app.mailing.models import MailKind
from app.mailing.outbox import address_of, message_base, message_row
from app.workflows.audience import occurrence_promotion
from app.workflows.due import catch_up_window
from app.workflows.models import OccurrenceKind
from app.workflows.rendering import branding_of, personalize, prepare, share
from app.workflows.translations import text_in
from app.workflows.variables import LOCALE_VARIABLES, RECIPIENT_VARIABLES, recipient_values

K = OccurrenceKind


def dedup_key(email_id, kind, occurrence_id, client_id):
    """One message per (workflow email, occurrence, recipient), whatever runs the tick."""
    return f"wf{email_id}:{kind}{occurrence_id}:c{client_id}"


@dataclass(frozen=True)
class _Part:
    """How a message of a workflow email is filled: its templates (None: the email's own) and
    the variables left to compute for each recipient."""

    templates: tuple | None
    own_variables: tuple
    own_in_language: bool  # some of those are written in the recipient's language


@dataclass(frozen=True)
class _EmailPlan:
    """What every message of one workflow email in one language shares: worked out once per
    tick, so that per recipient only the values, the substitution and the row remain."""

    prepared: object
    whole: _Part  # every variable per recipient
    row_base: dict  # outbox.message_base: what every row of this email shares
    unsubscribe_mailto: str
    catch_up: timedelta


# Speed: cached per (email, language, gallery: its cover heads the mail) for the tick, so per
# recipient only values and the row remain.
def _plan(email, studio, gallery, language, context, now):
    key = (email.id, language, gallery.id)
    plan = context.plans.get(key)
    if plan is None:
        subject, body_html = text_in(email, language, studio.language, context.translations)
        prepared = prepare(subject, body_html, language, branding_of(studio, gallery))
        row_base = message_base(
            kind=MailKind.CAMPAIGN,
            studio_id=studio.id,
            sender=context.senders[studio.id].sender,
            now=now,
            reply_to=context.senders[studio.id].reply_to,
            source=f"workflow_email:{email.id}",
        )
        whole = _Part(None, prepared.variables, bool(LOCALE_VARIABLES.intersection(prepared.variables)))
        plan = context.plans[key] = _EmailPlan(
            prepared,
            whole,
            row_base,
            f"<mailto:{unsubscribe_mailbox()}?subject=unsubscribe>",
            catch_up_window(),
        )
    return plan


# Speed: what a gallery-wide occurrence's recipients share is filled in once, not per recipient.
def _gallery_part(plan, email, gallery, studio, language, promotion, context):
    """The part of a gallery-wide occurrence (a sale start, a promotion's end...): the values
    its recipients share (the gallery's title and dates, the studio's name) filled in once.
    A registration, an order or a cart has one recipient: nothing to share, and preparing the
    part would cost more than filling the whole email."""
    key = (email.id, language, gallery.id, promotion.id if promotion else None)
    part = context.gallery_parts.get(key)
    if part is None:
        variables = plan.prepared.variables
        with force_locale(language) if plan.whole.own_in_language else nullcontext():
            shared = recipient_values(
                [name for name in variables if name not in RECIPIENT_VARIABLES],
                studio=studio,
                gallery=gallery,
                client=None,
                language=language,
                promotion=promotion,
                links=context.links,
            )
        own = tuple(name for name in variables if name in RECIPIENT_VARIABLES)
        part = context.gallery_parts[key] = _Part(
            share(plan.prepared, shared), own, bool(LOCALE_VARIABLES.intersection(own))
        )
    return part


def _message_row(occurrence, email, client, context, now):
    gallery = context.galleries[occurrence.gallery_id]
    studio = context.studios[gallery.studio_id]
    language = client.language if client.language in context.languages[studio.id] else studio.language
    plan = _plan(email, studio, gallery, language, context, now)
    promotion = occurrence_promotion(occurrence, context)
    part = (
        plan.whole
        if occurrence.client_id is not None
        else _gallery_part(plan, email, gallery, studio, language, promotion, context)
    )
    # Speed: switching the locale costs more than the rest of a message; only dates and amounts need it.
    with force_locale(language) if part.own_in_language else nullcontext():
        values = recipient_values(
            part.own_variables,
            studio=studio,
            gallery=gallery,
            client=client,
            language=language,
            promotion=promotion,
            order=context.orders.get(occurrence.occurrence_id) if occurrence.kind == K.ORDER else None,
            cart_total_minor=_cart_total(occurrence, context),
            links=context.links,
        )
    subject, html, text = personalize(plan.prepared, values, part.templates)
    unsubscribe = values.get("unsubscribe_link") or context.links.unsubscribe(studio.id, client.email)
    headers = {
        "X-Proofsheet-Studio": str(studio.id),
        "List-Unsubscribe": f"<{unsubscribe}>, {plan.unsubscribe_mailto}",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return message_row(
        plan.row_base,
        recipient=client.email,
        recipient_name=client.name,
        subject=subject,
        html=html,
        text=text,
        headers=headers,
        dedup_key=dedup_key(email.id, occurrence.kind, occurrence.occurrence_id, client.id),
        gallery_id=gallery.id,
        expires_at=occurrence.due_at + plan.catch_up,
    )


def _cart_total(occurrence, context):
    cart = context.carts.get(occurrence.occurrence_id) if occurrence.kind == K.CART else None
    return cart.total_minor if cart is not None else None


def unsubscribe_mailbox():
    return address_of(current_app.config["MAIL_DEFAULT_SENDER"])
