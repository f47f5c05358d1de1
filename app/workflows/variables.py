"""The %variables% of workflow emails: the one registry the builder, the preview, the test send
and the campaign engine all read.

Each ``Variable`` declares:
  ``name``, ``description``, ``sample``  what the builder lists, and the stand-in value used
                                         when there is no real data (preview, test send);
  ``triggers``                           the triggers whose emails offer it (``ALL_TRIGGERS``
                                         for most; the order's and the cart's own values only
                                         for their trigger);
  ``compute``                            the one function giving its value from a
                                         ``values.VariableData`` (studio, gallery, client,
                                         language, promotion, order, cart total, links);
  ``is_link``                            a URL: the sanitizer lets it stand in an ``href``;
  ``per_recipient``                      differs between the recipients of one gallery-wide
                                         email (the tick fills the others once per gallery);
  ``in_locale``                          written in the recipient's language (a date, an
                                         amount): computed under ``force_locale``;
  ``needs``                              the data the tick loads for it, set-based: "promotion"
                                         (the promotion running at the email's due time, or
                                         the one ending for promotion expiry), "order" (the
                                         occurrence's order), "cart" (the cart's total).

API: ``REGISTRY`` (name -> Variable), ``variables_offered(trigger)`` (the Variables an email of
that trigger may use, in the builder's order), ``not_offered(trigger, *texts)`` (names used in
``texts`` that the trigger does not offer: they would render empty), ``recipient_values(needed,
**data)`` (the values of ``needed`` for one recipient), ``sample_values()``, ``variables_in``,
``unknown_variables``; ``LOCALE_VARIABLES``, ``RECIPIENT_VARIABLES`` and ``PROMOTION_VARIABLES``
are derived from the registry. Values are HTML-escaped when they are put into a message.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.mailing.placeholders import PLACEHOLDER, substitute  # noqa: F401  (used by rendering)
from app.sanitize import sanitize
from app.shop.money import format_money
from app.workflows.models import Trigger
from app.workflows.values import VariableData, local_date, promotion_discount_text

VARIABLE_PATTERN = PLACEHOLDER
ALL_TRIGGERS = frozenset(Trigger)


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    sample: str
    compute: Callable[[VariableData], str]
    triggers: frozenset = ALL_TRIGGERS
    is_link: bool = False
    per_recipient: bool = False
    in_locale: bool = False
    needs: str | None = None


def _date(moment, data):
    return local_date(moment, data.studio)


def _money(amount_minor, currency, data):
    return format_money(amount_minor, currency, data.language) if amount_minor is not None else ""


REGISTRY = {
    variable.name: variable
    for variable in [
        Variable(
            "client_name", _l("The client's name"), "Alex Martin", lambda d: d.client.name, per_recipient=True
        ),
        Variable(
            "client_email",
            _l("The client's email address"),
            "alex.martin@example.com",
            lambda d: d.client.email,
            per_recipient=True,
        ),
        Variable(
            "gallery_title",
            _l("The gallery's title"),
            "Riverside Primary – Spring 2027",
            lambda d: d.gallery.title,
        ),
        Variable(
            "gallery_link",
            _l("Link to the gallery (signs the client in)"),
            "https://photos.example.com/g/studio/riverside",
            lambda d: d.links.sign_in(d.client, d.gallery),
            is_link=True,
            per_recipient=True,
        ),
        Variable(
            "sale_start_date",
            _l("When the sale opens"),
            "1 March 2027",
            lambda d: _date(d.gallery.sale_starts_at, d),
            in_locale=True,
        ),
        Variable(
            "sale_end_date",
            _l("When the sale closes"),
            "21 March 2027",
            lambda d: _date(d.gallery.sale_ends_at, d),
            in_locale=True,
        ),
        Variable(
            "archive_date",
            _l("When the gallery is archived"),
            "30 April 2027",
            lambda d: _date(d.gallery.archives_at, d),
            in_locale=True,
        ),
        Variable(
            "promotion_name",
            _l("The running promotion's name"),
            "Early bird",
            lambda d: d.promotion.name if d.promotion else "",
            needs="promotion",
        ),
        Variable(
            "promotion_discount",
            _l("The running promotion's discount"),
            "15 %",
            lambda d: promotion_discount_text(d.promotion, d.studio, d.language) if d.promotion else "",
            in_locale=True,
            needs="promotion",
        ),
        Variable(
            "promotion_end_date",
            _l("When the promotion ends"),
            "10 March 2027",
            lambda d: _date(d.promotion.ends_at if d.promotion else None, d),
            in_locale=True,
            needs="promotion",
        ),
        Variable(
            "cart_link",
            _l("Link to the client's cart"),
            "https://photos.example.com/cart",
            lambda d: d.links.sign_in(d.client, d.gallery, "cart"),
            is_link=True,
            per_recipient=True,
        ),
        Variable(
            "cart_total",
            _l("The client's cart total"),
            "€42.00",
            lambda d: _money(d.cart_total_minor, d.studio.currency, d),
            triggers=frozenset({Trigger.CART}),
            per_recipient=True,
            in_locale=True,
            needs="cart",
        ),
        Variable(
            "order_number",
            _l("The order's number"),
            "2027-00042",
            lambda d: d.order.number if d.order else "",
            triggers=frozenset({Trigger.ORDER}),
            per_recipient=True,
            needs="order",
        ),
        Variable(
            "order_total",
            _l("The order's total"),
            "€58.90",
            lambda d: _money(d.order.total_minor, d.order.currency, d) if d.order else "",
            triggers=frozenset({Trigger.ORDER}),
            per_recipient=True,
            in_locale=True,
            needs="order",
        ),
        Variable(
            "order_link",
            _l("Link to the client's orders"),
            "https://photos.example.com/orders",
            lambda d: d.links.sign_in(d.client, d.gallery, "orders"),
            is_link=True,
            per_recipient=True,
        ),
        Variable("studio_name", _l("Your studio's name"), "Northlight Studio", lambda d: d.studio.name),
        Variable(
            "studio_email",
            _l("Your studio's email address"),
            "hello@northlight.example",
            lambda d: d.studio.email,
        ),
        Variable(
            "unsubscribe_link",
            _l("One-click unsubscribe link"),
            "https://photos.example.com/unsubscribe/…",
            lambda d: d.links.unsubscribe(d.studio.id, d.client.email),
            is_link=True,
            per_recipient=True,
        ),
    ]
}

LOCALE_VARIABLES = frozenset(name for name, v in REGISTRY.items() if v.in_locale)
RECIPIENT_VARIABLES = frozenset(name for name, v in REGISTRY.items() if v.per_recipient)
PROMOTION_VARIABLES = frozenset(name for name, v in REGISTRY.items() if v.needs == "promotion")
LINK_VARIABLES = frozenset(name for name, v in REGISTRY.items() if v.is_link)


def sanitize_body(html):
    """``app.sanitize.sanitize`` for a workflow email: its link variables may start a URL."""
    return sanitize(html, LINK_VARIABLES)


# Looked up per message by the tick: a plain dict of functions.
_COMPUTE = {name: variable.compute for name, variable in REGISTRY.items()}


def variables_offered(trigger):
    """The variables an email of ``trigger`` may use, in the builder's order."""
    return [variable for variable in REGISTRY.values() if Trigger(trigger) in variable.triggers]


def is_offered(name, trigger):
    variable = REGISTRY.get(name)
    return variable is not None and Trigger(trigger) in variable.triggers


def not_offered(trigger, *texts):
    """Known names used in ``texts`` that ``trigger`` does not offer (they render empty)."""
    return [
        name
        for text in texts
        for name in variables_in(text)
        if name in REGISTRY and not is_offered(name, trigger)
    ]


def recipient_values(
    needed,
    *,
    studio,
    gallery,
    client,
    language,
    promotion=None,
    order=None,
    cart_total_minor=None,
    links=None,
):
    """The values of the variables in ``needed`` for one recipient (``links``: a
    ``values.Links`` shared by many messages). The caller forces the locale for
    ``LOCALE_VARIABLES``."""
    data = VariableData(studio, gallery, client, language, promotion, order, cart_total_minor, links)
    return {name: _COMPUTE[name](data) for name in needed if name in _COMPUTE}


def variables_in(text):
    """The %names% used in ``text``, in order of first appearance."""
    seen = []
    for name in VARIABLE_PATTERN.findall(text or ""):
        if name not in seen:
            seen.append(name)
    return seen


def unknown_variables(*texts):
    """Names used in ``texts`` that the registry does not know."""
    return [name for text in texts for name in variables_in(text) if name not in REGISTRY]


def sample_values():
    return {name: variable.sample for name, variable in REGISTRY.items()}
