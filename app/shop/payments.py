"""Payment providers behind one small interface, so a card provider can be added later.

A provider starts the payment of a placed order and tells the client what happens next. Offline
methods leave the order "new" until the photographer marks it paid.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class PaymentStart:
    """What the confirmation page shows, and where to send the client (None: stay)."""

    instructions: str
    redirect_url: str | None = None


class PaymentProvider:
    key: str = ""
    label = ""

    def available_for(self, quote):
        return True

    def start(self, order):
        raise NotImplementedError


class BankTransfer(PaymentProvider):
    key = "bank_transfer"
    label = _l("Bank transfer")

    def start(self, order):
        return PaymentStart(str(_l(
            "Please transfer the total to the studio's account with your order number %(number)s "
            "as the reference. We will start on your order as soon as it arrives.",
            number=order.number)))


class PayAtPickup(PaymentProvider):
    key = "pay_at_pickup"
    label = _l("Pay at pickup")

    def available_for(self, quote):
        return quote.delivery_method == "pickup"

    def start(self, order):
        return PaymentStart(str(_l("You will pay when you pick up your order.")))


PROVIDERS = {provider.key: provider for provider in (BankTransfer(), PayAtPickup())}


def providers_for(quote):
    return [provider for provider in PROVIDERS.values() if provider.available_for(quote)]
