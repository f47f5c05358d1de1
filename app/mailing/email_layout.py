"""What the email layouts (templates/email/layout.html, campaign.html) ask of the mail package:
the preheader, and whether a studio's mail goes through its own server."""

from markupsafe import Markup

from app.mailing import bp
from app.mailing.plain_text import html_to_text

PREHEADER_LENGTH = 140  # what the widest inbox previews show
# After the preheader: zero-width non-joiners and spaces, so the preview stops at it instead of
# running on into the message's first words (which it repeats).
_PREVIEW_FILLER = Markup("&#847;&zwnj;&nbsp;" * 40)


@bp.app_template_filter("preheader")
def preheader(html):
    """The first line of the message's text, for the inbox preview (a hidden element at the
    top of the layout); at most PREHEADER_LENGTH characters, cut at a word."""
    first = next((line for line in html_to_text(str(html)).splitlines() if line.strip()), "")
    if len(first) > PREHEADER_LENGTH:
        first = first[:PREHEADER_LENGTH].rsplit(" ", 1)[0] + "…"
    return first


@bp.app_template_global("preview_filler")
def preview_filler():
    return _PREVIEW_FILLER


@bp.app_template_global("studio_has_own_server")
def studio_has_own_server(studio_id):
    """Whether the studio's (non-sensitive) mail goes through its own SMTP server: its layout
    then leaves out "Sent with Proofsheet"."""
    from app.mailing.studio_settings import settings_of

    settings = settings_of(studio_id) if studio_id is not None else None
    return bool(settings is not None and settings.smtp_host)
