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


class Template:
    """A text split once at its placeholders, so filling it for each of thousands of recipients
    is a join, not a regular-expression pass: ``Template(text).fill(values)`` equals
    ``substitute(text, values)``."""

    __slots__ = ("parts", "names")

    def __init__(self, text):
        # Even indexes are literal text, odd ones placeholder names.
        self.parts = tuple(PLACEHOLDER.split(text))
        self.names = frozenset(self.parts[1::2])

    def fill(self, values, html=True):
        parts = list(self.parts)
        for index in range(1, len(parts), 2):
            name = parts[index]
            if name not in values:
                parts[index] = f"%{name}%"
            else:
                parts[index] = str(escape(values[name])) if html else str(values[name])
        return "".join(parts)
