"""Workflow emails in one line of plain language, for the workflow page and the timeline.

"3 days after the sale starts, at 09:00, to clients who have not ordered (marketing: only
those who accepted news and offers)"
"""

from flask_babel import format_time, ngettext
from flask_babel import lazy_gettext as _l

from app.workflows.models import Purpose, RecipientFilter, Rule, Trigger

MOMENTS = {
    Trigger.SALE_START: (_l("When the sale starts"), _l("the sale starts")),
    Trigger.SALE_END: (_l("When the sale ends"), _l("the sale ends")),
    Trigger.ARCHIVE: (_l("When the gallery is archived"), _l("the gallery is archived")),
    Trigger.PROMOTION_EXPIRY: (_l("When a promotion ends"), _l("a promotion ends")),
    Trigger.REGISTRATION: (_l("When a client registers"), _l("a client registers")),
    Trigger.ORDER: (_l("When a client orders"), _l("a client orders")),
    Trigger.CART: (_l("When a client adds a product to the cart"), _l("a client adds a product to the cart")),
}

AUDIENCES = {
    RecipientFilter.ALL: _l("to all clients"),
    RecipientFilter.ORDERED: _l("to clients who have ordered"),
    RecipientFilter.NOT_ORDERED: _l("to clients who have not ordered"),
}

TRIGGER_LABELS = {
    Trigger.SALE_START: _l("Sale start"),
    Trigger.SALE_END: _l("Sale end"),
    Trigger.REGISTRATION: _l("After registration"),
    Trigger.ORDER: _l("After an order"),
    Trigger.CART: _l("Product added to cart"),
    Trigger.PROMOTION_EXPIRY: _l("Promotion expiry"),
    Trigger.ARCHIVE: _l("Gallery archiving"),
}
PURPOSE_LABELS = {Purpose.SERVICE: _l("Service"), Purpose.MARKETING: _l("Marketing")}
# How each purpose reads at the end of the plain-language line.
PURPOSE_NOTES = {
    Purpose.SERVICE: _l("service email"),
    Purpose.MARKETING: _l("marketing: only those who accepted news and offers"),
}
RULE_LABELS = {
    Rule.INSTANT: _l("Instant"),
    Rule.DAYS_BEFORE: _l("Days before"),
    Rule.DAYS_AFTER: _l("Days after"),
}
FILTER_LABELS = {
    RecipientFilter.ALL: _l("All clients"),
    RecipientFilter.ORDERED: _l("Clients who ordered"),
    RecipientFilter.NOT_ORDERED: _l("Clients who have not ordered"),
}


def when(email):
    """ "3 days after the sale starts, at 09:00" / "When a client registers"."""
    instant, moment = MOMENTS[Trigger(email.trigger)]
    if email.rule == Rule.INSTANT:
        return str(instant)
    at = format_time(email.send_time, "short") if email.send_time else ""
    if email.days == 0:
        return str(_l("On the day %(moment)s, at %(time)s", moment=moment, time=at))
    if email.rule == Rule.DAYS_AFTER:
        text = ngettext(
            "%(num)d day after %(moment)s", "%(num)d days after %(moment)s", email.days, moment=moment
        )
    else:
        text = ngettext(
            "%(num)d day before %(moment)s", "%(num)d days before %(moment)s", email.days, moment=moment
        )
    return f"{text}, " + str(_l("at %(time)s", time=at))


def purpose_of(email):
    """The email's purpose; one not saved yet counts as marketing, as the column's default."""
    return Purpose(email.purpose or Purpose.MARKETING)


def describe(email):
    """The whole line without the subject: when, to whom, and whether consent is needed."""
    audience = AUDIENCES[RecipientFilter(email.recipient_filter)]
    return f"{when(email)}, {audience} ({PURPOSE_NOTES[purpose_of(email)]})"
