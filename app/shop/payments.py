"""Payment providers behind one small interface.

A provider starts the payment of a placed order and tells the client what happens next.
Offline methods (bank transfer, pay at pickup) leave the order "new" until the photographer
marks it paid; a card payment (Stripe Checkout, ``stripe_checkout``) makes it paid only when
Stripe's signed webhook says so (``stripe_webhooks``). Which methods a checkout offers is the
studio's and the galleries' choice (``payment_settings.offered_methods``).
"""

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.shop.money import format_money
from app.shop.payment_bank import TransferDetails, transfer_details
from app.shop.payment_settings import BANK_TRANSFER, CARD, PAY_AT_PICKUP, settings_of


@dataclass(frozen=True)
class PaymentStart:
    """What the confirmation page and email say; bank details when paying by transfer."""

    instructions: str
    transfer: TransferDetails | None = None


class PaymentProvider:
    key: str = ""
    label = ""

    def available_for(self, quote):
        return True

    def start(self, order):
        raise NotImplementedError


def _money(minor, currency):
    return format_money(minor, currency, str(get_locale() or "en"))


class BankTransfer(PaymentProvider):
    key = BANK_TRANSFER
    label = _l("Bank transfer")

    def start(self, order):
        details = transfer_details(order, settings_of(order.studio_id))
        amount = _money(order.total_minor, order.currency)
        if not details.has_account:
            return PaymentStart(
                str(
                    _l(
                        "Please transfer the total (%(amount)s) to the studio's account with %(reference)s "
                        "as the reference. We will start on your order as soon as it arrives.",
                        amount=amount,
                        reference=details.reference_grouped,
                    )
                ),
                details,
            )
        account = ", ".join(
            part
            for part in (
                details.holder,
                details.iban and f"IBAN {details.iban_grouped}",
                details.bic and f"BIC {details.bic}",
                details.other,
            )
            if part
        )
        return PaymentStart(
            str(
                _l(
                    "Please transfer the total (%(amount)s) to %(account)s with the reference "
                    "%(reference)s. We will start on your order as soon as it arrives.",
                    amount=amount,
                    account=account,
                    reference=details.reference_grouped,
                )
            ),
            details,
        )


class PayAtPickup(PaymentProvider):
    key = PAY_AT_PICKUP
    label = _l("Pay at pickup")

    def available_for(self, quote):
        return quote.delivery_method == "pickup"

    def start(self, order):
        return PaymentStart(str(_l("You will pay when you pick up your order.")))


class CardPayment(PaymentProvider):
    key = CARD
    label = _l("Card (secure payment page)")

    def start(self, order):
        if order.paid_at is not None:
            return PaymentStart(str(_l("Your card payment was received. Thank you!")))
        return PaymentStart(
            str(
                _l(
                    "You pay %(amount)s by card on the secure payment page. We will confirm by email "
                    "as soon as the payment is received.",
                    amount=_money(order.total_minor, order.currency),
                )
            )
        )


PROVIDERS = {provider.key: provider for provider in (CardPayment(), BankTransfer(), PayAtPickup())}


def providers_for(quote, methods=None):
    """The providers for this quote among ``methods`` (keys; None: all of them)."""
    return [
        provider
        for key, provider in PROVIDERS.items()
        if (methods is None or key in methods) and provider.available_for(quote)
    ]
