"""Order emails per language (issue 18): the client's emails, their layout, amounts, dates and
PDF in the client's language (the studio's when it does not offer the client's); the team's copy
in the studio's; the studio's own wording per language in the editor, and back to the standard
wording of one language.

The catalogues are compiled from the committed .po files into a temporary folder (``make test``
compiles them too, but a test run must not depend on it).
"""

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages import mofile, pofile
from flask import g
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from pypdf import PdfReader

from app.extensions import db
from app.mailing.models import MailKind, MailState, OutboxMessage
from app.shop.models import OrderEmailSetting, OrderEmailWording
from app.shop.money import format_money
from app.shop.order_email_content import standard_body, standard_subject
from tests import factories
from tests.shop_factories import fill_cart, make_price_list, order_now, sell_gallery

TRANSLATIONS = Path(__file__).resolve().parent.parent / "app" / "translations"


@pytest.fixture(scope="session")
def catalogues(tmp_path_factory):
    """Every committed catalogue, compiled (.mo) into a folder of this test session."""
    folder = tmp_path_factory.mktemp("translations")
    for source in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        target = folder / source.parent.parent.name / "LC_MESSAGES"
        target.mkdir(parents=True)
        with open(source, "rb") as handle:
            catalogue = pofile.read_po(handle)
        with open(target / "messages.mo", "wb") as handle:
            mofile.write_mo(handle, catalogue)
    return folder


@pytest.fixture
def app_config(catalogues):
    return {"BABEL_TRANSLATION_DIRECTORIES": str(catalogues)}


@pytest.fixture
def shop(logged_in):
    """An English-speaking studio selling a gallery; its clients may use any language."""
    studio = logged_in.studio
    gallery = factories.make_gallery(studio)
    price_list = make_price_list(studio)
    sell_gallery(gallery, price_list)
    return studio, gallery, price_list


def buyer(shop, language, email="buyer@example.com", name="Łukasz Ελένη Nowak"):
    studio, gallery, _price_list = shop
    client = factories.make_client(studio, email=email, gallery=gallery, name=name)
    client.language = language
    db.session.commit()
    return client


def place(shop, client, notify=False):
    studio, gallery, price_list = shop
    fill_cart(client, gallery, factories.make_photo(gallery), price_list.products[0])
    order = order_now(studio, client, notify=notify)
    g.pop("notification_ids", None)  # tests share one app context: this is not a request's
    return order


def move(client, order, status, **extra):
    return client.post(f"/admin/shop/orders/{order.id}/status", data={"status": status, **extra})


def ship(client, order):
    move(client, order, "paid")
    move(client, order, "shipped", carrier="DHL", tracking_number="JD0146")


def standard(event, language, **values):
    """The standard (subject, body) of ``event`` in ``language``, with ``values`` filled in."""
    with force_locale(language):
        subject, body = standard_subject(event), standard_body(event)
    for name, value in values.items():
        subject = subject.replace(f"%{name}%", value)
        body = body.replace(f"%{name}%", value)
    return subject, body


def words(html):
    """The text of an HTML fragment, without tags, for comparing with a mail's text part."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def flat(text):
    """``text`` with its spaces (no-break spaces too) as single spaces."""
    return " ".join(text.split())


def said(mail):
    return flat(mail.text())


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def held():
    db.session.expire_all()
    return db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.kind == MailKind.NOTIFICATION, OutboxMessage.state == MailState.HELD)
        .order_by(OutboxMessage.id)
    ).all()


# ------------------------------------------------------------------ sending


def test_a_swedish_client_gets_the_shipped_email_in_swedish(client, shop, mail_outbox):
    order = place(shop, buyer(shop, "sv"))
    ship(client, order)
    mail = mail_outbox.wait_for(1)[0]
    subject, body = standard(
        "shipped",
        "sv",
        order_number=order.number,
        client_name="Łukasz Ελένη Nowak",
        carrier="DHL",
        tracking_number="JD0146",
    )
    assert subject != standard("shipped", "en", order_number=order.number)[0]  # really Swedish
    assert mail.subject == subject
    assert words(body).split(" (")[0] in said(mail)  # "Hej …, Din beställning … har skickats"
    with force_locale("sv"):
        assert _("Sent with Proofsheet") in said(mail)  # the layout too
    assert "Sent with Proofsheet" not in said(mail)
    assert mail.message["Content-Language"] == "sv"


def placed_emails():
    db.session.expire_all()
    return {
        row.recipient: row
        for row in db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.source.like("%:placed")))
    }


def test_the_team_copy_stays_in_the_studios_language_and_amounts_follow_each_language(shop, logged_in):
    order = place(shop, buyer(shop, "sv"))  # "order placed" emails the client and the team
    rows = placed_emails()
    to_client, to_team = rows["buyer@example.com"], rows[logged_in.email]
    assert to_client.subject == standard("placed", "sv", order_number=order.number)[0]
    assert to_client.subject != f"Your order {order.number}"
    assert to_team.subject == f"Your order {order.number}"
    assert (to_client.headers["Content-Language"], to_team.headers["Content-Language"]) == ("sv", "en")
    assert flat(format_money(1390, "EUR", "sv")) in flat(to_client.text)  # 13,90 €
    with force_locale("sv"):
        assert flat(f"{_('Total')} {format_money(1390, 'EUR', 'sv')}") in flat(to_client.text)
    assert "€13.90" in to_team.text and "€13.90" not in to_client.text
    with force_locale("sv"):
        assert _("Sent with Proofsheet") in to_client.text
    assert "Sent with Proofsheet" in to_team.text


def test_a_language_the_studio_does_not_offer_gets_the_studios(client, shop, logged_in, mail_outbox):
    studio = logged_in.studio
    studio.client_languages = "sv"
    db.session.commit()
    order = place(shop, buyer(shop, "ru"))
    ship(client, order)
    mail = mail_outbox.wait_for(1)[0]
    assert mail.subject == f"Order {order.number} is on its way"
    assert mail.message["Content-Language"] == "en"


def test_dates_follow_the_clients_language(client, shop, mail_outbox):
    order = place(shop, buyer(shop, "de"), notify=True)
    client.post(
        f"/admin/shop/orders/{order.id}/expected-delivery", data={"expected_delivery_on": "2026-12-18"}
    )
    mail = mail_outbox.wait_for(1)[0]
    from datetime import date

    with force_locale("de"):
        german = format_date(date(2026, 12, 18), "long")
    assert german == "18. Dezember 2026"
    assert german in said(mail) and "December" not in said(mail)


def test_the_invoice_pdf_is_in_the_clients_language_and_keeps_cyrillic_names(
    client, shop, logged_in, mail_outbox
):
    db.session.add(
        OrderEmailSetting(
            studio_id=logged_in.studio_id,
            event="paid",
            mode="always",
            to_client=True,
            to_operators=True,
            attachment="invoice",
        )
    )
    db.session.commit()
    order = place(shop, buyer(shop, "ru", name="Алексей Смирнов"))
    move(client, order, "paid")
    mails = {mail.rcpt_tos[0]: mail for mail in mail_outbox.wait_for(2)}
    russian = pdf_text(next(mails["buyer@example.com"].message.iter_attachments()).get_content())
    english = pdf_text(next(mails[logged_in.email].message.iter_attachments()).get_content())
    with force_locale("ru"):
        title, total = _("Invoice %(number)s", number=order.number), _("Total")
    assert title != f"Invoice {order.number}"
    assert title in russian and total in russian and "Алексей Смирнов" in russian
    assert flat(format_money(1390, "EUR", "ru")) in flat(russian) and "€13.90" not in russian
    assert f"Invoice {order.number}" in english and "€13.90" in english  # the team's copy
    # The team downloads the client's document as the client got it.
    download = client.get(f"/admin/shop/orders/{order.id}/invoice.pdf")
    assert title in pdf_text(download.data)


def test_a_held_email_keeps_the_clients_language_when_the_team_sends_it(client, shop, logged_in, mail_outbox):
    db.session.add(
        OrderEmailSetting(
            studio_id=logged_in.studio_id, event="shipped", mode="always", to_client=True, review=True
        )
    )
    db.session.commit()
    order = place(shop, buyer(shop, "sv"))
    ship(client, order)
    [row] = held()
    assert row.headers["Content-Language"] == "sv"
    page = client.get(f"/admin/shop/review/{row.id}").data.decode()
    assert 'data-testid="review-language">Swedish<' in page
    client.post(
        f"/admin/shop/review/{row.id}",
        data={"subject": row.subject, "body_html": row.body_html + "<p>Vi ses!</p>", "cc": ""},
    )
    mail = mail_outbox.wait_for(1)[0]
    assert "Vi ses!" in said(mail) and mail.message["Content-Language"] == "sv"
    with force_locale("sv"):
        assert _("Sent with Proofsheet") in said(mail)
    assert "Sent with Proofsheet" not in said(mail)


# ------------------------------------------------------------------ the wording per language


def editor(client, event, language=None):
    query = f"?language={language}" if language else ""
    return client.get(f"/admin/shop/order-emails/{event}{query}")


def test_the_editor_has_a_tab_per_client_language_with_its_standard_wording(client, logged_in):
    studio = logged_in.studio
    studio.client_languages = "ru,sv"
    db.session.commit()
    page = editor(client, "shipped").data.decode()
    tabs = re.search(r'data-testid="language-tabs">(.*?)</nav>', page, re.S).group(1)
    assert re.findall(r'lang="(\w+)"', tabs) == ["en", "sv", "ru"]  # the studio's, then the site's order
    assert "Order %order_number% is on its way" in page
    russian = editor(client, "shipped", "ru").data.decode()
    assert standard("shipped", "ru")[0] in russian and "is on its way" not in russian
    assert "Preview" in russian and 'lang="ru"' in russian
    assert editor(client, "shipped", "de").status_code == 404  # not offered
    assert editor(client, "shipped", "xx").status_code == 404


def test_a_russian_wording_is_used_for_russian_clients_then_reverted(client, shop, logged_in, mail_outbox):
    saved = client.post(
        "/admin/shop/order-emails/shipped?language=ru",
        data={
            "subject": "Посылка %order_number% уже в пути",
            "body_html": "<p>Здравствуйте, %client_name%! Трек-номер: %tracking_number%.</p>",
        },
        follow_redirects=True,
    )
    assert "Email saved." in saved.data.decode()
    assert "Посылка %order_number% уже в пути" in saved.data.decode()
    rows = db.session.scalars(sa.select(OrderEmailWording)).all()
    assert [(row.event, row.language) for row in rows] == [("shipped", "ru")]
    assert "your wording: Russian" in client.get("/admin/shop/order-emails").data.decode()
    english_tab = editor(client, "shipped", "en").data.decode()
    assert "Order %order_number% is on its way" in english_tab  # other languages unchanged

    first = place(shop, buyer(shop, "ru", name="Алексей Смирнов"))
    english = place(shop, buyer(shop, "en", email="en@example.com", name="Ann Lee"))
    ship(client, first)
    ship(client, english)
    mails = {mail.rcpt_tos[0]: mail for mail in mail_outbox.wait_for(2)}
    assert mails["buyer@example.com"].subject == f"Посылка {first.number} уже в пути"
    assert "Здравствуйте, Алексей Смирнов! Трек-номер: JD0146." in said(mails["buyer@example.com"])
    assert mails["en@example.com"].subject == f"Order {english.number} is on its way"

    reverted = client.post(
        "/admin/shop/order-emails/shipped?language=ru", data={"action": "revert"}, follow_redirects=True
    ).data.decode()
    assert "The standard wording is back." in reverted
    assert standard("shipped", "ru")[0] in reverted
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEmailWording)) == 0
    mail_outbox.messages.clear()
    second = place(shop, buyer(shop, "ru", email="second@example.com", name="Мария Иванова"))
    ship(client, second)
    mail = mail_outbox.wait_for(1)[0]
    assert mail.subject == standard("shipped", "ru", order_number=second.number)[0]


def test_bad_wording_is_refused_in_its_language_and_nothing_is_saved(client, logged_in):
    response = client.post(
        "/admin/shop/order-emails/paid?language=sv",
        data={"subject": "", "body_html": "<p>%gallery_link%</p>"},
    )
    page = response.data.decode()
    assert response.status_code == 422
    assert "Swedish: please correct what is marked below." in page
    assert "Please write a subject." in page and "Unknown variable %gallery_link%" in page
    assert re.search(r'aria-current="page">Svenska', page)  # on the Swedish tab
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEmailWording)) == 0


def test_saving_the_standard_wording_unchanged_stores_nothing(client, logged_in):
    subject, body = standard("placed", "sv")
    # What the editor posts back: its links get rel and target, a lone variable a paragraph.
    edited = body.replace('">', '" rel="noopener noreferrer" target="_blank">').replace(
        "</p>%order_items%<p>", "</p><p>%order_items%</p><p>"
    )
    assert edited != body
    client.post("/admin/shop/order-emails/placed?language=sv", data={"subject": subject, "body_html": edited})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEmailWording)) == 0
    client.post(
        "/admin/shop/order-emails/placed?language=sv",
        data={
            "subject": subject,
            "body_html": edited.replace("<p>", "<p><strong>", 1).replace("</p>", "</strong></p>", 1),
        },
    )
    [row] = db.session.scalars(sa.select(OrderEmailWording)).all()
    assert (row.language, row.subject) == ("sv", subject) and "<strong>" in row.body_html
