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
    ``substitute(text, values)``. Each value is escaped once however often it appears."""

    __slots__ = ("names", "_literals", "_slots")

    def __init__(self, text):
        parts = PLACEHOLDER.split(text)  # even indexes are literal text, odd ones names
        self.names = frozenset(parts[1::2])
        self._literals = tuple(parts[0::2])
        self._slots = tuple(zip(parts[1::2], parts[2::2]))  # (name, the literal after it)

    def fill(self, values, html=True):
        filled = {}
        for name in self.names:
            if name not in values:
                filled[name] = f"%{name}%"
            else:
                filled[name] = str(escape(values[name])) if html else str(values[name])
        out = [self._literals[0]]
        for name, literal in self._slots:
            out.append(filled[name])
            out.append(literal)
        return "".join(out)
