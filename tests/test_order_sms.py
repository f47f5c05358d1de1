"""Order texts (issue 19): per event never / always / when the client agreed to texts; the number
typed at checkout first; short standard texts and the studio's own per language, refused when a
variable is unknown or the text too long; queued with the emails exactly once, skipped for a
number that replied STOP, never held for review, sent after the commit to the local sink (the
Phone page) and listed on the order's page."""

import re

import pytest
import sqlalchemy as sa
from flask import g
from flask_babel import force_locale

from app.accounts.models import Studio
from app.extensions import db
from app.mailing.models import MailKind, MailState, OutboxMessage
from app.shop import notifications
from app.shop.models import OrderEmailSetting, OrderSmsWording
from app.shop.order_email_content import DEFAULTS, sample_values
from app.shop.order_sms import MAX_SEGMENTS, STANDARD_TEXTS, fill_text, standard_text, unknown_variables
from app.sms.models import SmsMessage, SmsState
from app.sms.outbox import suppress
from app.sms.segments import count_segments
from tests import factories
from tests.factories import NOW
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery
from tests.test_notifications import rules

PHONE = "+46701234567"
OTHER_PHONE = "+46709876543"


@pytest.fixture
def shop(logged_in):
    studio = logged_in.studio
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    return studio, gallery, price_list


def buyer(shop, phone=None, consent=False, language="en", email="buyer@example.com"):
    studio, gallery, _price_list = shop
    client = factories.make_client(studio, email=email, gallery=gallery, name="Chloé Martin")
    client.language = language
    client.phone = phone
    if consent:
        client.sms_consent_text, client.sms_consent_at = "Send me texts about my orders", NOW
    db.session.commit()
    return client


def place(shop, client):
    studio, gallery, price_list = shop
    fill_cart(client, gallery, factories.make_photo(gallery), price_list.products[0])
    order = order_now(studio, client, notify=False)
    # Tests share one app context: what placing queued is not a later request's to send.
    g.pop("notification_ids", None)
    g.pop("order_sms_ids", None)
    return order


def text_on(studio_id, event, sms_mode, review=False):
    """Settings → Order emails for ``event``: its default email rule, and ``sms_mode``."""
    default = DEFAULTS[event]
    db.session.add(
        OrderEmailSetting(
            studio_id=studio_id,
            event=event,
            mode=default.mode,
            to_client=True,
            to_operators=default.to_operators,
            review=review,
            attachment="",
            sms_mode=sms_mode,
        )
    )
    db.session.commit()


def texts(event=None):
    db.session.expire_all()
    query = sa.select(SmsMessage).order_by(SmsMessage.id)
    if event is not None:
        query = query.where(SmsMessage.source.like(f"%:{event}"))
    return db.session.scalars(query).all()


def move(client, order, status, **extra):
    return client.post(f"/admin/shop/orders/{order.id}/status", data={"status": status, **extra})


def ship(client, order):
    move(client, order, "paid")
    return move(client, order, "shipped", carrier="DHL", tracking_number="JD0146")


def post_text(client, event, body, language=None, **extra):
    url = f"/admin/shop/order-emails/{event}/text" + (f"?language={language}" if language else "")
    return client.post(url, data={"sms_body": body, **extra}, follow_redirects=True)


# ------------------------------------------------------------------ Settings → Order emails


def test_the_text_option_is_saved_and_shown(client, logged_in):
    page = client.get("/admin/shop/order-emails").data.decode()
    assert 'name="shipped_sms"' in page and "never held for review" in page
    saved = client.post(
        "/admin/shop/order-emails",
        data=rules(shipped_sms="always", paid_sms="requested"),
        follow_redirects=True,
    )
    assert "Order email settings saved." in saved.data.decode()
    db.session.expire_all()
    modes = {
        event: db.session.get(OrderEmailSetting, (logged_in.studio_id, event)).sms_mode for event in DEFAULTS
    }
    assert modes == {
        event: {"shipped": "always", "paid": "requested"}.get(event, "never") for event in DEFAULTS
    }
    page = client.get("/admin/shop/order-emails").data.decode()
    shipped = re.search(r'<select[^>]*name="shipped_sms".*?</select>', page, re.S).group(0)
    assert re.search(r'<option selected value="always">', shipped)
    paid = re.search(r'<select[^>]*name="paid_sms".*?</select>', page, re.S).group(0)
    assert re.search(r'<option selected value="requested">', paid)


def test_a_bad_text_option_is_refused_and_nothing_saved(client, logged_in):
    bad = client.post("/admin/shop/order-emails", data=rules(shipped_sms="sometimes"))
    assert bad.status_code == 422 and "Not a valid choice" in bad.data.decode()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEmailSetting)) == 0


# ------------------------------------------------------------------ who gets a text


@pytest.mark.parametrize(
    ("sms_mode", "phone", "consent", "texted"),
    [
        ("never", PHONE, True, False),
        ("always", None, False, False),  # no number known
        ("always", PHONE, False, True),
        ("requested", PHONE, False, False),  # no consent
        ("requested", PHONE, True, True),
        ("requested", None, True, False),
    ],
)
def test_each_mode_with_and_without_a_number_and_consent(
    client, shop, logged_in, sms_mode, phone, consent, texted
):
    order = place(shop, buyer(shop, phone=phone, consent=consent))
    text_on(logged_in.studio_id, "paid", sms_mode)
    move(client, order, "paid")
    sent = texts("paid")
    assert [text.recipient for text in sent] == ([PHONE] if texted else [])
    if texted:
        assert sent[0].kind == "notification" and sent[0].source == f"order:{order.id}:paid"
        assert sent[0].dedup_key == f"order:{order.id}:paid:{PHONE}"


def test_email_and_text_both_go_and_the_team_gets_no_text(client, shop, logged_in, mail_outbox):
    factories.make_operator(logged_in.studio, email="op@example.com")
    order = place(shop, buyer(shop, phone=PHONE))
    text_on(logged_in.studio_id, "cancelled", "always")  # emails the team a copy too
    move(client, order, "cancelled", reason="Out of paper")
    assert sorted(mail.rcpt_tos[0] for mail in mail_outbox.wait_for(3)) == sorted(
        ["buyer@example.com", logged_in.email, "op@example.com"]
    )
    (text,) = texts()
    assert text.recipient == PHONE and text.body.endswith("was cancelled: Out of paper")


def test_the_number_typed_at_checkout_comes_before_the_clients(client, shop, logged_in):
    text_on(logged_in.studio_id, "paid", "always")
    typed = place(shop, buyer(shop, phone=PHONE))
    typed.contact_phone = OTHER_PHONE
    landline = place(shop, buyer(shop, phone=PHONE, email="second@example.com"))
    landline.contact_phone = "01 42 68 53 00"  # free text from before numbers were checked
    db.session.commit()
    move(client, typed, "paid")
    move(client, landline, "paid")
    assert [text.recipient for text in texts("paid")] == [OTHER_PHONE, PHONE]


# ------------------------------------------------------------------ what the text says


def test_the_text_is_in_the_clients_language_with_the_tracking_link(client, shop, logged_in):
    text_on(logged_in.studio_id, "shipped", "always")
    assert (
        "Now: Always (when we have a mobile number)."
        in client.get("/admin/shop/order-emails/shipped?language=sv").data.decode()
    )
    swedish = "Hej %client_name%! Order %order_number% är på väg med %carrier%: %tracking_link%"
    assert "Text message saved." in post_text(client, "shipped", swedish, language="sv").data.decode()
    svensk = place(shop, buyer(shop, phone=PHONE, language="sv"))
    english = place(shop, buyer(shop, phone=OTHER_PHONE, email="en@example.com"))
    ship(client, svensk)
    ship(client, english)
    link = "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id=JD0146"
    assert [(text.recipient, text.body) for text in texts("shipped")] == [
        (PHONE, f"Hej Chloé Martin! Order {svensk.number} är på väg med DHL: {link}"),
        (OTHER_PHONE, f"Northlight Studio: your order {english.number} has shipped. Track it: {link}"),
    ]


def test_an_event_handled_twice_queues_one_text_and_a_new_date_its_own(app, shop, logged_in):
    order = place(shop, buyer(shop, phone=PHONE))
    text_on(logged_in.studio_id, "shipped", "always")
    text_on(logged_in.studio_id, "delivery_changed", "always")
    notifications.queue_order_messages(order, "shipped", NOW)
    notifications.queue_order_messages(order, "shipped", NOW)
    for day in ("2026-12-18", "2026-12-18", "2026-12-21"):
        notifications.queue_order_messages(order, "delivery_changed", NOW, occurrence=day)
    db.session.commit()
    assert len(texts("shipped")) == 1
    assert [text.dedup_key for text in texts("delivery_changed")] == [
        f"order:{order.id}:delivery_changed:{PHONE}:2026-12-18",
        f"order:{order.id}:delivery_changed:{PHONE}:2026-12-21",
    ]
    g.pop("order_sms_ids", None)
    g.pop("notification_ids", None)


def test_a_number_that_replied_stop_gets_a_skipped_row_shown_on_the_order(client, shop, logged_in):
    order = place(shop, buyer(shop, phone=PHONE))
    text_on(logged_in.studio_id, "paid", "always")
    suppress(logged_in.studio_id, PHONE, "stop", NOW)
    db.session.commit()
    move(client, order, "paid")
    (text,) = texts("paid")
    assert text.state == SmsState.SKIPPED
    page = client.get(f"/admin/shop/orders/{order.id}").data.decode()
    assert 'data-text-state="skipped"' in page and "replied STOP" in page


def test_the_text_reaches_the_phone_page_and_the_order_page_lists_it(client, shop, logged_in):
    order = place(shop, buyer(shop, phone=PHONE, consent=True))
    text_on(logged_in.studio_id, "shipped", "requested")
    ship(client, order)  # the route commits, then sends what it queued
    (text,) = texts("shipped")
    assert text.state == SmsState.SENT and text.sent_at is not None
    phone = client.get("/admin/sms/phone").data.decode()
    assert f"your order {order.number} has shipped" in phone and "+46 70 123 45 67" in phone
    page = client.get(f"/admin/shop/orders/{order.id}").data.decode()
    texts_card = re.search(r'<section[^>]*data-testid="order-texts".*?</section>', page, re.S).group(0)
    assert "Shipped" in texts_card and "Sent" in texts_card and "To +46 70 123 45 67" in texts_card
    assert "Text messages: agreed" in page and "Mobile on the client record: +46 70 123 45 67" in page


def test_texts_are_never_held_for_review(client, shop, logged_in):
    order = place(shop, buyer(shop, phone=PHONE))
    text_on(logged_in.studio_id, "shipped", "always", review=True)
    ship(client, order)
    db.session.expire_all()
    held = db.session.scalars(
        sa.select(OutboxMessage.state).where(
            OutboxMessage.kind == MailKind.NOTIFICATION, OutboxMessage.source.like("%:shipped")
        )
    ).all()
    assert held == [MailState.HELD]
    assert [text.state for text in texts("shipped")] == [SmsState.SENT]


# ------------------------------------------------------------------ the studio's own text


def test_own_text_is_saved_previewed_and_reverted(client, shop, logged_in):
    page = client.get("/admin/shop/order-emails/shipped").data.decode()
    assert "data-sms-counter" in page and "js/sms-counter.js" in page
    assert "Now: No text." in page
    assert "%(studio_name)s" not in page and "%studio_name%: your order %order_number% has shipped" in page
    saved = post_text(client, "shipped", "  Parcel %tracking_number% is on its way!  ").data.decode()
    assert "Text message saved." in saved and "Your studio’s text in English." in saved
    preview = re.search(r'data-testid="sms-preview">(.*?)</blockquote>', saved, re.S).group(1)
    assert preview == "Parcel JD014600006281234567 is on its way!"  # no order yet: sample values
    row = db.session.get(OrderSmsWording, (logged_in.studio_id, "shipped", "en"))
    assert row.body == "Parcel %tracking_number% is on its way!"
    assert "your text: English" in client.get("/admin/shop/order-emails").data.decode()
    reverted = post_text(client, "shipped", "", action="revert").data.decode()
    assert "The standard text is back." in reverted
    db.session.expire_all()
    assert db.session.get(OrderSmsWording, (logged_in.studio_id, "shipped", "en")) is None
    # The standard text saved as it is stays the standard (not a copy of it).
    with force_locale("en"):
        post_text(client, "shipped", standard_text("shipped"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderSmsWording)) == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Order %order_numbr% shipped", "Unknown variable %order_numbr%"),
        ("Your items: %order_items%", "Unknown variable %order_items%"),  # a table, not text
        ("x" * 460, "Too long: filled in, this text is sent as 4 text messages"),
        ("Track: %tracking_link% " * 7, "Too long: filled in"),  # short typed, long filled in
        ("Привет! " * 26, "Too long"),  # 208 UCS-2 characters
        ("   ", "Please write the text."),
    ],
)
def test_a_bad_text_shows_why_and_saves_nothing(client, logged_in, body, message):
    response = post_text(client, "shipped", body)
    page = response.data.decode()
    assert response.status_code == 422 and message in page
    assert re.search(
        r'<textarea[^>]*aria-invalid="true"[^>]*name="sms_body"|name="sms_body"[^>]*aria-invalid', page
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderSmsWording)) == 0


def test_operators_see_the_text_but_cannot_change_it(client, auth, owner):
    operator = factories.make_operator(owner.studio, email="op@example.com")
    auth.login(operator)
    assert "data-sms-counter" in client.get("/admin/shop/order-emails/paid").data.decode()
    assert client.post("/admin/shop/order-emails/paid/text", data={"sms_body": "Hi"}).status_code == 403
    assert client.post("/admin/shop/order-emails/teleported/text", data={"sms_body": "Hi"}).status_code == 404


@pytest.mark.no_database
def test_every_standard_text_fits_and_uses_known_variables(app):
    studio = Studio(name="Northlight Studio", currency="EUR", language="en")
    for language in app.config["LANGUAGES"]:
        with app.test_request_context(), force_locale(language):
            values = sample_values(studio, language)
            for event in STANDARD_TEXTS:
                text = standard_text(event)
                assert unknown_variables(text) == [], (language, event)
                assert count_segments(fill_text(text, values)).segments <= MAX_SEGMENTS, (language, event)
    assert set(STANDARD_TEXTS) == set(DEFAULTS)
