"""Validators shared by the forms of every package: one-line text and dates in a sane range."""

import re

from flask_babel import lazy_gettext as _l
from wtforms.validators import StopValidation, ValidationError

# Everything str.splitlines() breaks a line at: a name or subject holding one breaks the email
# header, the PDF line or the CSV cell it is later written to (header building raises).
LINE_BREAK = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
# The other C0 and C1 control characters (tab and NUL among them): PostgreSQL refuses NUL in
# text, and none of them has a place in a one-line value.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")

# (line break message, control character message) by kind of value.
SINGLE_LINE_MESSAGES = {
    "name": (_l("A name cannot contain line breaks."), _l("A name cannot contain control characters.")),
    "title": (_l("A title cannot contain line breaks."), _l("A title cannot contain control characters.")),
    "subject": (
        _l("A subject cannot contain line breaks."),
        _l("A subject cannot contain control characters."),
    ),
    "label": (_l("A label cannot contain line breaks."), _l("A label cannot contain control characters.")),
    "text": (
        _l("This field cannot contain line breaks."),
        _l("This field cannot contain control characters."),
    ),
}

# Dates outside these years are typing slips (0001, 9999); near the ends of Python's range,
# converting them between timezones overflows.
MIN_YEAR, MAX_YEAR = 2000, 2100


def single_line_problem(text, kind="name"):
    """What makes ``text`` not a one-line value (a message), or None when it is one."""
    line_break, control = SINGLE_LINE_MESSAGES[kind]
    if not text:
        return None
    if LINE_BREAK.search(text):
        return line_break
    if CONTROL.search(text):
        return control
    return None


def single_line(kind="name"):
    """A field validator refusing line breaks and control characters, with a message naming
    the ``kind`` of value ("name", "title", "subject", "label" or "text").

    Browsers never send a line break from an ``<input>``; a hand-made request can.
    """

    def validator(form, field):
        problem = single_line_problem(field.data if isinstance(field.data, str) else None, kind)
        if problem:
            raise ValidationError(problem)

    return validator


def year_in_range(value, min_year=MIN_YEAR, max_year=MAX_YEAR):
    """Whether a date or datetime (None counts as in range) falls within the sane years."""
    return value is None or min_year <= value.year <= max_year


def sane_date(min_year=MIN_YEAR, max_year=MAX_YEAR):
    """A date / datetime field validator refusing years outside ``min_year``..``max_year``.

    Validation of that field stops there and its value is cleared, so the form's other checks
    (which compare dates in the studio's timezone) never convert a year-1 date: that overflows.
    The field still shows what was typed.
    """
    message = _l("Enter a date between the years %(min)d and %(max)d.", min=min_year, max=max_year)

    def validator(form, field):
        if not year_in_range(field.data, min_year, max_year):
            field.data = None
            raise StopValidation(message)

    return validator
