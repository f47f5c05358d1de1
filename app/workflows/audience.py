"""Who receives a due occurrence, read at the moment it is queued.

``_load_context`` reads what a batch of due occurrences needs (emails, galleries, studios,
clients, orders, suppressions...) in a few set-based queries; ``gallery_takes_campaigns`` and
``_audience`` then judge each occurrence against that context without further queries.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa

from app.accounts.models import Studio
from app.database import among
from app.extensions import db
from app.galleries.models import Client, Gallery, GalleryStatus, Registration
from app.mailing.identity import studio_identities
from app.mailing.models import Suppression
from app.shop.models import Order, OrderItem, OrderStatus, Promotion
from app.workflows.models import (
    OccurrenceKind,
    Purpose,
    RecipientFilter,
    Trigger,
    WorkflowEmail,
)
from app.workflows.translations import client_languages, translations_of
from app.workflows.values import Links, cart_states, running_promotions
from app.workflows.variables import PROMOTION_VARIABLES, variables_in

K = OccurrenceKind


# Speed: plain rows, not ORM objects: loading thousands of those would cost more than the messages.
CLIENT_COLUMNS = (
    Client.id,
    Client.studio_id,
    Client.email,
    Client.name,
    Client.language,
    Client.marketing_consent,
)


GALLERY_COLUMNS = (
    Gallery.id,
    Gallery.studio_id,
    Gallery.title,
    Gallery.status,
    Gallery.sale_starts_at,
    Gallery.sale_ends_at,
    Gallery.archives_at,
    Gallery.is_qr,
)


class GalleryRow(NamedTuple):
    """What a message and the conditions at due time read of a gallery (thousands per tick)."""

    id: int
    studio_id: int
    title: str
    status: str
    sale_starts_at: object
    sale_ends_at: object
    archives_at: object
    is_qr: bool  # its cover may be a child's photo, never shown on every family's mail


class ClientRow(NamedTuple):
    id: int
    studio_id: int
    email: str
    name: str
    language: str | None
    marketing_consent: bool


def gallery_takes_campaigns(gallery, trigger, now):
    """Campaign mail goes to published galleries that are not archived; the archiving trigger
    itself still speaks about an archived gallery."""
    if trigger == Trigger.ARCHIVE:
        return gallery.status in (GalleryStatus.PUBLISHED, GalleryStatus.ARCHIVED)
    archived = gallery.status == GalleryStatus.ARCHIVED or (
        gallery.archives_at is not None and gallery.archives_at <= now
    )
    return gallery.status == GalleryStatus.PUBLISHED and not archived


def _gallery_registrants(gallery_ids):
    """{gallery_id: [(client row, registered_at)]} for the given galleries."""
    grouped = defaultdict(list)
    if not gallery_ids:
        return grouped
    rows = db.session.execute(
        sa.select(Registration.gallery_id, Registration.registered_at, *CLIENT_COLUMNS)
        .join(Client, Client.id == Registration.client_id)
        .where(among(Registration.gallery_id, gallery_ids))
    )
    for gallery_id, registered_at, *client in rows:
        grouped[gallery_id].append((ClientRow(*client), registered_at))
    return grouped


def _clients(client_ids):
    if not client_ids:
        return {}
    return {
        row.id: ClientRow(*row)
        for row in db.session.execute(sa.select(*CLIENT_COLUMNS).where(among(Client.id, client_ids)))
    }


def _ordered_pairs(client_ids, now):
    """{(client_id, gallery_id)} with a non-cancelled order placed by ``now``."""
    if not client_ids:
        return set()
    return set(
        db.session.execute(
            sa.select(Order.client_id, OrderItem.gallery_id)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .where(
                among(Order.client_id, client_ids),
                Order.status != OrderStatus.CANCELLED,
                Order.placed_at <= now,
            )
            .distinct()
        ).all()
    )


def _suppressed(studio_ids, clients):
    """{(studio id, address)} of these clients that get no more campaign mail: read for the
    tick's recipients only, not every address the studios ever suppressed."""
    addresses = {client.email.lower() for client in clients}
    if not studio_ids or not addresses:
        return set()
    return set(
        db.session.execute(
            sa.select(Suppression.studio_id, Suppression.email).where(
                Suppression.studio_id.in_(list(studio_ids)), among(Suppression.email, addresses)
            )
        )
    )


def _passes_filter(recipient_filter, client_id, gallery_id, ordered):
    if recipient_filter == RecipientFilter.ORDERED:
        return (client_id, gallery_id) in ordered
    if recipient_filter == RecipientFilter.NOT_ORDERED:
        return (client_id, gallery_id) not in ordered
    return True


@dataclass
class _Context:
    emails: dict
    galleries: dict
    studios: dict
    promotions: dict
    orders: dict
    registrants: dict
    clients: dict
    ordered: set
    suppressed: set
    senders: dict  # studio id: mailing.identity.SenderIdentity
    running: dict  # (gallery id, due time): the promotion running then
    carts: dict  # cart id: values.CartState
    # (email id, language): (subject, body_html), read for the batch (translations_of)
    translations: dict = field(default_factory=dict)
    languages: dict = field(default_factory=dict)  # studio id: the client languages it offers
    plans: dict = field(default_factory=dict)  # (email id, language): _EmailPlan
    gallery_parts: dict = field(default_factory=dict)  # see _gallery_part
    links: Links = field(default_factory=Links)


# Speed: one set-based query per kind of row for the whole batch, never one per occurrence.
def _load_context(due, now):
    emails = {
        email.id: email
        for email in db.session.scalars(
            sa.select(WorkflowEmail).where(among(WorkflowEmail.id, {d.email_id for d in due}))
        )
    }
    galleries = {
        row.id: GalleryRow(*row)
        for row in db.session.execute(
            sa.select(*GALLERY_COLUMNS).where(among(Gallery.id, {d.gallery_id for d in due}))
        )
    }
    studios = {
        studio.id: studio
        for studio in db.session.scalars(
            sa.select(Studio).where(among(Studio.id, {g.studio_id for g in galleries.values()}))
        )
    }
    promotion_ids = {d.occurrence_id for d in due if d.kind == K.PROMOTION}
    promotions = (
        {p.id: p for p in db.session.scalars(sa.select(Promotion).where(among(Promotion.id, promotion_ids)))}
        if promotion_ids
        else {}
    )
    order_ids = {d.occurrence_id for d in due if d.kind == K.ORDER}
    orders = (
        {o.id: o for o in db.session.scalars(sa.select(Order).where(among(Order.id, order_ids)))}
        if order_ids
        else {}
    )
    wide = {d.gallery_id for d in due if d.client_id is None}
    registrants = _gallery_registrants(wide)
    clients = _clients({d.client_id for d in due if d.client_id is not None})
    senders = studio_identities(studios)
    carts = cart_states({d.occurrence_id for d in due if d.kind == K.CART})
    translations = translations_of(set(emails))
    return _Context(
        emails,
        galleries,
        studios,
        promotions,
        orders,
        registrants,
        clients,
        _ordered_pairs(_filtered_clients(due, emails, registrants), now),
        _suppressed(set(studios), _all_clients(clients, registrants)),
        senders,
        running_promotions(_promotion_moments(due, emails, translations)),
        carts,
        translations,
        {studio.id: frozenset(client_languages(studio)) for studio in studios.values()},
    )


def _promotion_moments(due, emails, translations):
    """The (gallery, due time) pairs whose running promotion an email names (in any of its
    languages); a promotion's own expiry email names the promotion ending instead."""
    texts = defaultdict(str)
    for (email_id, _language), (subject, body_html) in translations.items():
        texts[email_id] += subject + body_html
    naming = {
        email_id
        for email_id, email in emails.items()
        if email.trigger != Trigger.PROMOTION_EXPIRY
        and PROMOTION_VARIABLES.intersection(variables_in(email.subject + email.body_html + texts[email_id]))
    }
    return {(d.gallery_id, d.due_at) for d in due if d.email_id in naming}


def occurrence_promotion(occurrence, context):
    """The promotion an occurrence's %promotion_...% variables name: the one ending (promotion
    expiry) or the one running in its gallery at its due time."""
    if occurrence.kind == K.PROMOTION:
        return context.promotions.get(occurrence.occurrence_id)
    return context.running.get((occurrence.gallery_id, occurrence.due_at))


def _filtered_clients(due, emails, registrants):
    """The clients whose orders matter: those of emails sent to clients who ordered (or not)."""
    filtering = {
        email_id for email_id, email in emails.items() if email.recipient_filter != RecipientFilter.ALL
    }
    filtered = [d for d in due if d.email_id in filtering] if filtering else []
    found = {d.client_id for d in filtered if d.client_id is not None}
    for gallery_id in {d.gallery_id for d in filtered if d.client_id is None}:
        found.update(client.id for client, _registered in registrants.get(gallery_id, ()))
    return found


def _all_clients(clients, registrants):
    yield from clients.values()
    for registered in registrants.values():
        for client, _registered_at in registered:
            yield client


def _audience(occurrence, email, context, manual=False):
    """(The clients this occurrence goes to now, how many were left out for want of consent):
    the gallery's clients registered by the due time (or, sent on purpose later, registered
    now), after the filter and suppressions; a marketing email only to those who consented to
    news and offers. The filter is read now, when the message is queued."""
    gallery = context.galleries[occurrence.gallery_id]
    if occurrence.client_id is None:
        candidates = [
            client
            for client, registered_at in context.registrants.get(gallery.id, [])
            if manual or registered_at <= occurrence.due_at
        ]
    else:
        candidates = [context.clients[occurrence.client_id]]
    recipient_filter, suppressed = email.recipient_filter, context.suppressed
    chosen = [
        client
        for client in candidates
        if (
            recipient_filter == RecipientFilter.ALL
            or _passes_filter(recipient_filter, client.id, gallery.id, context.ordered)
        )
        and not (suppressed and (gallery.studio_id, client.email.lower()) in suppressed)
    ]
    if email.purpose == Purpose.SERVICE:
        return chosen, 0
    consenting = [client for client in chosen if client.marketing_consent]
    return consenting, len(chosen) - len(consenting)
