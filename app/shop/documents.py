"""Documents the shop generates as PDF (fpdf2): the order confirmation and the invoice.

The text is in the language asked for (the client's for the client's documents, the studio's by
default), and the font is DejaVu Sans (vendored in ``fonts/``, free licence) so that any client's
or product's name prints as written: the PDF core fonts only know Latin-1 and would print "?" for
"Łukasz", "Ελένη" or "Алексей".
"""

import io
from pathlib import Path
from zoneinfo import ZoneInfo

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from fpdf import FPDF

from app.galleries.branding import DEFAULT_ACCENT, logo_path
from app.shop.addresses import address_lines
from app.shop.money import format_money
from app.shop.payment_bank import epc_qr_png, transfer_details
from app.shop.payment_settings import BANK_TRANSFER, settings_of

FONTS = Path(__file__).parent / "fonts"
CONFIRMATION, INVOICE = "confirmation", "invoice"


class _Document(FPDF):
    def __init__(self):
        super().__init__(format="A4")
        self.add_font("DejaVu", "", FONTS / "DejaVuSans.ttf")
        self.add_font("DejaVu", "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_auto_page_break(auto=True, margin=15)

    def text_line(self, text, size=11, bold=False, height=7):
        self.set_font("DejaVu", "B" if bold else "", size)
        self.multi_cell(0, height, str(text), new_x="LMARGIN", new_y="NEXT")

    def amount_row(self, label, amount, bold=False):
        self.set_font("DejaVu", "B" if bold else "", 11)
        self.cell(140, 8, str(label))
        self.cell(0, 8, amount, align="R", new_x="LMARGIN", new_y="NEXT")


def _local_date(moment, studio):
    return format_date(moment.astimezone(ZoneInfo(studio.timezone)).date(), "long")


def _rgb(colour_hex):
    return tuple(int(colour_hex[i : i + 2], 16) for i in (1, 3, 5))


LOGO_BOX_MM = (60, 20)  # the logo's box at the top of the page (it keeps its proportions)


def _brand(pdf, studio):
    """The studio's logo (else its name) over a rule in its accent colour."""
    logo = logo_path(studio)
    if logo is not None:
        # ``keep_aspect_ratio`` fits the image in the box; the box's height moves the cursor.
        pdf.image(str(logo), w=LOGO_BOX_MM[0], h=LOGO_BOX_MM[1], keep_aspect_ratio=True, alt_text=studio.name)
        pdf.text_line(studio.name, size=10, height=6)
    else:
        pdf.text_line(studio.name, size=16, bold=True, height=9)
    try:
        colour = _rgb(studio.accent_color or DEFAULT_ACCENT)
    except (TypeError, ValueError):
        colour = _rgb(DEFAULT_ACCENT)
    pdf.set_fill_color(*colour)
    pdf.rect(pdf.l_margin, pdf.get_y() + 1, pdf.epw, 1.2, style="F")
    pdf.ln(4)


def _header(pdf, order, studio, kind):
    _brand(pdf, studio)
    if kind == INVOICE and studio.invoice_details:
        pdf.text_line(studio.invoice_details, size=9, height=5)
    pdf.ln(4)
    if kind == INVOICE:
        pdf.text_line(_("Invoice %(number)s", number=order.number), size=14, bold=True)
        issued = order.paid_at or order.placed_at
        pdf.text_line(_("Date: %(date)s", date=_local_date(issued, studio)))
    else:
        pdf.text_line(_("Order confirmation %(number)s", number=order.number), size=14, bold=True)
        pdf.text_line(_("Placed on %(date)s", date=_local_date(order.placed_at, studio)))


def _client(pdf, order):
    pdf.ln(2)
    pdf.text_line(_("Client: %(name)s <%(email)s>", name=order.contact_name, email=order.contact_email))
    if order.country:
        # In the order the country's postal format gives (a US state after the city, a Russian
        # oblast on its own line), so the address can be copied onto a label as it is.
        lines = address_lines(
            order.country,
            order.address_line1,
            order.address_line2,
            order.postal_code,
            order.city,
            order.region,
        )
        pdf.text_line("\n".join(lines), size=10, height=5)
    pdf.ln(4)


def _lines(pdf, order, language):
    money = lambda minor: format_money(minor, order.currency, language)  # noqa: E731
    for item in order.items:
        pdf.amount_row(f"{item.quantity} × {item.product_name}", money(item.line_total_minor))
    for label, amount in (
        (_("Promotion"), -order.promotion_discount_minor),
        (_("Coupon %(code)s", code=order.coupon_code or ""), -order.coupon_discount_minor),
        (_("Shipping"), order.shipping_minor),
    ):
        if amount:
            pdf.amount_row(label, money(amount))
    pdf.amount_row(_("Total"), money(order.total_minor), bold=True)


def _payment(pdf, order, studio):
    pdf.ln(4)
    if order.paid_at is not None:
        pdf.text_line(_("Paid on %(date)s.", date=_local_date(order.paid_at, studio)), size=10)
    else:
        pdf.text_line(_("Not paid yet."), size=10)
        if order.payment_method == BANK_TRANSFER and order.status == "new":
            _bank_transfer(pdf, order)


def _bank_transfer(pdf, order):
    """The studio's account, the order's reference, and the EPC QR code for euro transfers."""
    details = transfer_details(order, settings_of(order.studio_id))
    pdf.ln(2)
    pdf.text_line(_("Please pay by bank transfer:"), size=10, bold=True)
    for label, value in (
        (_("Account holder"), details.holder),
        ("IBAN", details.iban_grouped),
        ("BIC", details.bic),
        (_("Account"), details.other),
        (_("Reference"), details.reference_grouped),
    ):
        if value:
            pdf.text_line(_("%(label)s: %(value)s", label=label, value=value), size=10, height=6)
    png = epc_qr_png(details)
    if png is not None:
        pdf.ln(2)
        pdf.image(io.BytesIO(png), w=35, h=35)
        pdf.text_line(_("Scan with your banking app to fill in the transfer."), size=8, height=5)


def order_pdf(order, studio, kind=CONFIRMATION, language=None):
    """(file name, PDF bytes) of the order confirmation or the invoice, in ``language`` (the
    studio's when None): words, dates and amounts."""
    language = language or studio.language or "en"
    with force_locale(language):
        pdf = _Document()
        title = (
            _("Invoice %(number)s", number=order.number)
            if kind == INVOICE
            else _("Order confirmation %(number)s", number=order.number)
        )
        pdf.set_title(title)
        pdf.set_author(studio.name)
        pdf.set_lang(language)
        pdf.add_page()
        _header(pdf, order, studio, kind)
        _client(pdf, order)
        _lines(pdf, order, language)
        _payment(pdf, order, studio)
        name = f"{'invoice' if kind == INVOICE else 'order'}-{order.number}.pdf"
        return name, bytes(pdf.output())
