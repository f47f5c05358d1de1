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

    __slots__ = ("names", "_parts", "_slots")

    def __init__(self, text):
        parts = PLACEHOLDER.split(text)  # even indexes are literal text, odd ones names
        self._set(parts)

    def _set(self, parts):
        self._parts = parts  # literal, name, literal, name, ..., literal
        self._slots = tuple((index, parts[index]) for index in range(1, len(parts), 2))
        self.names = frozenset(parts[1::2])

    def fill(self, values, html=True):
        filled = _filled(self.names, values, html)
        parts = self._parts.copy()
        for index, name in self._slots:
            parts[index] = filled[name]
        return "".join(parts)

    def partial(self, values, html=True):
        """This template with ``values`` filled in and its other names left as placeholders:
        ``partial(shared).fill(own)`` equals ``fill({**shared, **own})``. What many messages
        share (a gallery's title, the studio's name) is then escaped and joined once."""
        known = {name: values[name] for name in self.names if name in values}
        if not known:
            return self
        filled = _filled(known, known, html)
        parts = [self._parts[0]]
        for index, name in self._slots:
            if name in filled:
                parts[-1] += filled[name] + self._parts[index + 1]
            else:
                parts += [name, self._parts[index + 1]]
        template = Template.__new__(Template)
        template._set(parts)
        return template


def _filled(names, values, html):
    """{name: its text} for ``names``; a name without a value stays a placeholder."""
    filled = {}
    for name in names:
        if name not in values:
            filled[name] = f"%{name}%"
        else:
            filled[name] = str(escape(values[name])) if html else str(values[name])
    return filled
