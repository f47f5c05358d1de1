"""Forms of the photographer's gallery pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.forms_common import sane_date, single_line
from app.galleries import services
from app.galleries.models import GalleryAccess, GalleryStatus
from app.timeutil import from_local, to_local

DATETIME_FORMAT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
DATE_FIELDS = ("sale_starts_at", "sale_ends_at", "archives_at")


class GalleryForm(FlaskForm):
    """A gallery's settings. Dates are typed in the studio's timezone and stored in UTC.

    Built with the studio (for its timezone and slug uniqueness) and, when editing, the gallery.
    """

    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Give the gallery a title.")), Length(max=200), single_line("title")],
    )
    slug = StringField(
        _l("Web address"),
        validators=[Optional(), Length(max=services.SLUG_MAX_LENGTH)],
        description=_l(
            "The end of the gallery's link: lowercase letters, digits and hyphens. "
            "Leave empty to make one from the title."
        ),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Shown to your clients above the photos."),
    )
    # A shoot date is never converted between timezones, and a gallery of scanned older
    # photos may carry one from before 2000.
    shoot_date = DateField(_l("Shoot date"), validators=[Optional(), sane_date(min_year=1900)])
    sale_starts_at = DateTimeLocalField(
        _l("Sale starts"), format=DATETIME_FORMAT, validators=[Optional(), sane_date()]
    )
    sale_ends_at = DateTimeLocalField(
        _l("Sale ends"), format=DATETIME_FORMAT, validators=[Optional(), sane_date()]
    )
    archives_at = DateTimeLocalField(
        _l("Archive on"),
        format=DATETIME_FORMAT,
        validators=[Optional(), sane_date()],
        description=_l("The gallery closes to clients at this time."),
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice(GalleryStatus.DRAFT, _l("Draft: only you can see it")),
            SelectChoice(GalleryStatus.PUBLISHED, _l("Published: open to clients")),
            SelectChoice(GalleryStatus.ARCHIVED, _l("Archived: closed to clients")),
        ],
        default=GalleryStatus.DRAFT,
    )
    access = SelectField(
        _l("Who can open it"),
        choices=[
            SelectChoice(GalleryAccess.PUBLIC, _l("Anyone with the link")),
            SelectChoice(GalleryAccess.PASSWORD, _l("Anyone with the link and the gallery password")),
            SelectChoice(GalleryAccess.REGISTRATION, _l("Clients who register with their name and email")),
        ],
        default=GalleryAccess.PUBLIC,
    )
    password = PasswordField(_l("Gallery password"), validators=[Length(max=128)])
    is_qr = BooleanField(_l("QR gallery: hand out printed access cards, each showing its own photos"))

    def __init__(self, studio, gallery=None, **kwargs):
        super().__init__(obj=gallery, **kwargs)
        self.studio, self.gallery = studio, gallery
        if gallery is not None and not self.is_submitted():
            for name in DATE_FIELDS:
                getattr(self, name).data = to_local(getattr(gallery, name), studio.timezone)
        if gallery is not None:
            self.slug.description = _l(
                "The end of the gallery's link: lowercase letters, digits and "
                "hyphens. Changing it breaks links you have already shared."
            )
        has_password = gallery is not None and gallery.password_hash
        self.password.description = (
            _l("Leave empty to keep the current password.")
            if has_password
            else _l("Required when access needs a password. Share it with your clients.")
        )

    def utc(self, name):
        """The value of a date-time field as a UTC instant (read in the studio's timezone)."""
        return from_local(getattr(self, name).data, self.studio.timezone)

    def validate_slug(self, field):
        field.data = (field.data or "").strip().lower()
        if not field.data:
            return
        if not services.SLUG_PATTERN.match(field.data):
            raise ValidationError(
                _l("Use only lowercase letters, digits and single hyphens (for example: smith-wedding-2026).")
            )
        gallery_id = self.gallery.id if self.gallery else None
        if services.slug_taken(self.studio.id, field.data, gallery_id):
            raise ValidationError(
                _l(
                    "Another of your galleries already uses this address. Try “%(suggestion)s”.",
                    suggestion=services.suggest_slug(self.studio.id, field.data, gallery_id),
                )
            )

    def validate_sale_ends_at(self, field):
        if field.data and self.sale_starts_at.data and self.utc("sale_ends_at") <= self.utc("sale_starts_at"):
            raise ValidationError(_l("The sale must end after it starts."))

    def validate_archives_at(self, field):
        if not field.data:
            return
        if self.sale_ends_at.data and self.utc("archives_at") <= self.utc("sale_ends_at"):
            raise ValidationError(_l("Archive the gallery after the sale ends."))
        if self.sale_starts_at.data and self.utc("archives_at") <= self.utc("sale_starts_at"):
            raise ValidationError(_l("Archive the gallery after the sale starts."))

    def validate_password(self, field):
        needs_one = self.access.data == GalleryAccess.PASSWORD
        has_one = self.gallery is not None and self.gallery.password_hash
        if needs_one and not field.data and not has_one:
            raise ValidationError(_l("Choose a password: this gallery's access needs one."))
        if field.data and len(field.data) < 4:
            raise ValidationError(_l("Use at least 4 characters."))

    def to_data(self):
        """The form's values for ``services.create_gallery`` / ``update_gallery``."""
        return services.GalleryData(
            title=self.title.data.strip(),
            slug=self.slug.data or None,
            description=(self.description.data or "").strip(),
            shoot_date=self.shoot_date.data,
            sale_starts_at=self.utc("sale_starts_at"),
            sale_ends_at=self.utc("sale_ends_at"),
            archives_at=self.utc("archives_at"),
            status=self.status.data,
            access=self.access.data,
            is_qr=self.is_qr.data,
            password=self.password.data or None,
        )


class ConfirmForm(FlaskForm):
    """A button that needs nothing but the CSRF token (delete, set cover)."""


class UploadForm(FlaskForm):
    """One or many photos; the browser uploader sends one per request in the same field."""

    photos = MultipleFileField(_l("Photos"), render_kw={"accept": "image/jpeg,image/png,image/webp"})

    def validate_photos(self, field):
        if not [upload for upload in field.data or [] if upload and upload.filename]:
            raise ValidationError(_l("Choose at least one photo to upload."))


class ReorderForm(FlaskForm):
    """The new order of a gallery's photos: their ids, comma-separated."""

    order = HiddenField(validators=[DataRequired(_l("The new order is missing."))])

    def validate_order(self, field):
        try:
            self.photo_ids = [int(part) for part in field.data.split(",") if part.strip()]
        except ValueError:
            raise ValidationError(_l("The new order is not a list of photo ids.")) from None


class LogoForm(FlaskForm):
    logo = FileField(
        _l("Logo"),
        validators=[FileRequired(_l("Choose an image file."))],
        render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp"},
        description=_l(
            "PNG with a transparent background looks best. It is shown up "
            "to 300 × 100 pixels at the top of your emails."
        ),
    )
