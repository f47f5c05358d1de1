"""Issue 18's journeys in a real Chromium, in other languages than English.

A Swedish photographer (browser in sv-SE) signs up, sets the studio up, creates a price list with
a price typed the Swedish way ("149,00"), creates, fills, prices and publishes a gallery; a Swedish
parent (another browser, sv-SE) registers with the code of the Swedish email, orders with a
Swedish address and gets the Swedish confirmation. A Russian parent (ru-RU) of an English studio
offering Russian registers as "Анна Смирнова" and orders: the confirmation email and its PDF are
in Russian and keep the Cyrillic name intact.

The Swedish and Russian words are read from the same compiled catalogues the app serves (compiled
from the committed .po files into a folder of this test session), and every one of them is
checked to differ from the English: each assertion fails on an English page.
"""

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from babel import support
from babel.numbers import format_currency
from playwright.sync_api import expect
from pypdf import PdfReader

from app import timeutil
from app.accounts.models import Studio
from app.extensions import db
from app.galleries.models import Client
from app.shop.models import Order, OrderEmailSetting, PriceList
from tests import factories
from tests.client_helpers import code_in, wait_for_mail
from tests.shop_factories import make_price_list, sell_gallery
from tests.test_journeys_browser import photos, upload
from tests.test_order_email_languages import catalogues  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@pytest.fixture
def app_config(catalogues):  # noqa: F811
    return {"BABEL_TRANSLATION_DIRECTORIES": str(catalogues)}


class Catalogue:
    """``gettext`` of one language, from the compiled catalogue the live app reads. A message
    that is not translated (yet) fails the test: an assertion on it could not tell English."""

    def __init__(self, folder, language):
        self.language = language
        self.translations = support.Translations.load(str(folder), [language], domain="messages")
        assert isinstance(self.translations, support.Translations), f"no {language} catalogue"

    def __call__(self, msgid, **values):
        text = self.translations.gettext(msgid)
        assert text != msgid, f"{msgid!r} is not translated into {self.language}"
        return text % values if values else text


def flat(text):
    """``text`` with every run of spaces (no-break and narrow no-break ones too) as one space."""
    return " ".join(text.split())


def money(minor, currency, language):
    """An amount as Babel writes it in ``language``, its spaces flattened."""
    return flat(format_currency(minor / 100, currency, locale=language))


def pdf_text(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def new_context(browser):
    """Browser contexts in a language (``locale`` also sets Accept-Language), closed afterwards."""
    opened = []

    def new_context(locale, timezone_id="Europe/Stockholm"):
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale=locale, timezone_id=timezone_id
        )
        context.set_default_timeout(15_000)
        opened.append(context)
        return context.new_page()

    yield new_context
    for context in opened:
        context.close()


def register_with_emailed_code(page, mail_outbox, t, name, email, where):
    """Register on a gallery page in ``t``'s language with the code of the emailed message
    (in that language too); returns that message."""
    expect(page.locator("html")).to_have_attribute("lang", t.language)
    expect(page.get_by_role("heading", name=t("Register to see the photos"))).to_be_visible()
    expect(page.locator("form.form select[name=language]")).to_have_value(t.language)
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.get_by_role("button", name=t("Register"), exact=True).click()
    expect(page.get_by_role("heading", name=t("Check your email"))).to_be_visible()
    mail = wait_for_mail(mail_outbox, email, t("Your sign-in code for %(where)s", where=where))
    assert flat(
        t("To continue to %(where)s, type this code on the page you came from:", where=where)
    ) in flat(mail.text())
    page.fill("input[name=code]", code_in(mail.text()))
    page.get_by_role("button", name=t("Continue")).click()
    expect(page.locator(".flash-success")).to_contain_text(t("Welcome, %(name)s!", name=name))
    return mail


def add_first_photo_to_cart(page, t, option_text):
    figure = page.locator(".photo-grid figure").first
    option = figure.locator("select[name=product_id] option").first
    assert flat(option.inner_text()) == option_text
    figure.locator("select[name=product_id]").select_option(option.get_attribute("value"))
    figure.get_by_role("button", name=t("Add to cart")).click()
    expect(page.locator(".flash-success")).to_be_visible()
    page.get_by_role("link", name=t("Cart"), exact=True).click()
    expect(page.get_by_role("heading", name=t("Your cart"))).to_be_visible()


def fill_address(page, line1, postal_code, city, country, region=None):
    page.fill("input[name=address_line1]", line1)
    page.fill("input[name=postal_code]", postal_code)
    page.fill("input[name=city]", city)
    page.select_option("select[name=country]", country)
    if region:  # the country's addresses name one (a Russian oblast): listed once it is chosen
        page.locator("select[name=region]").select_option(label=region)


# ------------------------------------------------------------------ Swedish, studio and parent


def test_a_swedish_studio_publishes_and_a_swedish_parent_orders(
    live_server,
    new_context,
    mail_outbox,
    catalogues,  # noqa: F811
):
    sv = Catalogue(catalogues, "sv")
    assert money(14900, "SEK", "sv") == "149,00 kr"  # what Babel writes (with a no-break space)
    title, studio_name = "Björkskolan vår 2026", "Ljusets Ateljé"

    # Sign-up: the page follows the browser's Swedish; the timezone comes from the browser.
    page = new_context("sv-SE")
    page.goto(live_server.url + "/signup")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", name=sv("Create your studio"))).to_be_visible()
    expect(page.locator("select[name=timezone]")).to_have_value("Europe/Stockholm")
    page.fill("input[name=studio_name]", studio_name)
    page.fill("input[name=name]", "Karin Lindqvist")
    page.fill("input[name=email]", "karin@ljuset.example.com")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.select_option("select[name=currency]", "SEK")
    page.select_option("select[name=language]", "sv")
    page.get_by_role("button", name=sv("Create my studio")).click()
    page.wait_for_url(re.compile(r".*/admin/galleries/$"))
    expect(page.locator(".flash-success")).to_contain_text(
        sv("Welcome to Proofsheet, %(name)s! Create your first gallery.", name="Karin Lindqvist")
    )

    # Studio settings, in Swedish: the country (named in Swedish), Swedish and English for
    # clients, the postal address.
    page.goto(live_server.url + "/profile")
    expect(page.get_by_role("button", name=sv("Save the studio"))).to_be_visible()
    country = page.locator("select[name=studio-country]")
    country.select_option("SE")
    expect(country.locator("option:checked")).to_have_text("Sverige")
    for code in ("fr", "de", "ru"):
        page.uncheck(f"input[name=studio-client_languages][value={code}]")
    expect(page.locator("input[name=studio-client_languages][value=en]")).to_be_checked()
    page.fill("textarea[name=studio-postal_address]", "Götgatan 12\n116 46 Stockholm")
    page.get_by_role("button", name=sv("Save the studio")).click()
    expect(page.locator(".flash-success")).to_have_text(sv("Studio settings saved."))

    # A price list whose shipping and print price are typed the Swedish way.
    page.goto(live_server.url + "/admin/shop/")
    page.get_by_role("link", name=sv("Create a price list")).click()
    page.fill("input[name=name]", "Skolfoto")
    page.fill("input[name=shipping]", "49,00")
    page.get_by_role("button", name=sv("Create price list")).click()
    expect(page.locator(".flash-success")).to_contain_text(
        sv("Price list “%(name)s” created. Now add its products.", name="Skolfoto")
    )
    page.get_by_role("link", name=sv("Add a print")).click()
    page.fill("input[name=name]", "Kopia 13 × 18 cm")
    page.fill("input[name=price]", "149,00")
    page.fill("input[name=print_size]", "13 × 18 cm")
    page.fill("input[name=paper]", "matt")
    page.get_by_role("button", name=sv("Add product")).click()
    rows = page.locator("tr[data-product-id]")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("149,00 kr")

    # A gallery: created, filled, priced and published.
    page.goto(live_server.url + "/admin/galleries/")
    page.get_by_role("link", name=sv("Create your first gallery")).click()
    page.fill("input[name=title]", title)
    page.fill("input[name=sale_starts_at]", (timeutil.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=sale_ends_at]", (timeutil.now() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"))
    page.select_option("select[name=access]", "registration")
    page.get_by_role("button", name=sv("Create gallery")).click()
    expect(page.locator("h1")).to_contain_text(title)
    expect(page.locator("[data-status]")).to_have_text(sv("Draft"))
    upload(page, photos(2, prefix="klass"))
    page.get_by_role("link", name=sv("Pricing"), exact=True).click()
    page.select_option("select[name=price_list]", label="Skolfoto")
    page.get_by_role("button", name=sv("Save pricing")).click()
    expect(page.locator(".flash-success")).to_be_visible()
    page.get_by_role("link", name=sv("Back to the gallery")).click()
    page.get_by_role("button", name=sv("Publish"), exact=True).click()
    expect(page.locator("[data-status]")).to_have_text(sv("Published"))
    public_url = page.locator("[data-public-url]").get_attribute("href")

    with live_server.app.app_context():
        studio = db.session.scalar(sa.select(Studio).where(Studio.name == studio_name))
        assert (studio.language, studio.currency, studio.timezone, studio.country) == (
            "sv",
            "SEK",
            "Europe/Stockholm",
            "SE",
        )
        assert studio.client_languages == "en,sv"
        price_list = db.session.scalar(sa.select(PriceList).where(PriceList.studio_id == studio.id))
        assert price_list.shipping_minor == 4900
        assert [product.price_minor for product in price_list.products] == [14900]

    # The parent, in another Swedish browser.
    parent = new_context("sv-SE")
    parent.goto(public_url)
    register_with_emailed_code(parent, mail_outbox, sv, "Sven Berg", "sven@example.se", title)
    expect(parent.locator(".photo-grid img")).to_have_count(2)
    add_first_photo_to_cart(parent, sv, "Kopia 13 × 18 cm · 149,00 kr")
    expect(parent.get_by_test_id("total")).to_have_text("198,00 kr")  # 149 + 49 shipping
    parent.get_by_role("link", name=sv("Checkout")).click()
    expect(parent.get_by_role("heading", name=sv("Checkout"))).to_be_visible()
    # The studio's country comes first, named in Swedish.
    expect(parent.locator("select[name=country] option").nth(1)).to_have_text("Sverige")
    fill_address(parent, "Götgatan 3", "114 55", "Stockholm", "SE")
    expect(parent.get_by_test_id("total")).to_have_text("198,00 kr")
    parent.get_by_role("button", name=sv("Place order")).click()
    expect(parent.get_by_role("heading", name=sv("Thank you for your order!"))).to_be_visible()
    expect(parent.locator("main")).to_contain_text(f"{sv('Total')}: 198,00 kr")

    with live_server.app.app_context():
        order = db.session.scalar(sa.select(Order))
        assert (order.total_minor, order.currency, order.postal_code, order.country) == (
            19800,
            "SEK",
            "114 55",
            "SE",
        )
        number = order.number
        client = db.session.scalar(sa.select(Client).where(Client.email == "sven@example.se"))
        assert client.language == "sv"
    mail = wait_for_mail(
        mail_outbox, "sven@example.se", sv("Your order %(order_number)s", order_number=number)
    )
    assert mail.message["Content-Language"] == "sv"
    text = flat(mail.text())
    assert "Sven Berg" in text and "149,00 kr" in text and "198,00 kr" in text
    assert f"{sv('Shipping')} 49,00 kr" in text
    assert "SEK" not in text and "149.00" not in text


# ------------------------------------------------------------------ a Russian parent


def test_a_russian_parent_orders_and_gets_a_russian_email_and_pdf_with_a_cyrillic_name(
    live_server,
    new_context,
    mail_outbox,
    catalogues,  # noqa: F811
):
    ru = Catalogue(catalogues, "ru")
    name, email = "Анна Смирнова", "anna@example.ru"
    title = "Riverside Primary"
    with live_server.app.app_context():
        owner, gallery = factories.make_studio_on_sale(PASSWORD, title=title, now=timeutil.now())
        owner.studio.client_languages = "ru"  # an English studio that also offers Russian
        db.session.add(
            OrderEmailSetting(
                studio_id=owner.studio_id,
                event="placed",
                mode="always",
                to_client=True,
                to_operators=False,
                attachment="confirmation",
            )
        )
        db.session.commit()
        sell_gallery(gallery, make_price_list(owner.studio, allows_pickup=False))
        gallery_url = f"{live_server.url}/g/{owner.studio.slug}/{gallery.slug}"

    parent = new_context("ru-RU", timezone_id="Europe/Moscow")
    parent.goto(gallery_url)
    register_with_emailed_code(parent, mail_outbox, ru, name, email, title)
    add_first_photo_to_cart(parent, ru, f"Print 13 × 18 cm · {money(900, 'EUR', 'ru')}")
    total = money(1390, "EUR", "ru")  # 9.00 + 4.90 shipping
    assert total != "€13.90"
    expect(parent.get_by_test_id("total")).to_have_text(total)
    parent.get_by_role("link", name=ru("Checkout")).click()
    expect(parent.locator("input[name=name]")).to_have_value(name)
    fill_address(parent, "ул. Тверская, д. 1, кв. 5", "125009", "Москва", "RU", region="Москва")
    parent.get_by_role("button", name=ru("Place order")).click()
    expect(parent.get_by_role("heading", name=ru("Thank you for your order!"))).to_be_visible()

    with live_server.app.app_context():
        order = db.session.scalar(sa.select(Order))
        assert (order.contact_name, order.address_line1, order.city) == (
            name,
            "ул. Тверская, д. 1, кв. 5",
            "Москва",
        )
        assert order.client.language == "ru"
        number = order.number
    mail = wait_for_mail(mail_outbox, email, ru("Your order %(order_number)s", order_number=number))
    assert mail.message["Content-Language"] == "ru"
    text = flat(mail.text())
    assert name in text and total in text and "€13.90" not in text
    assert name in flat(mail.html())
    [attachment] = list(mail.message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    document = flat(pdf_text(attachment.get_content()))
    assert name in document
    assert flat(ru("Order confirmation %(number)s", number=number)) in document
    assert flat(ru("Total")) in document and total in document
    assert f"Order confirmation {number}" not in document
