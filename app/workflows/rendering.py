"""Rendering a workflow email: the per-template work once, the per-recipient work small.

``prepare`` sanitizes the body, lays it out, inlines the CSS and writes the text part, keeping
the %variables% as placeholders; it is cached by content. ``personalize`` only
substitutes a recipient's values (escaped in HTML) into those strings.
"""

from dataclasses import dataclass
from functools import cached_property, lru_cache

import css_inline
from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup

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


def _prepare(subject, body_html, language):
    body = sanitize_body(body_html)
    with force_locale(language):
        html = render_template("email/campaign.html", body=Markup(body), subject=subject,
                               studio_name=_STUDIO_NAME, language=language)
    html = css_inline.inline(html)
    text = html_to_text(html)
    return PreparedEmail(subject, html, text, tuple(variables_in(subject + html + text)))


@lru_cache(maxsize=1024)
def prepare(subject, body_html, language):
    """The email laid out with its %variables% as placeholders (always %studio_name%), cached by
    content: every copy of a template in a language is prepared once."""
    return _prepare(subject, body_html, language)


def _one_line(value):
    return " ".join(str(value).split())


def personalize(prepared: PreparedEmail, values, templates=None):
    """(subject, html, text) for one recipient. Header values never carry a line break.
    ``templates``: ``prepared``'s with the values many recipients share filled in (``share``)."""
    subject_template, html_template, text_template = templates or prepared.templates
    return (_one_line(subject_template.fill(_subject_values(subject_template, values),
                                            html=False)),
            html_template.fill(values, html=True), text_template.fill(values, html=False))


def share(prepared: PreparedEmail, values):
    """``prepared``'s (subject, html, text) templates with ``values`` filled in once: the values
    every recipient of a gallery shares (its title, the studio's name, a promotion's end)."""
    subject_template, html_template, text_template = prepared.templates
    return (subject_template.partial(_subject_values(subject_template, values), html=False),
            html_template.partial(values, html=True), text_template.partial(values, html=False))


def _subject_values(subject_template, values):
    return {name: _one_line(values[name]) for name in subject_template.names if name in values}
