"""Bank transfer details: the studio's account, a reference per order, and the EPC QR code.

The reference is an ISO 11649 creditor reference ("RF" + two check digits + the order number's
digits): banking apps and the EPC QR code's structured field check it, so a mistyped reference
is refused by the client's bank instead of reaching the studio unmatched. The EPC (SEPA) QR
code only exists for euros; other currencies show the details as text.
"""

import io
from dataclasses import dataclass
from decimal import Decimal

import segno
from flask_babel import lazy_gettext as _l
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException


def _rf_check_digits(body):
    # ISO 7064 mod 97-10, as for IBANs: letters count as 10..35, "RF00" moved to the end.
    digits = "".join(str(int(char, 36)) for char in body + "RF00")
    return 98 - int(digits) % 97


def creditor_reference(order_number):
    """``RF`` + check digits + the order number's letters and digits, e.g. RF712026 00042."""
    body = "".join(char for char in order_number.upper() if char.isalnum())[:21]
    return f"RF{_rf_check_digits(body):02d}{body}"


def is_valid_reference(reference):
    compact = reference.replace(" ", "").upper()
    return (
        compact.startswith("RF") and len(compact) > 4 and _rf_check_digits(compact[4:]) == int(compact[2:4])
    )


def grouped(text):
    """Groups of four characters, as printed on statements ("RF71 2026 0004 2")."""
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalized_iban(text):
    """The IBAN compact and upper-case; ``ValueError`` with a message when the checksum or the
    country's format is wrong (schwifty)."""
    try:
        return IBAN(text).compact
    except SchwiftyException as error:
        raise ValueError(_l("This IBAN is not valid (%(why)s).", why=str(error))) from None


def normalized_bic(text):
    try:
        return BIC(text).compact
    except SchwiftyException as error:
        raise ValueError(_l("This BIC is not valid (%(why)s).", why=str(error))) from None


@dataclass(frozen=True)
class TransferDetails:
    holder: str
    iban: str
    bic: str
    other: str
    reference: str
    amount_minor: int
    currency: str

    @property
    def has_account(self):
        return bool(self.iban or self.other)

    @property
    def iban_grouped(self):
        return grouped(self.iban)

    @property
    def reference_grouped(self):
        return grouped(self.reference)


def transfer_details(order, settings):
    """What the client needs to pay ``order`` by transfer to the studio's account."""
    return TransferDetails(
        holder=settings.bank_account_holder,
        iban=settings.bank_iban,
        bic=settings.bank_bic,
        other=settings.bank_other_details,
        reference=order.payment_reference or order.number,
        amount_minor=order.total_minor,
        currency=order.currency,
    )


def epc_qr(details):
    """The EPC QR code ("Girocode") of the transfer, or None when it cannot exist: not euros,
    no IBAN or holder, or an amount outside the standard's range."""
    if details.currency != "EUR" or not (details.iban and details.holder):
        return None
    if not 1 <= details.amount_minor <= 99_999_999_999:
        return None
    amount = Decimal(details.amount_minor) / 100  # the standard's format: euros with a point
    reference = details.reference if is_valid_reference(details.reference) else None
    return segno.helpers.make_epc_qr(
        name=details.holder[:70],
        iban=details.iban,
        amount=amount,
        bic=details.bic or None,
        reference=reference,
        text=None if reference else details.reference[:140],
    )


def epc_qr_png(details, scale=4):
    """PNG bytes of the EPC QR code, or None."""
    code = epc_qr(details)
    if code is None:
        return None
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def epc_qr_data_uri(details):
    code = epc_qr(details)
    return code.png_data_uri(scale=4, border=4) if code is not None else None
