"""The "Share with family" form on the gallery page."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from app.galleries.clients import InvalidEmail, normalize_email


class FamilyInviteForm(FlaskForm):
    email = StringField(
        _l("Their email"),
        validators=[DataRequired(_l("Please enter the email of the person to invite.")), Length(max=254)],
        description=_l("They register with their own email and see the same photos as you."),
    )

    def __init__(self, inviter, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inviter = inviter

    def validate_email(self, field):
        try:
            field.data = normalize_email(field.data)
        except InvalidEmail as error:
            raise ValidationError(str(error)) from None
        if self._inviter is not None and field.data == self._inviter.email:
            raise ValidationError(_l("This is your own address: enter the address of the person to invite."))
