"""Documents the shop generates: the order confirmation as a PDF (fpdf2)."""

from zoneinfo import ZoneInfo

from fpdf import FPDF

from app.shop.money import format_money


def _latin(text):
    """The core PDF fonts speak Latin-1: keep what they can show."""
    return str(text).replace("×", "x").replace("–", "-").encode("latin-1", "replace").decode(
        "latin-1")


def order_confirmation_pdf(order, studio):
    """The order confirmation: studio, order number and date, client, lines and totals."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Order {order.number}")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, _latin(studio.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 12)
    placed = order.placed_at.astimezone(ZoneInfo(studio.timezone)).strftime("%d %B %Y")
    pdf.cell(0, 8, _latin(f"Order confirmation {order.number} - {placed}"), new_x="LMARGIN",
             new_y="NEXT")
    pdf.cell(0, 8, _latin(f"Client: {order.contact_name} <{order.contact_email}>"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    money = lambda minor: _latin(format_money(minor, order.currency, "en"))  # noqa: E731
    for item in order.items:
        pdf.cell(140, 8, _latin(f"{item.quantity} x {item.product_name}"))
        pdf.cell(0, 8, money(item.line_total_minor), align="R", new_x="LMARGIN", new_y="NEXT")
    for label, amount in (("Promotion", -order.promotion_discount_minor),
                          ("Coupon", -order.coupon_discount_minor),
                          ("Shipping", order.shipping_minor)):
        if amount:
            pdf.cell(140, 8, label)
            pdf.cell(0, 8, money(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "B", 12)
    pdf.cell(140, 10, "Total")
    pdf.cell(0, 10, money(order.total_minor), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
