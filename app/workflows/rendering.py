"""Rendering a workflow email: the per-template work once, the per-recipient work small.

``prepare`` sanitizes the body, lays it out, inlines the CSS and writes the text part, keeping
the %variables% as placeholders; it is cached by content. ``personalize`` only
substitutes a recipient's values (escaped in HTML) into those strings.
"""

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

import css_inline
from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup

from app.galleries.branding import DEFAULT_ACCENT, EmailBrand, cover_url, email_brand, logo_url
from app.mailing.placeholders import Template
from app.mailing.plain_text import html_to_text
from app.workflows.variables import sanitize_body, variables_in


@dataclass(frozen=True)
class PreparedEmail:
    subject: str
    html: str
    text: str
    variables: tuple[str, ...]

    @cached_property
    def templates(self):
        """(subject, html, text) split at their placeholders, for ``personalize``."""
        return Template(self.subject), Template(self.html), Template(self.text)


# The layout names the studio through the %studio_name% variable, not its value: copies of the
# same template (most studios start from the shipped ones) then share one preparation.
_STUDIO_NAME = "%studio_name%"


@dataclass(frozen=True)
class Branding:
    """What a studio adds to its campaign mail's layout: the postal address in the footer (the
    law and Gmail's bulk-sender rules want it), its logo in place of its name, its accent
    colour (a band, buttons and links: ``branding.EmailBrand``), and the gallery's cover."""

    postal_address: str = ""
    logo_url: str | None = None
    brand: EmailBrand = EmailBrand(name="")
    cover_url: str | None = None


def branding_of(studio, gallery=None):
    """The ``Branding`` of ``studio``'s mail about ``gallery``: its address on one line, its
    logo's public URL, its colours, and the gallery's cover (when there is one every recipient
    may see: ``branding.mailable_cover``)."""
    lines = (" ".join(line.split()) for line in (studio.postal_address or "").splitlines())
    return Branding(
        " · ".join(line for line in lines if line),
        logo_url(studio),
        email_brand(studio),
        cover_url(gallery) if gallery is not None else None,
    )


# The shipped templates' buttons (templates.BUTTON), as the sanitizer writes their style.
_DEFAULT_BUTTON = re.compile(rf"background-color:\s*{DEFAULT_ACCENT};\s*color:\s*#ffffff;?", re.IGNORECASE)


def _accent_buttons(body, brand):
    """Buttons in the default blue (every shipped template's) take the studio's accent, with a
    text colour that reads on it; colours the studio chose itself stay as they are."""
    if brand.accent == DEFAULT_ACCENT:
        return body
    return _DEFAULT_BUTTON.sub(f"background-color: {brand.accent}; color: {brand.on_accent};", body)


def _prepare(subject, body_html, language, branding):
    body = _accent_buttons(sanitize_body(body_html), branding.brand)
    with force_locale(language):
        html = render_template(
            "email/campaign.html",
            body=Markup(body),
            subject=subject,
            studio_name=_STUDIO_NAME,
            language=language,
            postal_address=branding.postal_address,
            logo_url=branding.logo_url,
            brand=branding.brand,
            cover_url=branding.cover_url,
        )
    html = css_inline.inline(html)
    text = html_to_text(html)
    return PreparedEmail(subject, html, text, tuple(variables_in(subject + html + text)))


@lru_cache(maxsize=1024)
def prepare(subject, body_html, language, branding=Branding()):
    """The email laid out with its %variables% as placeholders (always %studio_name%), cached by
    content: every copy of a template in a language is prepared once per studio branding."""
    return _prepare(subject, body_html, language, branding)


def _one_line(value):
    return " ".join(str(value).split())


def personalize(prepared: PreparedEmail, values, templates=None):
    """(subject, html, text) for one recipient. Header values never carry a line break.
    ``templates``: ``prepared``'s with the values many recipients share filled in (``share``)."""
    subject_template, html_template, text_template = templates or prepared.templates
    return (
        _one_line(subject_template.fill(_subject_values(subject_template, values), html=False)),
        html_template.fill(values, html=True),
        text_template.fill(values, html=False),
    )


def share(prepared: PreparedEmail, values):
    """``prepared``'s (subject, html, text) templates with ``values`` filled in once: the values
    every recipient of a gallery shares (its title, the studio's name, a promotion's end)."""
    subject_template, html_template, text_template = prepared.templates
    return (
        subject_template.partial(_subject_values(subject_template, values), html=False),
        html_template.partial(values, html=True),
        text_template.partial(values, html=False),
    )


def _subject_values(subject_template, values):
    return {name: _one_line(values[name]) for name in subject_template.names if name in values}
