"""QR cards of a gallery, for the photographer: create, import, assign photos, print."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from markupsafe import Markup

from app import timeutil
from app.database import get_owned_or_404
from app.extensions import db
from app.galleries import admin_bp, branding, card_import, card_matching, images, services
from app.galleries import cards as card_service
from app.galleries.card_forms import CreateCardsForm, ImportCardsForm, PrintCardsForm
from app.galleries.models import AccessCard, CardClaim, Gallery, Photo, card_photo
from app.sms.phone import default_region
from app.urls import external_url

MAX_IMPORT_BYTES = 1024 * 1024


def _gallery_or_404(gallery_id):
    return get_owned_or_404(Gallery, gallery_id, current_user.studio_id)


def _card_or_404(gallery_id, card_id):
    card = get_owned_or_404(AccessCard, card_id, current_user.studio_id)
    if card.gallery_id != gallery_id:
        abort(404)
    return card


def _card_stats(gallery):
    photos = dict(
        db.session.execute(
            sa.select(card_photo.c.card_id, sa.func.count())
            .join(AccessCard, AccessCard.id == card_photo.c.card_id)
            .where(AccessCard.gallery_id == gallery.id)
            .group_by(card_photo.c.card_id)
        ).all()
    )
    claims = dict(
        db.session.execute(
            sa.select(CardClaim.card_id, sa.func.count())
            .join(AccessCard, AccessCard.id == CardClaim.card_id)
            .where(AccessCard.gallery_id == gallery.id)
            .group_by(CardClaim.card_id)
        ).all()
    )
    return photos, claims


@admin_bp.route("/<int:gallery_id>/cards", methods=["GET", "POST"])
@login_required
def cards(gallery_id):
    """A QR gallery's cards: create several at once, import labels from a CSV."""
    gallery = _gallery_or_404(gallery_id)
    create_form = CreateCardsForm(prefix="create")
    import_form = ImportCardsForm(prefix="import")
    if request.method == "POST":
        created = (
            _create(gallery, create_form) if "create-count" in request.form else _import(gallery, import_form)
        )
        if created:
            return redirect(url_for(".cards", gallery_id=gallery.id))
    photo_counts, claim_counts = _card_stats(gallery)
    return render_template(
        "galleries/cards/index.html",
        gallery=gallery,
        cards=gallery.cards,
        create_form=create_form,
        import_form=import_form,
        photo_counts=photo_counts,
        claim_counts=claim_counts,
        display_code=card_service.display_code,
        sale_start_problem=sale_start_problem(gallery),
    )


def _create(gallery, form):
    if not form.validate():
        return False
    labels = card_service.numbered_labels(form.count.data, form.prefix.data)
    card_service.create_cards(gallery, labels, timeutil.now())
    db.session.commit()
    flash(ngettext("%(num)d card created.", "%(num)d cards created.", len(labels)), "success")
    return True


def _import(gallery, form):
    """Cards from a class list; its parents' emails pre-register them (card_import.py)."""
    if not form.validate():
        return False
    data = form.file.data.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        form.file.errors = [_("The file is larger than 1 MB: is it really a list of labels?")]
        return False
    studio = current_user.studio
    try:
        rows = card_import.rows_from_csv(data, default_region(studio))
    except card_import.CardImportError as error:
        form.file.errors = error.problems
        return False
    cards, parents = card_import.import_cards(
        gallery, studio, rows, timeutil.now(), register=form.notify.data
    )
    db.session.commit()
    flash(ngettext("%(num)d card imported.", "%(num)d cards imported.", len(cards)), "success")
    if parents:
        flash(_parents_message(gallery, parents, form.notify.data), "success")
    return True


def _parents_message(gallery, parents, registered):
    if not registered:
        return ngettext(
            "%(num)d parent holds their child’s card; no email from this gallery until they sign in.",
            "%(num)d parents hold their child’s card; no email from this gallery until they sign in.",
            parents,
        )
    message = ngettext(
        "%(num)d parent registered to this gallery with their child’s card.",
        "%(num)d parents registered to this gallery with their children’s cards.",
        parents,
    )
    problem = sale_start_problem(gallery)
    return f"{message} {problem}" if problem else message


def sale_start_problem(gallery):
    """Why registered parents would not get an email when the sale starts, or None."""
    from app.workflows.models import Purpose, Trigger  # noqa: PLC0415 (the gallery's emails)
    from app.workflows.services import gallery_workflow  # noqa: PLC0415

    if gallery.sale_starts_at is None:
        return _(
            "The gallery has no sale start date yet: set one, or no “your photos are ready” email goes out."
        )
    workflow = gallery_workflow(gallery.id)
    if workflow is None:
        return _(
            "This gallery sends no emails: choose a workflow with an email at the sale start in its Emails."
        )
    starts = [email for email in workflow.emails if email.trigger == Trigger.SALE_START]
    if not starts:
        return _(
            "The gallery’s workflow “%(title)s” has no email at the sale start: add one in Workflows.",
            title=workflow.title,
        )
    if all(email.purpose == Purpose.MARKETING for email in starts):
        return _(
            "The workflow’s sale-start email is a marketing email: parents from a list have not agreed to"
            " news and offers, so it would not reach them. Make it a service email in Workflows."
        )
    return None


@admin_bp.route("/<int:gallery_id>/cards/<int:card_id>", methods=["GET", "POST"])
@login_required
def card_detail(gallery_id, card_id):
    """One card: choose its photos among the gallery's."""
    gallery = _gallery_or_404(gallery_id)
    card = _card_or_404(gallery.id, card_id)
    if request.method == "POST":
        ids = [int(value) for value in request.form.getlist("photo_ids") if value.isdigit()]
        count = card_service.assign_photos(card, ids)
        db.session.commit()
        flash(ngettext("%(num)d photo on this card.", "%(num)d photos on this card.", count), "success")
        return redirect(url_for(".card_detail", gallery_id=gallery.id, card_id=card.id))
    return render_template(
        "galleries/cards/detail.html",
        gallery=gallery,
        card=card,
        chosen={photo.id for photo in card.photos},
        display_code=card_service.display_code,
        card_url=external_url("galleries_public.card", code=card.code),
    )


@admin_bp.post("/<int:gallery_id>/cards/<int:card_id>/delete")
@login_required
def delete_card(gallery_id, card_id):
    """Delete a card: its photos stay in the gallery, the photos of the printed card itself go
    with it (once the card is gone nothing would keep them from the clients)."""
    card = _card_or_404(_gallery_or_404(gallery_id).id, card_id)
    label = card.label
    shots = db.session.scalars(sa.select(Photo).where(Photo.card_shot_of_id == card.id)).all()
    paths = [path for shot in shots for path in services.delete_photo(shot)]
    db.session.delete(card)
    db.session.commit()
    images.remove_files(paths)
    flash(_("Card “%(label)s” deleted.", label=label), "success")
    return redirect(url_for(".cards", gallery_id=gallery_id))


@admin_bp.get("/<int:gallery_id>/cards/print")
@login_required
def print_cards(gallery_id):
    """A sheet of cards to print: the studio's logo and accent, QR code, code, label, short
    instructions, optionally the child's first photo, and a consent slip to tear off."""
    gallery = _gallery_or_404(gallery_id)
    form = PrintCardsForm(request.args, meta={"csrf": False})
    paper = "letter" if form.paper.data == "letter" else "a4"
    first_photos = card_matching.first_photos(gallery) if form.photo.data else {}
    sheet = [
        (
            card,
            Markup(card_service.qr_svg(external_url("galleries_public.card", code=card.code))),
            first_photos.get(card.id),
        )
        for card in gallery.cards
    ]
    studio = current_user.studio
    return render_template(
        "galleries/cards/print.html",
        gallery=gallery,
        studio=studio,
        brand=branding.email_brand(studio),
        sheet=sheet,
        paper=paper,
        form=form,
        entry_url=external_url("galleries_public.enter_code"),
        display_code=card_service.display_code,
    )


@admin_bp.get("/<int:gallery_id>/cards/<int:card_id>/qr.svg")
@login_required
def card_qr(gallery_id, card_id):
    """One card's QR code as an SVG file."""
    card = _card_or_404(_gallery_or_404(gallery_id).id, card_id)
    svg = card_service.qr_svg(external_url("galleries_public.card", code=card.code))
    return (
        svg,
        200,
        {"Content-Type": "image/svg+xml", "Content-Disposition": f'inline; filename="card-{card.code}.svg"'},
    )
