"""Rendering a workflow email: the per-template work once, the per-recipient work small.

``prepare`` sanitizes the body, lays it out, inlines the CSS and writes the text part, keeping
the %variables% as placeholders; it is cached per email version. ``personalize`` only
substitutes a recipient's values (escaped in HTML) into those strings.
"""

from dataclasses import dataclass
from functools import cached_property, lru_cache

import css_inline
import inscriptis
from flask import render_template
from flask_babel import force_locale
from inscriptis.model.config import ParserConfig
from markupsafe import Markup

from app.mailing.placeholders import Template
from app.workflows.sanitize import sanitize
from app.workflows.variables import variables_in

_TEXT_CONFIG = ParserConfig(display_links=True)


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


def _prepare(subject, body_html, studio_name, language):
    body = sanitize(body_html)
    with force_locale(language):
        html = render_template("email/campaign.html", body=Markup(body), subject=subject,
                               studio_name=studio_name, language=language)
    html = css_inline.inline(html)
    text = inscriptis.get_text(html, _TEXT_CONFIG).strip() + "\n"
    return PreparedEmail(subject, html, text, tuple(variables_in(subject + html + text)))


@lru_cache(maxsize=512)
def _prepare_cached(cache_key, subject, body_html, studio_name, language):
    return _prepare(subject, body_html, studio_name, language)


def prepare(subject, body_html, studio_name, language, cache_key=None):
    """The email with placeholders; ``cache_key`` (e.g. email id and version) enables caching."""
    if cache_key is None:
        return _prepare(subject, body_html, studio_name, language)
    return _prepare_cached(cache_key, subject, body_html, studio_name, language)


def _one_line(value):
    return " ".join(str(value).split())


def personalize(prepared: PreparedEmail, values):
    """(subject, html, text) for one recipient. Header values never carry a line break."""
    subject_template, html_template, text_template = prepared.templates
    subject_values = {name: _one_line(values[name]) for name in subject_template.names
                      if name in values}
    return (_one_line(subject_template.fill(subject_values, html=False)),
            html_template.fill(values, html=True), text_template.fill(values, html=False))
