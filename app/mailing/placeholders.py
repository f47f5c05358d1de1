"""%name% placeholders in subjects and bodies: one implementation for every kind of mail."""

import re

from markupsafe import escape

PLACEHOLDER = re.compile(r"%([a-z][a-z0-9_]*)%")


def substitute(text, values, html=True):
    """Replace every known %name% with its value (escaped for HTML when ``html``)."""
    def replace(match):
        name = match.group(1)
        if name not in values:
            return match.group(0)
        return str(escape(values[name])) if html else str(values[name])

    return PLACEHOLDER.sub(replace, text)
