"""Preview and test sends: the email as a client will receive it, through the real rendering and
(for a test) the real outbox path.

The values come from the same registry (``variables.REGISTRY``) and the same loaders
(``values.running_promotions``, ``values.cart_states``) as the tick's, for the occurrence a real
send to the previewed client would have: their registration, latest order or cart in the
gallery, the gallery's dates, its latest promotion; a promotion variable names the promotion
running at that occurrence's due time (the one ending, for promotion expiry). A variable the
email's trigger does not offer (an order number in a sale-start email) renders empty in real
mail: the preview shows its sample and lists it in ``sampled`` and ``not_offered`` (the
builder warns about it).
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import force_locale

from app.extensions import db
from app.galleries.models import Client, Gallery, Registration
from app.shop.models import Cart, Order, OrderStatus, Promotion
from app.sms.segments import SegmentCount, count_segments
from app.workflows.models import GalleryWorkflow, Trigger
from app.workflows.rendering import branding_of, personalize, prepare
from app.workflows.schedule import due_at
from app.workflows.sms import sms_text_in, sms_translations_of, with_stop_line
from app.workflows.translations import recipient_language, text_in
from app.workflows.values import cart_states, running_promotions
from app.workflows.variables import (
    REGISTRY,
    is_offered,
    recipient_values,
    sample_values,
    substitute,
    variables_in,
)

# Variables computed from the gallery alone, usable when it has no registered client yet.
GALLERY_VARIABLES = frozenset(name for name, variable in REGISTRY.items() if not variable.per_recipient)


@dataclass
class Preview:
    """A rendered email and where its values came from."""

    subject: str
    html: str
    text: str
    gallery: Gallery | None = None
    client: Client | None = None
    sampled: list = field(default_factory=list)  # variables the email uses, filled with samples
    not_offered: list = field(default_factory=list)  # used, but empty in real mail (trigger)
    language: str = ""  # the language it is written in

    @property
    def real(self):
        return self.client is not None


def sample_gallery(workflow, gallery=None):
    """``gallery``, else the first gallery using ``workflow``, else the studio's newest."""
    return (
        gallery
        or db.session.scalar(
            sa.select(Gallery)
            .join(GalleryWorkflow, GalleryWorkflow.gallery_id == Gallery.id)
            .where(GalleryWorkflow.workflow_id == workflow.id)
            .order_by(Gallery.id)
            .limit(1)
        )
        or db.session.scalar(
            sa.select(Gallery)
            .where(Gallery.studio_id == workflow.studio_id)
            .order_by(Gallery.created_at.desc(), Gallery.id.desc())
            .limit(1)
        )
    )


def sample_recipient(workflow, gallery=None):
    """A real gallery (``sample_gallery``) and its first registered client."""
    gallery = sample_gallery(workflow, gallery)
    if gallery is None:
        return None, None
    client = db.session.scalar(
        sa.select(Client)
        .join(Registration, Registration.client_id == Client.id)
        .where(Registration.gallery_id == gallery.id)
        .order_by(Registration.registered_at)
        .limit(1)
    )
    return gallery, client


def _latest(query, order_by):
    return db.session.scalar(query.order_by(order_by.desc()).limit(1))


@dataclass
class _Occurrence:
    """What a real send of the email to this client would be about."""

    at: object = None  # its instant (None: the gallery or client has none yet)
    promotion: Promotion | None = None  # promotion expiry: the one ending
    order: Order | None = None
    cart_id: int | None = None


def _gallery_date(trigger, gallery):
    return {
        Trigger.SALE_START: gallery.sale_starts_at,
        Trigger.SALE_END: gallery.sale_ends_at,
        Trigger.ARCHIVE: gallery.archives_at,
    }[trigger]


def _occurrence(trigger, gallery, client):
    """The occurrence the engine would send this email for (its latest one)."""
    trigger = Trigger(trigger)
    if trigger.is_date and trigger != Trigger.PROMOTION_EXPIRY:
        return _Occurrence(_gallery_date(trigger, gallery))
    if trigger == Trigger.PROMOTION_EXPIRY:
        promotion = _latest(
            sa.select(Promotion).where(Promotion.gallery_id == gallery.id, Promotion.removed_at.is_(None)),
            Promotion.ends_at,
        )
        return _Occurrence(promotion.ends_at if promotion else None, promotion=promotion)
    if client is None:
        return _Occurrence()
    if trigger == Trigger.REGISTRATION:
        return _Occurrence(
            db.session.scalar(
                sa.select(Registration.registered_at).where(
                    Registration.gallery_id == gallery.id, Registration.client_id == client.id
                )
            )
        )
    if trigger == Trigger.ORDER:
        order = _latest(
            sa.select(Order).where(
                Order.gallery_id == gallery.id,
                Order.client_id == client.id,
                Order.status != OrderStatus.CANCELLED,
            ),
            Order.placed_at,
        )
        return _Occurrence(order.placed_at if order else None, order=order)
    cart = _latest(
        sa.select(Cart).where(
            Cart.gallery_id == gallery.id, Cart.client_id == client.id, Cart.first_item_at.is_not(None)
        ),
        Cart.first_item_at,
    )
    return _Occurrence(cart.first_item_at if cart else None, cart_id=cart.id if cart else None)


def _occurrence_promotion(email, gallery, occurrence, timezone):
    """As the tick: the promotion ending, or the one running at the due time."""
    if email.trigger == Trigger.PROMOTION_EXPIRY or occurrence.at is None:
        return occurrence.promotion
    moment = due_at(email.rule, email.days, email.send_time, occurrence.at, timezone)
    return running_promotions({(gallery.id, moment)}).get((gallery.id, moment))


def _real_values(email, needed, studio, gallery, client, language):
    """The values a real recipient would get for the occurrence a real send would have; the
    variables the data cannot give yet (no order, no promotion) are left out."""
    occurrence = _occurrence(email.trigger, gallery, client)
    cart = cart_states({occurrence.cart_id}).get(occurrence.cart_id) if occurrence.cart_id else None
    if client is None:
        needed = [name for name in needed if name in GALLERY_VARIABLES]
    with force_locale(language):
        values = recipient_values(
            needed,
            studio=studio,
            gallery=gallery,
            client=client,
            language=language,
            promotion=_occurrence_promotion(email, gallery, occurrence, studio.timezone),
            order=occurrence.order,
            cart_total_minor=cart.total_minor if cart else None,
        )
    return {name: value for name, value in values.items() if value not in ("", None)}


def subject_for(email, studio, gallery, client):
    """``email``'s subject as ``client`` of ``gallery`` would read it (as far as the data can
    tell now): for pages that list what a client will get."""
    language = recipient_language(studio, client.language)
    subject, _body = text_in(email, language, studio.language)
    needed = [name for name in variables_in(subject) if is_offered(name, email.trigger)]
    values = {"studio_name": studio.name, "studio_email": studio.email}
    values |= _real_values(email, needed, studio, gallery, client, language)
    return substitute(subject, values, html=False)


def render_for_preview(email, studio, gallery=None, language=None):
    """The ``email`` of ``studio``'s workflow rendered exactly as campaign mail is (``prepare``
    then ``personalize``), filled from a real gallery and client when the studio has one, with
    sample values for whatever the real data cannot give (no promotion yet, no order...).
    Written in ``language`` (one of the studio's client languages), else in the client's as
    the tick would write to them."""
    gallery, client = sample_recipient(email.workflow, gallery)
    language = language or recipient_language(studio, client.language if client else None)
    prepared = prepare(*text_in(email, language, studio.language), language, branding_of(studio, gallery))
    offered = [name for name in prepared.variables if is_offered(name, email.trigger)]
    not_offered = sorted({name for name in prepared.variables if name in REGISTRY} - set(offered))
    real = _real_values(email, offered, studio, gallery, client, language) if gallery else {}
    values = sample_values() | {"studio_name": studio.name, "studio_email": studio.email} | real
    subject, html, text = personalize(prepared, values)
    sampled = [
        name
        for name in prepared.variables
        if name not in real and name not in ("studio_name", "studio_email")
    ]
    return Preview(subject, html, text, gallery, client, sorted(set(sampled)), not_offered, language)


@dataclass(frozen=True)
class SmsPreview:
    text: str
    count: SegmentCount


def render_sms_for_preview(email, studio, shown):
    """The text message variant of ``email`` as the previewed client (``shown``: the email's
    ``Preview``) would get it, in the same language and from the same data; None when the email
    sends no text."""
    if not email.sms_enabled:
        return None
    body = sms_text_in(email, shown.language, studio.language, sms_translations_of({email.id}))
    offered = [name for name in variables_in(body) if is_offered(name, email.trigger)]
    real = (
        _real_values(email, offered, studio, shown.gallery, shown.client, shown.language)
        if shown.gallery
        else {}
    )
    values = sample_values() | {"studio_name": studio.name, "studio_email": studio.email} | real
    text = with_stop_line(substitute(body, values, html=False), email.purpose, shown.language)
    return SmsPreview(text, count_segments(text))
