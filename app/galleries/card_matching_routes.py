"""The review screen of a QR gallery's school day: the runs of photos after each card photo, the
photos on no card, and the photographer's fixes."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app import timeutil
from app.database import get_owned_or_404
from app.extensions import db
from app.galleries import admin_bp
from app.galleries import card_matching as matching
from app.galleries.card_forms import CardReviewForm, MatchAgainForm
from app.galleries.models import Gallery, Photo


def _gallery_or_404(gallery_id):
    return get_owned_or_404(Gallery, gallery_id, current_user.studio_id)


def _fix_form(gallery, found):
    form = CardReviewForm()
    form.photo_ids.choices = [SelectChoice(shot.id, str(shot.id)) for shot in matching.ordered_shots(gallery)]
    form.card.choices = [SelectChoice("", _("Choose a card…"))] + [
        SelectChoice(str(card.id), card.label) for card in found.cards.values()
    ]
    form.card_photo_ids = {shot.id for shot, _run in found.runs}
    return form


@admin_bp.route("/<int:gallery_id>/cards/review", methods=["GET", "POST"])
@login_required
def review_cards(gallery_id):
    """The runs in the order the photos were taken, each under its card photo; fix them."""
    gallery = _gallery_or_404(gallery_id)
    found = matching.review(gallery)
    form = _fix_form(gallery, found)
    if form.validate_on_submit():
        flash(_apply_fix(gallery, form), "success")
        db.session.commit()
        return redirect(url_for(".review_cards", gallery_id=gallery.id))
    return render_template(
        "galleries/cards/review.html",
        gallery=gallery,
        review=found,
        form=form,
        match_form=MatchAgainForm(),
    )


def _apply_fix(gallery, form):
    """Apply the form's fix; returns the message that says what was done."""
    ids = list(dict.fromkeys(form.photo_ids.data))  # a photo ticked twice is moved once
    card_id, count = form.card_id(), len(ids)
    if form.action.data == form.MOVE:
        matching.move_photos(gallery, ids, card_id)
        label = db.session.get(matching.AccessCard, card_id).label
        return ngettext(
            "%(num)d photo put on “%(card)s”.", "%(num)d photos put on “%(card)s”.", count, card=label
        )
    if form.action.data == form.UNASSIGN:
        matching.move_photos(gallery, ids, None)
        return ngettext("%(num)d photo is on no card now.", "%(num)d photos are on no card now.", count)
    photos = [db.session.get(Photo, photo_id) for photo_id in ids]
    if form.action.data == form.CARD_PHOTO:
        for photo in photos:
            matching.mark_card_photo(gallery, photo, card_id)
        label = db.session.get(matching.AccessCard, card_id).label
        return ngettext(
            "%(num)d photo marked as a photo of the card “%(card)s”: parents never see it.",
            "%(num)d photos marked as photos of the card “%(card)s”: parents never see them.",
            count,
            card=label,
        )
    for photo in photos:
        matching.unmark_card_photo(gallery, photo)
    return ngettext(
        "%(num)d photo is no longer a card photo.", "%(num)d photos are no longer card photos.", count
    )


@admin_bp.post("/<int:gallery_id>/cards/review/match")
@login_required
def match_cards_again(gallery_id):
    """Match again: the photos on no card join their run; "start over" forgets the fixes."""
    gallery = _gallery_or_404(gallery_id)
    form = MatchAgainForm()
    if not form.validate_on_submit():
        flash(_("Your session expired. Please submit the form again."), "error")
        return redirect(url_for(".review_cards", gallery_id=gallery.id))
    added = matching.match_gallery(gallery, timeutil.now(), start_over=form.start_over.data)
    db.session.commit()
    flash(
        ngettext(
            "Matched again: %(num)d photo put on the card photographed before it.",
            "Matched again: %(num)d photos put on the card photographed before them.",
            added,
        ),
        "success",
    )
    return redirect(url_for(".review_cards", gallery_id=gallery.id))
