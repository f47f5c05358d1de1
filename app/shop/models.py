"""Price lists and products, promotions and coupons, carts, orders and their status history.

Money is stored as integer minor units (cents) in the studio's currency; never floats.
"""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.timeutil import UTCDateTime


class ProductKind(StrEnum):
    PRINT = "print"
    DIGITAL = "digital"
    PACKAGE = "package"


class DigitalScope(StrEnum):
    """What a digital download product delivers."""

    PHOTO = "photo"  # the one photo it was added for
    CARD = "card"  # every photo of the client's access card
    GALLERY = "gallery"  # every photo of the gallery the client may see


class DiscountKind(StrEnum):
    PERCENT = "percent"  # value in basis points: 1250 = 12.5 %
    FIXED = "fixed"  # value in minor units


class OrderStatus(StrEnum):
    NEW = "new"
    PAID = "paid"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    READY_FOR_PICKUP = "ready_for_pickup"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class DeliveryMethod(StrEnum):
    SHIPPING = "shipping"
    PICKUP = "pickup"
    NONE = "none"  # digital only: nothing to ship


class PriceList(Model):
    """A studio's price list; galleries point at one (QR galleries may add one for group photos)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    shipping_minor: Mapped[int] = mapped_column(default=0)
    allows_pickup: Mapped[bool] = mapped_column(default=False)
    pickup_instructions: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    products: Mapped[list["Product"]] = relationship(
        back_populates="price_list",
        order_by="Product.position, Product.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Product(Model):
    """Something a client can buy for a photo: a print, a digital download or a package."""

    id: Mapped[int] = mapped_column(primary_key=True)
    price_list_id: Mapped[int] = mapped_column(sa.ForeignKey("price_list.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    print_size: Mapped[str | None] = mapped_column(sa.String(40))  # "13 × 18 cm"
    paper: Mapped[str | None] = mapped_column(sa.String(40))  # "lustre", "matte"
    digital_scope: Mapped[str | None] = mapped_column(sa.String(16))
    # A package may include the digital file of its photo, delivered once the order is paid.
    includes_download: Mapped[bool] = mapped_column(default=False)
    price_minor: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    price_list: Mapped[PriceList] = relationship(back_populates="products")

    __table_args__ = (sa.CheckConstraint("price_minor >= 0", name="price_not_negative"),)

    @property
    def needs_shipping(self):
        return self.kind in (ProductKind.PRINT, ProductKind.PACKAGE)

    @property
    def delivers_download(self):
        return self.kind == ProductKind.DIGITAL or self.includes_download


class GalleryPricing(Model):
    """Which price lists a gallery sells from (kept in the shop: galleries know nothing of it)."""

    gallery_id: Mapped[int] = mapped_column(sa.ForeignKey("gallery.id", ondelete="CASCADE"), primary_key=True)
    price_list_id: Mapped[int | None] = mapped_column(sa.ForeignKey("price_list.id", ondelete="SET NULL"))
    group_price_list_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("price_list.id", ondelete="SET NULL")
    )

    price_list: Mapped[PriceList | None] = relationship(foreign_keys=[price_list_id])
    group_price_list: Mapped[PriceList | None] = relationship(foreign_keys=[group_price_list_id])
    # Payment method keys this gallery offers, comma-separated; None: every method the studio
    # has enabled (Shop → Payments).
    payment_methods: Mapped[str | None] = mapped_column(sa.String(120))


class Promotion(Model):
    """A gallery's time-limited discount; its end is the "promotion expiry" email occurrence."""

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), index=True)
    gallery_id: Mapped[int] = mapped_column(sa.ForeignKey("gallery.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(120))
    discount_kind: Mapped[str] = mapped_column(sa.String(16))
    discount_value: Mapped[int]
    minimum_order_minor: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Removed promotions are kept (orders refer to them) but no longer apply or trigger email.
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("discount_value > 0", name="discount_positive"),
        sa.Index("ix_promotion_gallery_ends", "gallery_id", "ends_at"),
        sa.Index("ix_promotion_ends_at", "ends_at"),
    )

    def is_active(self, now):
        return self.removed_at is None and self.starts_at <= now < self.ends_at


class Coupon(Model):
    """A studio-wide code with validity dates and an optional usage limit."""

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(40))  # stored upper-case
    discount_kind: Mapped[str] = mapped_column(sa.String(16))
    discount_value: Mapped[int]
    minimum_order_minor: Mapped[int] = mapped_column(default=0)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    usage_limit: Mapped[int | None]
    # Incremented by one conditional UPDATE at checkout, so the limit holds under concurrency.
    times_used: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("studio_id", "code"),
        sa.CheckConstraint("discount_value > 0", name="discount_positive"),
        sa.CheckConstraint("usage_limit IS NULL OR times_used <= usage_limit", name="within_limit"),
    )


class Cart(Model):
    """A client's cart across the studio's galleries. Open from its first item until it is
    ordered or emptied: that span is the "product added to cart" email occurrence."""

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="CASCADE"))
    # The gallery of the first item: its workflow sends the abandoned-cart emails.
    gallery_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gallery.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_item_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_item_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str | None] = mapped_column(sa.String(16))  # ordered / emptied

    items: Mapped[list["CartItem"]] = relationship(
        back_populates="cart", order_by="CartItem.id", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        # One open cart per client.
        sa.Index(
            "uq_cart_one_open_per_client",
            "client_id",
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        ),
        sa.Index("ix_cart_first_item_at", "first_item_at"),
    )


class CartItem(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(sa.ForeignKey("cart.id", ondelete="CASCADE"), index=True)
    gallery_id: Mapped[int] = mapped_column(sa.ForeignKey("gallery.id", ondelete="CASCADE"))
    photo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("photo.id", ondelete="CASCADE"))
    card_id: Mapped[int | None] = mapped_column(sa.ForeignKey("access_card.id", ondelete="SET NULL"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    cart: Mapped[Cart] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()
    photo = relationship("Photo")
    gallery = relationship("Gallery")

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)


class StudioCounter(Model):
    """Per-studio sequences (order numbers), advanced by one atomic UPDATE ... RETURNING."""

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Order(Model):
    """A placed order. Its number is per studio and never shared, even under concurrent checkouts."""

    __tablename__ = "shop_order"  # "order" is a reserved word in SQL

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    # The gallery the order was placed from (its first item's): its workflow thanks the client.
    gallery_id: Mapped[int | None] = mapped_column(sa.ForeignKey("gallery.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(24), default=OrderStatus.NEW)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    currency: Mapped[str] = mapped_column(sa.String(3))
    subtotal_minor: Mapped[int]
    promotion_discount_minor: Mapped[int] = mapped_column(default=0)
    coupon_discount_minor: Mapped[int] = mapped_column(default=0)
    shipping_minor: Mapped[int] = mapped_column(default=0)
    total_minor: Mapped[int]
    promotion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("promotion.id", ondelete="SET NULL"))
    coupon_id: Mapped[int | None] = mapped_column(sa.ForeignKey("coupon.id", ondelete="SET NULL"))
    coupon_code: Mapped[str | None] = mapped_column(sa.String(40))
    contact_name: Mapped[str] = mapped_column(sa.String(200))
    contact_email: Mapped[str] = mapped_column(sa.String(254))
    # E.164 when typed at checkout (app/sms/phone.py): for the carrier and order texts.
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    delivery_method: Mapped[str] = mapped_column(sa.String(16))
    address_line1: Mapped[str] = mapped_column(sa.String(200), default="")
    address_line2: Mapped[str] = mapped_column(sa.String(200), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    city: Mapped[str] = mapped_column(sa.String(120), default="")
    # State, province, oblast... where the country's postal format asks for one (US, CA, RU...):
    # as the client chose it, in the address's own script.
    region: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    country: Mapped[str] = mapped_column(sa.String(2), default="")
    # "Email me when my order status changes": notifications "when requested" rely on it.
    notify_status_changes: Mapped[bool] = mapped_column(default=False)
    payment_method: Mapped[str] = mapped_column(sa.String(32))
    # The bank transfer's reference (an ISO 11649 "RF" creditor reference), set at checkout.
    payment_reference: Mapped[str | None] = mapped_column(sa.String(40))
    # What was refunded so far through the card provider, in minor units.
    refunded_minor: Mapped[int] = mapped_column(default=0, server_default="0")
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    carrier: Mapped[str | None] = mapped_column(sa.String(60))
    tracking_number: Mapped[str | None] = mapped_column(sa.String(80))
    expected_delivery_on: Mapped[date | None] = mapped_column(sa.Date)
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)

    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", order_by="OrderItem.id", cascade="all, delete-orphan", passive_deletes=True
    )
    history: Mapped[list["OrderStatusChange"]] = relationship(
        back_populates="order",
        order_by="OrderStatusChange.changed_at, OrderStatusChange.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    client = relationship("Client")

    __table_args__ = (
        sa.UniqueConstraint("studio_id", "number"),
        sa.Index("ix_order_studio_placed", "studio_id", "placed_at"),
        sa.Index("ix_order_placed_at", "placed_at"),
    )


class OrderItem(Model):
    """A line of an order, with the product's name and price as they were when ordered."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    gallery_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("gallery.id", ondelete="SET NULL"), index=True
    )
    photo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("photo.id", ondelete="SET NULL"))
    card_id: Mapped[int | None] = mapped_column(sa.ForeignKey("access_card.id", ondelete="SET NULL"))
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id", ondelete="SET NULL"))
    product_kind: Mapped[str] = mapped_column(sa.String(16))
    product_name: Mapped[str] = mapped_column(sa.String(200))
    digital_scope: Mapped[str | None] = mapped_column(sa.String(16))
    delivers_download: Mapped[bool] = mapped_column(default=False)
    unit_price_minor: Mapped[int]
    quantity: Mapped[int]
    line_total_minor: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="items")
    photo = relationship("Photo")
    gallery = relationship("Gallery")


class OrderStatusChange(Model):
    """One step of an order's history: who moved it from what to what, and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(24))
    to_status: Mapped[str] = mapped_column(sa.String(24))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(sa.Text, default="")

    order: Mapped[Order] = relationship(back_populates="history")
    changed_by = relationship("User")


class OrderEmailSetting(Model):
    """Settings → Order emails, per studio and event: when to send, to whom, review first, and
    the studio's own wording (None: the standard template)."""

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    mode: Mapped[str] = mapped_column(sa.String(16))  # never / always / requested
    to_client: Mapped[bool] = mapped_column(default=True)
    to_operators: Mapped[bool] = mapped_column(default=False)
    review: Mapped[bool] = mapped_column(default=False)
    attachment: Mapped[str] = mapped_column(sa.String(16), default="")  # "", confirmation, invoice
    # A text message to the client too: never / always (a mobile number is known) / requested
    # (the client ticked the SMS consent). The team never gets texts.
    sms_mode: Mapped[str] = mapped_column(sa.String(16), default="never", server_default="never")


class OrderEmailWording(Model):
    """The studio's own wording of an order email in one language (the standard wording of
    that language when there is none)."""

    __tablename__ = "order_email_wording"

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    language: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_html: Mapped[str] = mapped_column(sa.Text)


class OrderSmsWording(Model):
    """The studio's own text message for an order event in one language (the standard text of
    that language when there is none)."""

    __tablename__ = "order_sms_wording"

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    language: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    body: Mapped[str] = mapped_column(sa.Text)


class StudioPaymentSettings(Model):
    """Shop → Payments: the studio's Stripe keys (secrets Fernet-encrypted from SECRET_KEY, never
    shown back), its bank account for transfers, and whether pickups may be paid on the spot."""

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    card_enabled: Mapped[bool] = mapped_column(default=False)
    stripe_publishable_key: Mapped[str] = mapped_column(sa.String(255), default="")
    stripe_secret_key_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    stripe_webhook_secret_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    # Kept in clear to show "test mode" without decrypting: sk_test_ / sk_live_ / rk_...
    stripe_key_prefix: Mapped[str] = mapped_column(sa.String(16), default="")
    bank_transfer_enabled: Mapped[bool] = mapped_column(default=True)
    bank_account_holder: Mapped[str] = mapped_column(sa.String(140), default="")
    bank_iban: Mapped[str] = mapped_column(sa.String(34), default="")  # compact, upper-case
    bank_bic: Mapped[str] = mapped_column(sa.String(11), default="")
    # National details instead of (or besides) an IBAN, e.g. "Bankgiro 5050-1055".
    bank_other_details: Mapped[str] = mapped_column(sa.Text, default="")
    pay_at_pickup_enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_test_mode(self):
        return self.stripe_key_prefix.endswith("_test_")


class PaymentStatus(StrEnum):
    OPEN = "open"  # a Checkout Session waits for the client
    PAID = "paid"  # confirmed by a verified webhook
    EXPIRED = "expired"  # abandoned: the session expired unpaid


class Payment(Model):
    """A card payment attempt of an order: one Stripe Checkout Session, for the order's exact
    total in its currency (minor units)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(16), default="stripe")
    session_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    session_url: Mapped[str] = mapped_column(sa.Text, default="")
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(255))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(16), default=PaymentStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()

    __table_args__ = (sa.CheckConstraint("amount_minor > 0", name="amount_positive"),)


class Refund(Model):
    """Money sent back to the client through the provider (full or partial)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id", ondelete="CASCADE"))
    provider_refund_id: Mapped[str] = mapped_column(sa.String(255), unique=True)
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(24))  # the provider's: succeeded, pending...
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_user.id", ondelete="SET NULL"))

    __table_args__ = (sa.CheckConstraint("amount_minor > 0", name="amount_positive"),)


class ProcessedWebhookEvent(Model):
    """A provider event already handled: a redelivered event id is acknowledged and skipped.
    Keyed per studio too: a studio signs its own events, so it must not shadow another's ids."""

    studio_id: Mapped[int] = mapped_column(sa.ForeignKey("studio.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    event_type: Mapped[str] = mapped_column(sa.String(80))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
