"""Forms of the QR cards pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.forms_common import single_line
from app.galleries.cards import MAX_CARDS_AT_ONCE


class CreateCardsForm(FlaskForm):
    count = IntegerField(
        _l("How many cards"),
        default=10,
        validators=[
            InputRequired(_l("Say how many cards to create.")),
            NumberRange(
                1, MAX_CARDS_AT_ONCE, _l("Between 1 and %(max)d cards at once.", max=MAX_CARDS_AT_ONCE)
            ),
        ],
    )
    prefix = StringField(
        _l("Label (optional)"),
        validators=[Optional(), Length(max=150), single_line("label")],
        description=_l("For example a class: “Class 3B” gives “Class 3B – 1”, “Class 3B – 2”…"),
    )


class ImportCardsForm(FlaskForm):
    file = FileField(
        _l("CSV file of labels"),
        validators=[FileRequired(_l("Choose a CSV file: one label (such as a child's name) per row."))],
    )
    notify = BooleanField(
        _l("Email these parents when the sale starts"),
        default=True,
        description=_l(
            "Registers the parents of the list to this gallery with their child’s card: they get its"
            " workflow’s emails, “your photos are ready” at the sale start among them. Unticked, they"
            " only hold the card until they sign in."
        ),
    )


class CardReviewForm(FlaskForm):
    """A fix on the review screen: the ticked photos, what to do with them, and the card.

    The route sets ``photo_ids.choices`` (the gallery's processed photos), ``card.choices`` (its
    cards) and ``card_photo_ids`` (which of them are card photos) before validating."""

    MOVE, UNASSIGN, CARD_PHOTO, NOT_CARD_PHOTO = "move", "unassign", "card_photo", "not_card_photo"

    photo_ids = SelectMultipleField(
        _l("Photos"),
        coerce=int,
        validate_choice=False,  # checked in validate_photo_ids with a clearer message
        validators=[DataRequired(_l("Tick the photos to change first."))],
    )
    action = SelectField(
        _l("What to do with the ticked photos"),
        choices=[
            SelectChoice(MOVE, _l("Put them on this card (only)")),
            SelectChoice(UNASSIGN, _l("Take them off their cards")),
            SelectChoice(CARD_PHOTO, _l("They are photos of this card (hidden from parents)")),
            SelectChoice(NOT_CARD_PHOTO, _l("They are not card photos")),
        ],
    )
    card = SelectField(_l("Card"), choices=[], validate_choice=False)

    card_photo_ids: set[int] = set()

    def validate_photo_ids(self, field):
        known = {choice.value for choice in field.choices or []}
        if not set(field.data or []) <= known:
            raise ValidationError(
                _l("Some of the ticked photos are no longer in this gallery: reload the page.")
            )
        ticked_card_photos = set(field.data) & self.card_photo_ids
        if self.action.data in (self.MOVE, self.UNASSIGN) and ticked_card_photos:
            raise ValidationError(
                _l("Card photos are never on a card: mark them as “not card photos” first.")
            )
        if self.action.data == self.NOT_CARD_PHOTO and set(field.data) - self.card_photo_ids:
            raise ValidationError(_l("Only card photos can be marked as not card photos."))

    def validate_card(self, field):
        if self.action.data not in (self.MOVE, self.CARD_PHOTO):
            return
        if not field.data:
            raise ValidationError(_l("Choose the card."))
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("This card is no longer in this gallery: reload the page."))

    def card_id(self):
        return int(self.card.data) if self.card.data else None


class MatchAgainForm(FlaskForm):
    start_over = BooleanField(_l("Start over"))


class PrintCardsForm(FlaskForm):
    """The print sheet's options (a GET form: the page is printed, nothing is saved)."""

    paper = SelectField(
        _l("Paper"),
        choices=[SelectChoice("a4", "A4"), SelectChoice("letter", _l("Letter"))],
        default="a4",
        validate_choice=False,
    )
    photo = BooleanField(_l("With each child’s first photo"))
