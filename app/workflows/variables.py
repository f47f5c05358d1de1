"""The %variables% of workflow emails: one registry with descriptions, sample values and how
each is computed. Values are HTML-escaped when they are put into a message."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.mailing.placeholders import PLACEHOLDER, substitute  # noqa: F401  (used by rendering)

VARIABLE_PATTERN = PLACEHOLDER


@dataclass(frozen=True)
class Variable:
    name: str
    description: str
    sample: str
    is_link: bool = False


REGISTRY = {variable.name: variable for variable in [
    Variable("client_name", _l("The client's name"), "Alex Martin"),
    Variable("client_email", _l("The client's email address"), "alex.martin@example.com"),
    Variable("gallery_title", _l("The gallery's title"), "Riverside Primary – Spring 2027"),
    Variable("gallery_link", _l("Link to the gallery (signs the client in)"),
             "https://photos.example.com/g/studio/riverside", is_link=True),
    Variable("sale_start_date", _l("When the sale opens"), "1 March 2027"),
    Variable("sale_end_date", _l("When the sale closes"), "21 March 2027"),
    Variable("archive_date", _l("When the gallery is archived"), "30 April 2027"),
    Variable("promotion_name", _l("The running promotion's name"), "Early bird"),
    Variable("promotion_discount", _l("The running promotion's discount"), "15 %"),
    Variable("promotion_end_date", _l("When the promotion ends"), "10 March 2027"),
    Variable("cart_link", _l("Link to the client's cart"), "https://photos.example.com/cart",
             is_link=True),
    Variable("cart_total", _l("The client's cart total"), "€42.00"),
    Variable("order_number", _l("The order's number"), "2027-00042"),
    Variable("order_total", _l("The order's total"), "€58.90"),
    Variable("order_link", _l("Link to the client's orders"), "https://photos.example.com/orders",
             is_link=True),
    Variable("studio_name", _l("Your studio's name"), "Northlight Studio"),
    Variable("studio_email", _l("Your studio's email address"), "hello@northlight.example"),
    Variable("unsubscribe_link", _l("One-click unsubscribe link"),
             "https://photos.example.com/unsubscribe/…", is_link=True),
]}


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
