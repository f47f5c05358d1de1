"""Bad input gets a clear message at the form, never a 500 later: line breaks and control
characters in one-line text (names, titles, subjects, labels) and dates outside 2000..2100.

Browsers never send a line break from an ``<input>``, so these tests post the raw values.
"""

import io

import flask
import pytest
import sqlalchemy as sa

from app.accounts import services as accounts
from app.accounts.models import Studio, User
from app.extensions import db
from app.forms_common import single_line_problem, year_in_range
from app.galleries import clients
from app.galleries.models import AccessCard, Client, Gallery, GalleryAccess
from app.mailing.models import StudioMailSettings
from app.shop.models import Coupon, Order, OrderEmailSetting, PriceList, Product, Promotion
from app.workflows.models import Workflow, WorkflowEmail
from tests import factories
from tests.factories import NOW
from tests.shop_admin_helpers import make_shop, place
from tests.shop_factories import make_price_list, sell_gallery
from tests.workflow_factories import make_workflow

# CR LF (header injection), a lone LF, the Unicode line and paragraph separators, NEL.
LINE_BREAKS = [
    "Evil\r\nBcc: victim@example.com",
    "Evil\nname",
    "Evil\u2028name",
    "Evil\u2029name",
    "Evil\x85name",
]
NAME_MESSAGE = "A name cannot contain line breaks."


def count(model):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def assert_refused(response, message):
    """The form came back with ``message`` on it: no redirect, no 500."""
    assert response.status_code in (200, 400, 422), response.status_code
    assert message in response.get_data(as_text=True)


# ------------------------------------------------------------------ the validators


@pytest.mark.parametrize("text", [*LINE_BREAKS, "Evil\rname", "Evil\vname", "Evil\fname", "Evil\x1ename"])
def test_every_kind_of_line_break_is_one(text):
    assert single_line_problem(text) == NAME_MESSAGE


@pytest.mark.parametrize(
    "text", ["Evil\x00name", "Evil\tname", "Evil\x1bname", "Evil\x7fname", "Evil\x9bname"]
)
def test_control_characters_are_refused_too(text):
    assert single_line_problem(text, "title") == "A title cannot contain control characters."


@pytest.mark.parametrize(
    "text", [None, "", "Zoë O'Brien – Studio Lumière 📷", "  padded  ", "שלום", "\u200bzero width"]
)
def test_ordinary_text_is_one_line(text):
    assert single_line_problem(text) is None


def test_sane_years_are_2000_to_2100():
    from datetime import date, datetime

    assert (
        year_in_range(None)
        and year_in_range(date(2000, 1, 1))
        and year_in_range(datetime(2100, 12, 31, 23, 59))
    )
    assert not year_in_range(date(1999, 12, 31)) and not year_in_range(datetime(2101, 1, 1))


# ------------------------------------------------------------------ accounts


@pytest.mark.parametrize("field", ["studio_name", "name"])
@pytest.mark.parametrize("value", LINE_BREAKS[:3])
def test_signup_refuses_line_breaks_in_names(client, app, field, value):
    data = {
        "studio_name": "Lumen Studio",
        "name": "Ana Lumen",
        "email": "ana@example.com",
        "password": "a long secret",
        "confirm": "a long secret",
        "timezone": "Europe/Paris",
        "currency": "EUR",
        "language": "en",
        field: value,
    }
    assert_refused(client.post("/signup", data=data), NAME_MESSAGE)
    assert count(Studio) == 0 and count(User) == 0


def test_studio_settings_refuse_line_breaks_in_the_name_and_watermark(client, logged_in):
    data = {
        "studio-name": "Northlight",
        "studio-email": "hello@example.com",
        "studio-timezone": "Europe/Paris",
        "studio-currency": "EUR",
        "studio-language": "en",
        "studio-watermark_text": "© Northlight",
    }
    assert_refused(
        client.post("/profile/studio", data={**data, "studio-name": "North\r\nlight"}), NAME_MESSAGE
    )
    assert_refused(
        client.post("/profile/studio", data={**data, "studio-watermark_text": "©\nN"}),
        "This field cannot contain line breaks.",
    )
    db.session.expire_all()
    studio = db.session.get(Studio, logged_in.studio_id)
    assert (studio.name, studio.watermark_text) == ("Northlight Studio", None)


def test_profile_refuses_a_line_break_in_your_name(client, logged_in):
    response = client.post("/profile/me", data={"profile-name": "Ana\u2028Bcc: x@example.com"})
    assert_refused(response, NAME_MESSAGE)
    db.session.expire_all()
    assert db.session.get(User, logged_in.id).name == logged_in.name


def test_accepting_an_invitation_refuses_a_line_break_in_the_name(client, owner):
    invitation = accounts.invite_operator(owner.studio, "op@example.com", owner, NOW)
    db.session.commit()
    token = accounts.invitation_token(invitation)
    response = client.post(
        f"/invitations/{token}",
        data={
            "name": "Olivia\r\nBcc: x@example.com",
            "password": "operator pass",
            "confirm": "operator pass",
        },
    )
    assert_refused(response, NAME_MESSAGE)
    assert count(User) == 1


# ------------------------------------------------------------------ galleries and cards


def gallery_data(**overrides):
    return {
        "title": "Smith wedding",
        "slug": "",
        "description": "Saturday in Lyon",
        "shoot_date": "2026-06-13",
        "sale_starts_at": "2026-06-20T09:00",
        "sale_ends_at": "2026-07-20T18:00",
        "archives_at": "2026-09-01T00:00",
        "status": "draft",
        "access": "public",
        "password": "",
        **overrides,
    }


@pytest.mark.parametrize("title", [*LINE_BREAKS, "Smith\x00wedding"])
def test_gallery_title_must_be_one_line(client, logged_in, title):
    response = client.post("/admin/galleries/new", data=gallery_data(title=title))
    message = (
        "A title cannot contain control characters."
        if "\x00" in title
        else "A title cannot contain line breaks."
    )
    assert_refused(response, message)
    assert count(Gallery) == 0


def test_editing_a_gallery_title_with_a_line_break_changes_nothing(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio, title="Spring portraits")
    response = client.post(
        f"/admin/galleries/{gallery.id}/edit", data=gallery_data(title="Spring\nportraits")
    )
    assert_refused(response, "A title cannot contain line breaks.")
    db.session.expire_all()
    assert db.session.get(Gallery, gallery.id).title == "Spring portraits"


@pytest.fixture
def qr_gallery(logged_in):
    return factories.make_gallery(logged_in.studio, title="Maple class", is_qr=True)


def test_card_labels_must_be_one_line(client, qr_gallery):
    response = client.post(
        f"/admin/galleries/{qr_gallery.id}/cards", data={"create-count": "3", "create-prefix": "Class\r\n3B"}
    )
    assert_refused(response, "A label cannot contain line breaks.")
    assert count(AccessCard) == 0


@pytest.mark.parametrize("content", [b'label\nEmma\n"Noah\nBcc: x"\n', b"label\nEmma\nNo\x1bah\n"])
def test_a_csv_label_with_a_line_break_names_its_row(client, qr_gallery, content):
    response = client.post(
        f"/admin/galleries/{qr_gallery.id}/cards",
        data={"import-file": (io.BytesIO(content), "labels.csv")},
        content_type="multipart/form-data",
    )
    assert_refused(response, "Row 2: a label cannot contain line breaks or control characters.")
    assert count(AccessCard) == 0


def test_registering_with_a_line_break_in_the_name_is_refused(client, owner, monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    gallery = factories.make_gallery(owner.studio, access=GalleryAccess.REGISTRATION)
    response = client.post(
        f"/g/{owner.studio.slug}/{gallery.slug}/register",
        data={"name": "Alex\r\nBcc: x@example.com", "email": "alex@example.com", "language": "en"},
    )
    assert_refused(response, NAME_MESSAGE)
    assert count(Client) == 0


# ------------------------------------------------------------------ checkout


@pytest.fixture
def buyer_shop(owner, client, app, monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    studio = owner.studio
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    photo = factories.make_photo(gallery)
    buyer = factories.make_client(studio, email="parent@example.com", gallery=gallery)
    with app.test_request_context():  # signed in the way the app records it, whatever its form
        clients.sign_in(buyer, NOW)
        signed_in = dict(flask.session)
    with client.session_transaction() as session:
        session.update(signed_in)
    client.post(
        f"/s/{studio.slug}/cart/add",
        data={
            "gallery_id": gallery.id,
            "photo_id": photo.id,
            "product_id": price_list.products[0].id,
            "quantity": 1,
            "next": f"/s/{studio.slug}/cart",
        },
    )
    return studio


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("name", NAME_MESSAGE),
        ("address_line1", "This field cannot contain line breaks."),
        ("city", "This field cannot contain line breaks."),
    ],
)
def test_checkout_refuses_line_breaks(client, buyer_shop, field, message):
    data = {
        "name": "Alex Parent",
        "email": "parent@example.com",
        "delivery_method": "shipping",
        "address_line1": "1 Rue des Lilas",
        "postal_code": "75011",
        "city": "Paris",
        "country": "FR",
        "payment_method": "bank_transfer",
        "place_order": "1",
        field: "Paris\r\nBcc: x@example.com",
    }
    assert_refused(client.post(f"/s/{buyer_shop.slug}/checkout", data=data), message)
    assert count(Order) == 0


# ------------------------------------------------------------------ workflows


def test_workflow_titles_must_be_one_line(client, logged_in):
    page = client.post("/admin/workflows/new", data={"title": "Weddings\nBcc: x"}, follow_redirects=True)
    assert_refused(page, "A title cannot contain line breaks.")
    assert count(Workflow) == 0
    workflow = make_workflow(logged_in.studio, title="Weddings")
    page = client.post(
        f"/admin/workflows/{workflow.id}/rename", data={"title": "Wed\u2028dings"}, follow_redirects=True
    )
    assert_refused(page, "A title cannot contain line breaks.")
    db.session.expire_all()
    assert db.session.get(Workflow, workflow.id).title == "Weddings"


def test_workflow_email_subject_must_be_one_line(client, logged_in):
    workflow = make_workflow(logged_in.studio)
    response = client.post(
        f"/admin/workflows/{workflow.id}/emails/new",
        data={
            "trigger": "sale_start",
            "rule": "after",
            "days": "3",
            "send_time": "09:00",
            "recipient_filter": "not_ordered",
            "subject": "Your photos\r\nBcc: x@example.com",
            "body_html": "<p>Hello %client_name%</p>",
        },
    )
    assert_refused(response, "A subject cannot contain line breaks.")
    assert count(WorkflowEmail) == 0


# ------------------------------------------------------------------ mail settings


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("sender_name", NAME_MESSAGE),
        ("smtp_host", "This field cannot contain line breaks."),
        ("username", "This field cannot contain line breaks."),
    ],
)
def test_mail_settings_refuse_line_breaks(client, logged_in, field, message):
    data = {
        "sender_email": "hello@northlight.example.com",
        "sender_name": "Northlight Studio",
        "reply_to": "",
        "default_cc": "",
        "smtp_host": "127.0.0.1",
        "smtp_port": "2525",
        "security": "starttls",
        "username": "studio",
        "password": "s3cret-smtp",
        field: "Northlight\r\nBcc: victim@example.com",
    }
    assert_refused(client.post("/admin/mail/settings", data=data), message)
    assert count(StudioMailSettings) == 0


def test_the_sender_name_is_stored_stripped(client, logged_in):
    data = {
        "sender_email": "hello@northlight.example.com",
        "sender_name": "  Northlight Studio ",
        "reply_to": "",
        "default_cc": "",
        "smtp_host": "",
        "smtp_port": "",
        "security": "starttls",
        "username": "",
        "password": "",
    }
    assert client.post("/admin/mail/settings", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(StudioMailSettings, logged_in.studio_id).sender_name == "Northlight Studio"


# ------------------------------------------------------------------ shop admin


def test_price_list_and_product_names_must_be_one_line(client, logged_in):
    response = client.post("/admin/shop/price-lists/new", data={"name": "Weddings\n2026", "shipping": "6.90"})
    assert_refused(response, NAME_MESSAGE)
    assert count(PriceList) == 0
    price_list = make_price_list(logged_in.studio, name="Prints")
    products_before = count(Product)
    for field, message in [("name", NAME_MESSAGE), ("paper", "This field cannot contain line breaks.")]:
        response = client.post(
            f"/admin/shop/price-lists/{price_list.id}/products/new",
            data={
                "kind": "print",
                "name": "Print 10 × 15",
                "price": "7.50",
                "print_size": "10 × 15 cm",
                "paper": "matte",
                "digital_scope": "photo",
                "is_active": "y",
                field: "Print\r\n10 × 15",
            },
        )
        assert_refused(response, message)
    assert count(Product) == products_before


def test_promotion_names_and_coupon_codes_must_be_one_line(client, logged_in):
    gallery = factories.make_gallery(logged_in.studio)
    response = client.post(
        f"/admin/shop/galleries/{gallery.id}/promotions/new",
        data={
            "name": "Early\u2028bird",
            "discount_kind": "percent",
            "discount": "12.5",
            "starts_at": "2026-12-01T09:00",
            "ends_at": "2026-12-15T23:59",
        },
    )
    assert_refused(response, NAME_MESSAGE)
    assert count(Promotion) == 0
    response = client.post(
        "/admin/shop/coupons/new", data={"code": "SPRING\n", "discount_kind": "percent", "discount": "10"}
    )
    assert_refused(response, "This field cannot contain line breaks.")
    assert count(Coupon) == 0


def test_order_email_subjects_must_be_one_line(client, logged_in):
    response = client.post(
        "/admin/shop/order-emails/paid",
        data={"subject": "Paid\r\nBcc: x@example.com", "body_html": "<p>Thanks</p>"},
    )
    assert_refused(response, "A subject cannot contain line breaks.")
    assert count(OrderEmailSetting) == 0


def test_an_order_status_note_must_be_one_line(client, logged_in):
    order = place(make_shop(logged_in.studio), logged_in.studio)
    response = client.post(
        f"/admin/shop/orders/{order.id}/status", data={"status": "paid", "note": "Paid\r\nBcc: x@example.com"}
    )
    assert_refused(response, "This field cannot contain line breaks.")
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "new"


# ------------------------------------------------------------------ dates

DATE_MESSAGE = "Enter a date between the years 2000 and 2100."


@pytest.mark.parametrize("field", ["sale_starts_at", "sale_ends_at", "archives_at"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59", "1999-12-31T23:59"])
def test_gallery_dates_outside_2000_to_2100_are_refused(client, logged_in, field, value):
    response = client.post("/admin/galleries/new", data=gallery_data(**{field: value}))
    assert_refused(response, DATE_MESSAGE)
    assert value in response.get_data(as_text=True)  # shown as typed, to be corrected
    assert count(Gallery) == 0


def test_a_year_1_shoot_date_is_refused(client, logged_in):
    response = client.post("/admin/galleries/new", data=gallery_data(shoot_date="0001-01-01"))
    assert_refused(response, "Enter a date between the years 1900 and 2100.")
    assert count(Gallery) == 0


def test_gallery_dates_at_the_ends_of_the_range_are_kept(client, logged_in):
    response = client.post(
        "/admin/galleries/new",
        data=gallery_data(
            shoot_date="1987-05-01",
            sale_starts_at="2000-01-01T00:00",
            sale_ends_at="2100-12-31T22:00",
            archives_at="2100-12-31T23:59",
        ),
    )
    assert response.status_code == 302
    [gallery] = db.session.scalars(sa.select(Gallery)).all()
    assert (gallery.sale_starts_at.year, gallery.archives_at.year) == (1999, 2100)  # in UTC


@pytest.mark.parametrize(
    ("field", "value"), [("starts_at", "0001-01-01T00:00"), ("ends_at", "9999-12-31T23:59")]
)
def test_promotion_dates_outside_the_range_are_refused(client, logged_in, field, value):
    gallery = factories.make_gallery(logged_in.studio)
    response = client.post(
        f"/admin/shop/galleries/{gallery.id}/promotions/new",
        data={
            "name": "Early bird",
            "discount_kind": "percent",
            "discount": "12.5",
            "starts_at": "2026-12-01T09:00",
            "ends_at": "2026-12-15T23:59",
            field: value,
        },
    )
    assert_refused(response, DATE_MESSAGE)
    assert count(Promotion) == 0


@pytest.mark.parametrize("field", ["valid_from", "valid_until"])
def test_coupon_validity_outside_the_range_is_refused(client, logged_in, field):
    response = client.post(
        "/admin/shop/coupons/new",
        data={
            "code": "SPRING-10",
            "discount_kind": "percent",
            "discount": "10",
            "valid_from": "2026-12-01T00:00",
            "valid_until": "2027-01-31T23:59",
            field: "0001-01-01T00:00",
        },
    )
    assert_refused(response, DATE_MESSAGE)
    assert count(Coupon) == 0


def test_an_expected_delivery_in_year_9999_is_refused(client, logged_in):
    order = place(make_shop(logged_in.studio), logged_in.studio)
    response = client.post(
        f"/admin/shop/orders/{order.id}/expected-delivery", data={"expected_delivery_on": "9999-12-31"}
    )
    assert_refused(response, DATE_MESSAGE)
    db.session.expire_all()
    assert db.session.get(Order, order.id).expected_delivery_on is None


def test_order_list_filters_in_year_1_or_9999_filter_nothing(client, logged_in):
    order = place(make_shop(logged_in.studio), logged_in.studio)
    for query in ("placed_from=0001-01-01", "placed_to=9999-12-31"):
        response = client.get(f"/admin/shop/orders/?{query}")
        assert response.status_code == 200 and order.number in response.get_data(as_text=True)
