"""The one ``sanitize()`` for rich-text email bodies: run on save and again on render, by the
workflow builder and the order emails alike (so it lives here, below both).

bleach with an allowlist of tags, attributes, URL schemes and CSS properties. Everything else
is removed (not escaped), so a pasted script or event handler simply disappears. A link may
start with a %variable% only when the caller names it among its ``link_variables`` (its own
variables that are always https URLs).
"""

import re
from functools import lru_cache

import bleach
import tinycss2
from bleach.css_sanitizer import CSSSanitizer

ALLOWED_TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "br",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "s",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
        "pre",
        "code",
    }
)
ALLOWED_ATTRIBUTES = {
    "*": ["style", "class"],
    "a": ["href", "title", "target", "rel"],
    "img": ["src", "alt", "title", "width", "height"],
    "td": ["colspan", "rowspan", "align"],
    "th": ["colspan", "rowspan", "align"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "tel"})
ALLOWED_CSS_PROPERTIES = frozenset(
    {
        "color",
        "background-color",
        "font-size",
        "font-weight",
        "font-style",
        "font-family",
        "text-align",
        "text-decoration",
        "line-height",
        "margin",
        "margin-top",
        "margin-bottom",
        "margin-left",
        "margin-right",
        "padding",
        "padding-left",
        "padding-right",
        "width",
        "height",
        "max-width",
        "border",
        "border-radius",
        "vertical-align",
    }
)

# CSS functions a value may use: colours only. url(), expression(), var()... are dropped.
ALLOWED_CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla"})
# Elements whose content is code, not text: removed whole before bleach strips the tags.
_CODE_ELEMENTS = re.compile(
    r"<(script|style|template|noscript|iframe|object|xmp)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)


def _safe_value(tokens):
    for token in tokens:
        if token.type == "function" and token.lower_name not in ALLOWED_CSS_FUNCTIONS:
            return False
        if token.type in ("url", "at-keyword", "{} block", "[] block"):
            return False
        if token.type == "ident" and token.lower_value.startswith("expression"):
            return False
        if token.type == "function" and not _safe_value(token.arguments):
            return False
    return True


class _ValueCheckingCSSSanitizer(CSSSanitizer):
    """bleach checks property names only; values can carry url() or expression()."""

    def sanitize_css(self, style):
        cleaned = super().sanitize_css(style)
        kept = []
        for declaration in tinycss2.parse_declaration_list(cleaned, skip_whitespace=True, skip_comments=True):
            if declaration.type != "declaration" or not _safe_value(declaration.value):
                continue
            value = tinycss2.serialize(declaration.value).strip()
            if "\\" in value:  # CSS escapes hide words like url( from every filter
                continue
            kept.append(f"{declaration.lower_name}: {value};")
        return " ".join(kept)


# A URL that starts with a %variable% has no scheme for bleach to check; it is only safe when
# that variable is itself a link (always an https URL), not a name or an empty promotion.
_LEADING_VARIABLE = re.compile(r"\s*%([a-z][a-z0-9_]*)%")


def _attribute_check(link_variables):
    def allowed(tag, name, value):
        if name not in ALLOWED_ATTRIBUTES.get(tag, ()) and name not in ALLOWED_ATTRIBUTES["*"]:
            return False
        if name in ("href", "src"):
            match = _LEADING_VARIABLE.match(value)
            return match is None or match.group(1) in link_variables
        return True

    return allowed


_css = _ValueCheckingCSSSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES)


@lru_cache(maxsize=8)
def _cleaner(link_variables):
    return bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=_attribute_check(link_variables),
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        css_sanitizer=_css,
    )


def sanitize(html, link_variables=frozenset()):
    """Clean rich-text HTML for an email body; a URL may start with one of ``link_variables``.
    Idempotent: sanitize(sanitize(x)) == sanitize(x)."""
    return _cleaner(frozenset(link_variables)).clean(_CODE_ELEMENTS.sub("", html or ""))
