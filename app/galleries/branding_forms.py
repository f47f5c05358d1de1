"""The accent colour's form on Settings → Branding (the logo's is ``forms.LogoForm``)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import Length, ValidationError

from app.galleries.branding import AccentRefused, normalized_accent


class AccentColourForm(FlaskForm):
    """A colour picker and the same colour as text. The text is what is saved; without
    JavaScript to keep the two in step, a colour picked in the picker wins over the text left as
    it was shown (``shown``)."""

    accent_picker = StringField(_l("Pick a colour"))
    accent_color = StringField(
        _l("Accent colour"),
        validators=[Length(max=20)],
        description=_l("Buttons and the band at the top of your emails and client pages, as #rrggbb."),
    )
    shown = HiddenField()

    def validate_accent_color(self, field):
        picked = (self.accent_picker.data or "").strip()
        typed = (field.data or "").strip()
        if picked and typed.lower() == (self.shown.data or "").strip().lower() and picked != typed:
            typed = picked
        if not typed:
            raise ValidationError(_l("Type a colour or pick one, for example #2f5bea."))
        try:
            field.data = normalized_accent(typed)
        except AccentRefused as refusal:
            raise ValidationError(str(refusal)) from None
