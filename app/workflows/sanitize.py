"""The one ``sanitize()`` for rich-text email bodies: run on save and again on render.

bleach with an allowlist of tags, attributes, URL schemes and CSS properties. Everything else
is removed (not escaped), so a pasted script or event handler simply disappears.
"""

import bleach
from bleach.css_sanitizer import CSSSanitizer

ALLOWED_TAGS = frozenset({
    "a", "b", "blockquote", "br", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "img", "li",
    "ol", "p", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr",
    "u", "ul", "pre", "code",
})
ALLOWED_ATTRIBUTES = {
    "*": ["style", "class"],
    "a": ["href", "title", "target", "rel"],
    "img": ["src", "alt", "title", "width", "height"],
    "td": ["colspan", "rowspan", "align"],
    "th": ["colspan", "rowspan", "align"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "tel"})
ALLOWED_CSS_PROPERTIES = frozenset({
    "color", "background-color", "font-size", "font-weight", "font-style", "font-family",
    "text-align", "text-decoration", "line-height", "margin", "margin-top", "margin-bottom",
    "margin-left", "margin-right", "padding", "padding-left", "padding-right", "width", "height",
    "max-width", "border", "border-radius", "vertical-align",
})

_css = CSSSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES)
_cleaner = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                          protocols=ALLOWED_PROTOCOLS, strip=True, strip_comments=True,
                          css_sanitizer=_css)


def sanitize(html):
    """Clean rich-text HTML for an email body. Idempotent: sanitize(sanitize(x)) == sanitize(x)."""
    return _cleaner.clean(html or "")
