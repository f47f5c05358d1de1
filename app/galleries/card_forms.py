"""Forms of the QR cards pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

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
