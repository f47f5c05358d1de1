"""The heart on a photo: the state the client asks for, not a toggle, so a resent form or a
double tap cannot flip it back."""

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf


class FavouriteForm(FlaskForm):
    favourite = HiddenField(validators=[AnyOf(["0", "1"])])
