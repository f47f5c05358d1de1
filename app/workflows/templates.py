"""Predefined workflow templates, shipped with the product: read-only and translatable.

A studio duplicates one (``services.duplicate_template``) to use and edit it. The copy is
written the way a careful photographer writes to parents and clients: short, warm, specific.
Each email says whether it is a service email (the gallery is ready, it will be archived) or
marketing (reminders, offers: only for clients who accepted news and offers). None thanks for
an order at once (the order confirmation does), and none promises ordering on a date when the
sale may already be closed.
"""

from dataclasses import dataclass
from datetime import time

from flask_babel import lazy_gettext as _l

from app.i18n import with_variables
from app.workflows.models import Purpose as P
from app.workflows.models import RecipientFilter as F
from app.workflows.models import Rule as R
from app.workflows.models import Trigger as T


@dataclass(frozen=True)
class TemplateEmail:
    trigger: str
    rule: str
    days: int
    send_time: time | None
    recipient_filter: str
    subject: object
    body_html: object
    purpose: str = P.MARKETING  # every email below says which it is


@dataclass(frozen=True)
class TemplateWorkflow:
    key: str
    title: object
    description: object
    emails: tuple


def _p(*paragraphs):
    return "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)


BUTTON = (
    '<p><a href="%gallery_link%" style="background-color:#2f5bea;color:#ffffff;'
    'padding:10px 18px;border-radius:6px;text-decoration:none;">{label}</a></p>'
)


class _Button:
    """A call-to-action link to the gallery, its label translated when the body is rendered."""

    def __init__(self, label):
        self.label = label

    def __str__(self):
        return BUTTON.format(label=self.label)


def _button(label):
    return _Button(label)


def _body(*parts):
    """A body as parts (lazy strings and buttons), joined in the studio's language on copy."""
    return parts


def render_body(parts):
    return "".join(str(part) if isinstance(part, _Button) else with_variables(part) for part in parts)


SCHOOL = TemplateWorkflow(
    key="school",
    title=_l("School photography"),
    description=_l(
        "Announce the photos, remind the families who have not ordered, and close the sale kindly."
    ),
    emails=(
        TemplateEmail(
            T.SALE_START,
            R.INSTANT,
            0,
            None,
            F.ALL,
            _l("The photos of %(gallery_title)s are online"),
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>The school photos are ready! You can see "
                    "them now, choose your favourites and order prints or digital files "
                    "until %(sale_end_date)s.</p>"
                ),
                _button(_l("See the photos")),
                _l("<p>Thank you for your trust,<br>%(studio_name)s</p>"),
            ),
            purpose=P.SERVICE,
        ),
        TemplateEmail(
            T.SALE_START,
            R.DAYS_AFTER,
            3,
            time(9, 0),
            F.NOT_ORDERED,
            _l("Don't miss your photos"),
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>Just a friendly reminder: the photos of "
                    "%(gallery_title)s are waiting for you. Prints are made with care in our "
                    "lab and make lovely gifts for grandparents.</p>"
                ),
                _button(_l("Choose my photos")),
                _l("<p>See you soon,<br>%(studio_name)s</p>"),
            ),
            purpose=P.MARKETING,
        ),
        TemplateEmail(
            T.SALE_END,
            R.DAYS_BEFORE,
            2,
            time(18, 0),
            F.NOT_ORDERED,
            _l("Last call: the sale closes on %(sale_end_date)s"),
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>The sale of the %(gallery_title)s photos "
                    "closes in two days, on %(sale_end_date)s. After that date we send the "
                    "group order to the lab and individual orders are no longer possible."
                    "</p>"
                ),
                _button(_l("Order before it closes")),
                _l("<p>%(studio_name)s</p>"),
            ),
            purpose=P.MARKETING,
        ),
        TemplateEmail(
            T.PROMOTION_EXPIRY,
            R.DAYS_BEFORE,
            1,
            time(10, 0),
            F.ALL,
            _l("%(promotion_name)s ends tomorrow"),
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>Our offer %(promotion_name)s "
                    "(%(promotion_discount)s off) ends tomorrow, %(promotion_end_date)s. It is "
                    "the best moment to order your photos of %(gallery_title)s.</p>"
                ),
                _button(_l("Enjoy the offer")),
                _l("<p>%(studio_name)s</p>"),
            ),
            purpose=P.MARKETING,
        ),
        # Not at once: the order confirmation already thanks the client and lists the order.
        TemplateEmail(
            T.ORDER,
            R.DAYS_AFTER,
            3,
            time(10, 0),
            F.ALL,
            _l("A little thank-you from %(studio_name)s"),
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>Thank you again for your order "
                    "%(order_number)s: we hope you will love your photos of %(gallery_title)s."
                    "</p><p>A print for the grandparents, another size? As long as the "
                    "sale is open, come back to the gallery and order in a minute. You can "
                    'follow your orders on <a href="%(order_link)s">your orders page</a>.</p>'
                ),
                _button(_l("Order more photos")),
                _l("<p>Warmly,<br>%(studio_name)s</p>"),
            ),
            purpose=P.MARKETING,
        ),
        TemplateEmail(
            T.CART,
            R.DAYS_AFTER,
            1,
            time(19, 0),
            F.NOT_ORDERED,
            _l("Your cart is waiting for you"),
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>You left a few photos in your cart. "
                    "They are saved: you can finish your order in a minute.</p>"
                    '<p><a href="%(cart_link)s">Go back to my cart</a></p>'
                    "<p>%(studio_name)s</p>"
                )
            ),
            purpose=P.MARKETING,
        ),
        TemplateEmail(
            T.ARCHIVE,
            R.DAYS_BEFORE,
            7,
            time(9, 0),
            F.ALL,
            _l("%(gallery_title)s will be archived on %(archive_date)s"),
            # A notice, true whatever the dates: the sale may have closed long before, so it
            # promises no ordering.
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>The gallery %(gallery_title)s will be "
                    "archived on %(archive_date)s: after that date its photos are no longer "
                    "online. If you downloaded digital files, please keep a copy of them."
                    "</p>"
                ),
                _button(_l("Open the gallery")),
                _l("<p>%(studio_name)s</p>"),
            ),
            purpose=P.SERVICE,
        ),
    ),
)

EVENT = TemplateWorkflow(
    key="event",
    title=_l("Event sales"),
    description=_l("For races, galas and weddings guests: photos online fast, a nudge, a last call."),
    emails=(
        TemplateEmail(
            T.REGISTRATION,
            R.INSTANT,
            0,
            None,
            F.ALL,
            _l("Welcome to %(gallery_title)s"),
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>Thank you for registering. Here is your "
                    "private link to the event photos; keep this email to come back later."
                    "</p>"
                ),
                _button(_l("Open the gallery")),
                _l("<p>%(studio_name)s</p>"),
            ),
            purpose=P.SERVICE,
        ),
        TemplateEmail(
            T.SALE_START,
            R.INSTANT,
            0,
            None,
            F.ALL,
            _l("Your event photos are online"),
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>The photos of %(gallery_title)s are online. "
                    "Find yourself, share the moment and order the ones you love.</p>"
                ),
                _button(_l("See the photos")),
                _l("<p>%(studio_name)s</p>"),
            ),
            purpose=P.SERVICE,
        ),
        TemplateEmail(
            T.SALE_START,
            R.DAYS_AFTER,
            5,
            time(12, 0),
            F.NOT_ORDERED,
            _l("Have you found yourself?"),
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>Hundreds of photos were taken at "
                    "%(gallery_title)s. Have a look before they go offline on "
                    "%(archive_date)s.</p>"
                ),
                _button(_l("Find my photos")),
                _l("<p>%(studio_name)s</p>"),
            ),
            purpose=P.MARKETING,
        ),
        # Not at once: the order confirmation already thanks the client and lists the order.
        TemplateEmail(
            T.ORDER,
            R.DAYS_AFTER,
            2,
            time(10, 0),
            F.ALL,
            _l("Thank you for sharing the moment"),
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>Thank you again for your order "
                    "%(order_number)s. Friends and family in the photos too? As long as the "
                    "sale is open, you can come back and order theirs. Your orders are on "
                    '<a href="%(order_link)s">your orders page</a>.</p>'
                ),
                _button(_l("Back to the photos")),
                _l("<p>%(studio_name)s</p>"),
            ),
            purpose=P.MARKETING,
        ),
        TemplateEmail(
            T.SALE_END,
            R.DAYS_BEFORE,
            1,
            time(18, 0),
            F.NOT_ORDERED,
            _l("Tomorrow is the last day"),
            _body(
                _l(
                    "<p>Hello %(client_name)s,</p><p>The sale of %(gallery_title)s ends "
                    "tomorrow, %(sale_end_date)s.</p>"
                ),
                _button(_l("Order my photos")),
                _l("<p>%(studio_name)s</p>"),
            ),
            purpose=P.MARKETING,
        ),
    ),
)

PORTRAIT = TemplateWorkflow(
    key="portrait",
    title=_l("Portrait session"),
    description=_l("For families and portrait clients: a personal gallery, a follow-up, a thank-you."),
    emails=(
        TemplateEmail(
            T.SALE_START,
            R.INSTANT,
            0,
            None,
            F.ALL,
            _l("Your portraits are ready"),
            _body(
                _l(
                    "<p>Dear %(client_name)s,</p><p>It was a joy to photograph you. Your "
                    "private gallery is ready: take your time, pick your favourites and "
                    "tell me which ones you would like printed.</p>"
                ),
                _button(_l("View my gallery")),
                _l("<p>With warm wishes,<br>%(studio_name)s</p>"),
            ),
            purpose=P.SERVICE,
        ),
        TemplateEmail(
            T.SALE_START,
            R.DAYS_AFTER,
            7,
            time(10, 0),
            F.NOT_ORDERED,
            _l("Need help choosing?"),
            _body(
                _l(
                    "<p>Dear %(client_name)s,</p><p>Choosing is the hardest part! If you "
                    "would like my advice on prints, frames or an album, simply reply to "
                    "this email.</p>"
                ),
                _button(_l("Back to my gallery")),
                _l("<p>%(studio_name)s</p>"),
            ),
            purpose=P.MARKETING,
        ),
        TemplateEmail(
            T.CART,
            R.DAYS_AFTER,
            2,
            time(19, 0),
            F.NOT_ORDERED,
            _l("Your selection is saved"),
            _body(
                _l(
                    "<p>Dear %(client_name)s,</p><p>Your selection is still in your cart. "
                    '<a href="%(cart_link)s">Finish your order</a> whenever you are ready.'
                    "</p><p>%(studio_name)s</p>"
                )
            ),
            purpose=P.MARKETING,
        ),
        TemplateEmail(
            T.ORDER,
            R.DAYS_AFTER,
            14,
            time(10, 0),
            F.ORDERED,
            _l("How do you like your prints?"),
            _body(
                _l(
                    "<p>Dear %(client_name)s,</p><p>I hope your prints arrived safely and "
                    "that you love them. A few words about your experience would mean a "
                    "lot to me: just reply to this email.</p><p>Thank you,<br>"
                    "%(studio_name)s</p>"
                )
            ),
            purpose=P.MARKETING,
        ),
        TemplateEmail(
            T.ARCHIVE,
            R.DAYS_BEFORE,
            14,
            time(9, 0),
            F.ALL,
            _l("Your gallery goes offline on %(archive_date)s"),
            _body(
                _l(
                    "<p>Dear %(client_name)s,</p><p>Your gallery will be archived on "
                    "%(archive_date)s: after that date it is no longer online. Take a last "
                    "look at your photos, and if you downloaded digital files, keep a copy "
                    "of them safely.</p>"
                ),
                _button(_l("Open my gallery")),
                _l("<p>%(studio_name)s</p>"),
            ),
            purpose=P.SERVICE,
        ),
    ),
)

TEMPLATES = {template.key: template for template in (SCHOOL, EVENT, PORTRAIT)}
