"""Studio payment settings (Shop → Payments) and which methods a gallery offers.

The Stripe secret key and webhook signing secret are stored as Fernet tokens keyed from
SECRET_KEY (the helper that keeps studios' SMTP passwords) and never shown back; a blank field
keeps the stored secret. Without a settings row a studio offers what it always did: bank
transfer, and paying at pickup.
"""

import sqlalchemy as sa

from app.extensions import db
from app.mailing.crypto import decrypt, encrypt
from app.shop.models import GalleryPricing, StudioPaymentSettings

CARD, BANK_TRANSFER, PAY_AT_PICKUP = "card", "bank_transfer", "pay_at_pickup"
METHOD_KEYS = (CARD, BANK_TRANSFER, PAY_AT_PICKUP)


def settings_of(studio_id):
    """The studio's row, or an unsaved one with the defaults."""
    row = db.session.get(StudioPaymentSettings, studio_id)
    if row is None:
        row = StudioPaymentSettings(
            studio_id=studio_id,
            card_enabled=False,
            stripe_publishable_key="",
            stripe_key_prefix="",
            bank_transfer_enabled=True,
            bank_account_holder="",
            bank_iban="",
            bank_bic="",
            bank_other_details="",
            pay_at_pickup_enabled=True,
        )
    return row


def key_prefix(secret_key):
    """``sk_test_`` / ``sk_live_`` / ``rk_test_``...: enough to show the mode, nothing secret."""
    parts = secret_key.split("_")
    return "_".join(parts[:2]) + "_" if len(parts) > 2 else ""


def save_settings(studio_id, values, now):
    """Store the form's values; blank secrets keep the stored ones. Flushes only."""
    row = db.session.get(StudioPaymentSettings, studio_id) or settings_of(studio_id)
    secret_key = values.pop("stripe_secret_key", "")
    webhook_secret = values.pop("stripe_webhook_secret", "")
    for name, value in values.items():
        setattr(row, name, value)
    if secret_key:
        row.stripe_secret_key_encrypted = encrypt(secret_key)
        row.stripe_key_prefix = key_prefix(secret_key)
    if webhook_secret:
        row.stripe_webhook_secret_encrypted = encrypt(webhook_secret)
    row.updated_at = now
    db.session.add(row)
    db.session.flush()
    return row


def stripe_secret_key(row):
    """The decrypted secret key, or None (not set, or SECRET_KEY changed since)."""
    token = row.stripe_secret_key_encrypted if row is not None else None
    return decrypt(token) if token else None


def stripe_webhook_secret(row):
    token = row.stripe_webhook_secret_encrypted if row is not None else None
    return decrypt(token) if token else None


def card_ready(row):
    """Card payments need the switch on and both secrets readable."""
    return bool(row.card_enabled and stripe_secret_key(row) and stripe_webhook_secret(row))


def studio_methods(studio_id):
    """The method keys the studio has enabled, in display order."""
    row = settings_of(studio_id)
    enabled = {
        CARD: card_ready(row),
        BANK_TRANSFER: row.bank_transfer_enabled,
        PAY_AT_PICKUP: row.pay_at_pickup_enabled,
    }
    return [key for key in METHOD_KEYS if enabled[key]]


def parse_methods(text):
    return [key for key in (text or "").split(",") if key in METHOD_KEYS]


def gallery_choice(gallery_id):
    """The gallery's own choice (a list of keys), or None for "all the studio enabled"."""
    text = db.session.scalar(
        sa.select(GalleryPricing.payment_methods).where(GalleryPricing.gallery_id == gallery_id)
    )
    return None if text is None else parse_methods(text)


def set_gallery_methods(gallery_id, methods):
    """Store the gallery's choice; None means every method the studio enables."""
    pricing = db.session.get(GalleryPricing, gallery_id) or GalleryPricing(gallery_id=gallery_id)
    pricing.payment_methods = (
        None if methods is None else ",".join(key for key in METHOD_KEYS if key in methods)
    )
    db.session.add(pricing)
    db.session.flush()


def offered_methods(studio_id, gallery_ids):
    """What a cart spanning these galleries may be paid with: the studio's enabled methods that
    every one of the galleries offers (one query for the galleries' choices)."""
    methods = studio_methods(studio_id)
    if not gallery_ids:
        return methods
    choices = db.session.scalars(
        sa.select(GalleryPricing.payment_methods).where(
            GalleryPricing.gallery_id.in_(set(gallery_ids)), GalleryPricing.payment_methods.is_not(None)
        )
    )
    for text in choices:
        allowed = set(parse_methods(text))
        methods = [key for key in methods if key in allowed]
    return methods
