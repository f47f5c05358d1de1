"""The demo studio behind `flask seed-demo`: a school gallery, a QR kindergarten gallery with
cards, clients, a price list with a promotion and a coupon, and the school email workflow.

Everything goes through the same services the site uses, with generated sample photos."""

import io
import math
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image, ImageDraw, ImageFont

from app.accounts import services as accounts
from app.accounts.models import User
from app.extensions import db
from app.galleries import images
from app.galleries import services as galleries
from app.galleries.models import AccessCard, CardClaim, Client, GalleryAccess, GalleryStatus, Registration
from app.shop.models import (
    Coupon,
    DigitalScope,
    DiscountKind,
    GalleryPricing,
    PriceList,
    Product,
    ProductKind,
    Promotion,
)
from app.workflows import services as workflows

DEMO_EMAIL = "demo@proofsheet.local"
DEMO_PASSWORD = "demo-password"
PALETTE = [
    (236, 179, 101),
    (120, 170, 200),
    (180, 140, 190),
    (130, 190, 150),
    (220, 130, 120),
    (200, 200, 140),
    (150, 160, 220),
    (240, 200, 170),
]


class DemoExists(Exception):  # noqa: N818
    """The demo studio was already created."""


def sample_photo(label, index, size=(1200, 800)):
    """A JPEG that looks like a soft studio backdrop with a label, for demo galleries."""
    width, height = size
    base = PALETTE[index % len(PALETTE)]
    image = Image.new("RGB", size, base)
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 4):
        shade = 0.75 + 0.25 * math.sin(y / height * math.pi)
        draw.rectangle([0, y, width, y + 4], fill=tuple(int(c * shade) for c in base))
    centre = (width // 2, int(height * 0.55))
    draw.ellipse(
        [centre[0] - 170, centre[1] - 260, centre[0] + 170, centre[1] + 80],
        fill=tuple(max(0, c - 60) for c in base),
    )
    draw.rounded_rectangle(
        [centre[0] - 300, centre[1] + 60, centre[0] + 300, height],
        radius=120,
        fill=tuple(max(0, c - 80) for c in base),
    )
    font = ImageFont.load_default(size=64)
    draw.text((60, 50), label, fill=(255, 255, 255), font=font)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def _add_photos(gallery, labels, now, offset=0):
    return [
        images.add_photo(gallery, sample_photo(label, offset + i), f"{label}.jpg", now)
        for i, label in enumerate(labels)
    ]


def _price_list(studio, now):
    price_list = PriceList(
        studio_id=studio.id,
        name="School prints 2027",
        shipping_minor=490,
        allows_pickup=True,
        created_at=now,
        pickup_instructions="Pick up at the school office after 4 pm.",
    )
    price_list.products = [
        Product(
            kind=ProductKind.PRINT,
            name="Print 13 × 18 cm",
            print_size="13 × 18 cm",
            paper="lustre",
            price_minor=900,
            position=1,
        ),
        Product(
            kind=ProductKind.PRINT,
            name="Print 20 × 30 cm",
            print_size="20 × 30 cm",
            paper="lustre",
            price_minor=1500,
            position=2,
        ),
        Product(
            kind=ProductKind.DIGITAL,
            name="Digital file",
            digital_scope=DigitalScope.PHOTO,
            price_minor=1200,
            position=3,
        ),
        Product(
            kind=ProductKind.PACKAGE,
            name="Family pack",
            description="2 prints 13 × 18, 1 print 20 × 30 and the digital file",
            includes_download=True,
            price_minor=3900,
            position=4,
        ),
    ]
    db.session.add(price_list)
    db.session.flush()
    return price_list


def _client(studio, email, name, gallery, now):
    client = Client(
        studio_id=studio.id, email=email, name=name, language="en", marketing_consent=False, created_at=now
    )
    db.session.add(client)
    db.session.flush()
    db.session.add(Registration(client_id=client.id, gallery_id=gallery.id, registered_at=now))
    return client


def create_demo(now):
    """Create the demo studio; raises ``DemoExists`` when it is already there."""
    if db.session.scalar(sa.select(User.id).where(User.email == DEMO_EMAIL)) is not None:
        raise DemoExists()
    owner = accounts.create_studio(
        name="Northlight Studio",
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        timezone="Europe/Paris",
        currency="EUR",
        language="en",
        owner_name="Claire Martin",
        now=now,
    )
    studio = owner.studio
    studio.postal_address = "Northlight Studio\n12 rue des Lilas\n75011 Paris, France"
    school = galleries.create_gallery(
        studio.id,
        galleries.GalleryData(
            title="Riverside Primary – Spring portraits",
            slug=None,
            description="Individual portraits, 2027.",
            shoot_date=(now - timedelta(days=10)).date(),
            sale_starts_at=now - timedelta(days=2),
            sale_ends_at=now + timedelta(days=19),
            archives_at=now + timedelta(days=60),
            status=GalleryStatus.PUBLISHED,
            access=GalleryAccess.PUBLIC,
            is_qr=False,
        ),
        now,
    )
    _add_photos(school, [f"Portrait {n}" for n in range(1, 10)], now)
    kindergarten = galleries.create_gallery(
        studio.id,
        galleries.GalleryData(
            title="Maple Kindergarten – Class photos",
            slug=None,
            description="One card per child.",
            shoot_date=(now - timedelta(days=7)).date(),
            sale_starts_at=now - timedelta(days=1),
            sale_ends_at=now + timedelta(days=20),
            archives_at=now + timedelta(days=75),
            status=GalleryStatus.PUBLISHED,
            access=GalleryAccess.REGISTRATION,
            is_qr=True,
        ),
        now,
    )
    group = _add_photos(kindergarten, ["Class photo", "Class photo (fun)"], now, offset=3)
    cards = []
    for index, name in enumerate(["Emma", "Lucas", "Chloé", "Noah"]):
        card = AccessCard(
            gallery_id=kindergarten.id,
            label=f"{name} – Maple class",
            code=f"DEMO{index + 1}KDGN",
            created_at=now,
        )
        card.photos = _add_photos(kindergarten, [f"{name} {n}" for n in (1, 2, 3)], now, offset=index) + group
        db.session.add(card)
        cards.append(card)
    db.session.flush()
    price_list = _price_list(studio, now)
    for gallery in (school, kindergarten):
        db.session.add(GalleryPricing(gallery_id=gallery.id, price_list_id=price_list.id))
    db.session.add(
        Promotion(
            studio_id=studio.id,
            gallery_id=school.id,
            name="Early bird",
            discount_kind=DiscountKind.PERCENT,
            discount_value=1500,
            starts_at=now - timedelta(days=2),
            ends_at=now + timedelta(days=5),
            created_at=now,
        )
    )
    db.session.add(
        Coupon(
            studio_id=studio.id,
            code="WELCOME5",
            discount_kind=DiscountKind.FIXED,
            discount_value=500,
            usage_limit=100,
            created_at=now,
        )
    )
    for email, name in [
        ("amelie.durand@example.com", "Amélie Durand"),
        ("tom.baker@example.com", "Tom Baker"),
        ("sara.lindqvist@example.com", "Sara Lindqvist"),
    ]:
        _client(studio, email, name, school, now - timedelta(days=3))
    parent = _client(studio, "julie.moreau@example.com", "Julie Moreau", kindergarten, now)
    for card in cards[:2]:  # Emma and Lucas are siblings: one parent, two cards
        db.session.add(CardClaim(client_id=parent.id, card_id=card.id, claimed_at=now))
    workflow = workflows.duplicate_template(studio, "school", "Spring 2027 school", now)
    workflows.assign_workflow(school, workflow, now)
    workflows.assign_workflow(kindergarten, workflow, now)
    db.session.flush()
    return owner
