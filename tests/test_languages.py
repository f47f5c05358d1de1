"""Who sees which language (issue 18): the studio's client languages and country, the staff's
own language, the language of a studio's pages (Accept-Language among the studio's languages,
the switcher), and the language a registration stores.

The pages are read in their compiled catalogues (app/translations/*/messages.mo, built by
`make test`; compiled here when missing).
"""

import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages import mofile, pofile
from flask import g
from flask.testing import FlaskClient

from app.accounts.models import Studio, User
from app.extensions import db
from app.galleries.models import Client, GalleryAccess
from app.mailing.models import OutboxMessage
from tests import factories
from tests.client_helpers import code_in
from tests.factories import NOW

TRANSLATIONS = Path(__file__).resolve().parent.parent / "app" / "translations"


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues():
    """The .mo files `make test` compiles, compiled from the committed .po when missing."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists():
            continue
        with open(po, "rb") as source:
            catalogue = pofile.read_po(source, locale=po.parent.parent.name)
        with open(mo, "wb") as target:
            mofile.write_mo(target, catalogue)


class FreshClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``, as on a real server: the
    tests' app context is otherwise shared by all their requests, with the page language that
    Flask-Babel keeps in ``g`` and the ``g.studio`` of the public pages."""

    def open(self, *args, **kwargs):
        for name in list(vars(g)):
            delattr(g, name)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshClient
    return app.test_client()


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: NOW)
    return NOW


def studio_form(studio, **changes):
    data = {
        "studio-name": studio.name,
        "studio-email": "hello@example.com",
        "studio-timezone": studio.timezone,
        "studio-currency": studio.currency,
        "studio-language": studio.language,
        "studio-postal_address": studio.postal_address,
    }
    data.update(changes)
    return data


def reload(model, key):
    db.session.expire_all()
    return db.session.get(model, key)


def type_the_code(client, email):
    """Type the code of the newest message to ``email``; returns that message's subject."""
    message = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.recipient == email).order_by(OutboxMessage.id.desc())
    )
    client.post("/sign-in/code", data={"code": code_in(message.text)})
    return message.subject


def sign_in_as(client, customer):
    with client.session_transaction() as session:
        session["clients"] = {str(customer.studio_id): [customer.id, int(time.time())]}


def offer(studio, language, client_languages):
    studio.language, studio.client_languages = language, client_languages
    db.session.commit()


# ---------------------------------------------------------------- studio settings


def test_the_studio_chooses_its_client_languages_and_country(client, logged_in):
    response = client.post(
        "/profile/studio",
        data=studio_form(
            logged_in.studio, **{"studio-client_languages": ["fr", "sv"], "studio-country": "SE"}
        ),
    )
    assert response.status_code == 302
    studio = reload(Studio, logged_in.studio_id)
    # In the site's order, the studio's own language (en) always among them.
    assert (studio.client_languages, studio.country) == ("en,sv,fr", "SE")

    page = client.get("/profile").get_data(as_text=True)
    assert 'value="sv" checked' in page and 'value="fr" checked' in page
    assert 'value="de" checked' not in page
    assert 'value="en" checked disabled' in page  # the studio's language: always offered
    assert '<option selected value="SE">Sweden</option>' in page

    every = client.post(
        "/profile/studio",
        data=studio_form(
            studio, **{"studio-client_languages": ["en", "sv", "fr", "de", "ru"], "studio-country": ""}
        ),
    )
    assert every.status_code == 302
    studio = reload(Studio, logged_in.studio_id)
    assert (studio.client_languages, studio.country) == ("", None)


def test_changing_the_studios_language_keeps_it_offered(client, logged_in):
    # The form sends the former studio language (its disabled box's hidden input) as offered.
    client.post(
        "/profile/studio",
        data=studio_form(logged_in.studio, **{"studio-language": "sv", "studio-client_languages": ["en"]}),
    )
    studio = reload(Studio, logged_in.studio_id)
    assert (studio.language, studio.client_languages) == ("sv", "en,sv")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"studio-client_languages": ["sv", "xx"]},
            "xx is not one of the languages Proofsheet offers: choose among English, Svenska, "
            "Français, Deutsch, Русский.",
        ),
        ({"studio-country": "QQ"}, "Choose a country from the list."),
        ({"studio-country": "EU"}, "Choose a country from the list."),
    ],
)
def test_a_language_or_country_that_is_not_offered_is_refused(client, logged_in, changes, message):
    response = client.post(
        "/profile/studio", data=studio_form(logged_in.studio, **{"studio-name": "Renamed", **changes})
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    studio = reload(Studio, logged_in.studio_id)
    assert (studio.name, studio.client_languages, studio.country) == ("Northlight Studio", "", None)


def test_countries_are_named_in_the_page_language_and_sorted(client, logged_in):
    logged_in.language = "fr"
    db.session.commit()
    page = client.get("/profile").get_data(as_text=True)
    assert '<option value="SE">Suède</option>' in page
    assert '<option value="DE">Allemagne</option>' in page
    # Accents do not send a name to the end: Égypte comes among the E, before Espagne.
    assert page.index(">Égypte<") < page.index(">Espagne<") < page.index(">Suède<")
    assert 'value="001"' not in page and 'value="EU"' not in page


# ---------------------------------------------------------------- staff


def test_staff_choose_their_own_language(client, logged_in):
    assert 'lang="en"' in client.get("/admin/galleries/").get_data(as_text=True)

    response = client.post("/profile/me", data={"profile-name": logged_in.name, "profile-language": "sv"})
    assert response.status_code == 302
    assert reload(User, logged_in.id).language == "sv"
    page = client.get("/admin/galleries/").get_data(as_text=True)
    assert 'lang="sv"' in page and "Gallerier" in page and "Logga ut" in page
    # Only theirs: the studio's language is unchanged.
    assert reload(Studio, logged_in.studio_id).language == "en"

    client.post("/profile/me", data={"profile-name": logged_in.name, "profile-language": ""})
    assert reload(User, logged_in.id).language is None
    offer(reload(Studio, logged_in.studio_id), "fr", "")
    page = client.get("/profile").get_data(as_text=True)
    assert 'lang="fr"' in page and "Studio et profil" in page
    assert "Studio&#39;s language (Français)" in page or "(Français)" in page


def test_a_staff_language_not_offered_is_refused(client, logged_in):
    response = client.post("/profile/me", data={"profile-name": "New name", "profile-language": "xx"})
    assert response.status_code == 422
    assert "Choose a language from the list." in response.get_data(as_text=True)
    user = reload(User, logged_in.id)
    assert (user.name, user.language) == (logged_in.name, None)


# ---------------------------------------------------------------- clients' pages


@pytest.fixture
def swedish_studio(owner, frozen_now):
    """A studio in Swedish that offers its clients Swedish and French only; a gallery."""
    offer(owner.studio, "sv", "sv,fr")
    gallery = factories.make_gallery(owner.studio, access=GalleryAccess.REGISTRATION)
    return owner.studio, gallery


def gallery_url(studio, gallery):
    return f"/g/{studio.slug}/{gallery.slug}"


@pytest.mark.parametrize(
    ("accept", "language", "text"),
    [
        ("de-DE,de;q=0.9,fr;q=0.5", "fr", "Inscrivez-vous pour voir les photos"),
        ("fr-CA", "fr", "Inscrivez-vous pour voir les photos"),
        ("de-DE,de;q=0.9,en;q=0.5", "sv", "Registrera dig för att se bilderna"),  # neither offered
        ("", "sv", "Registrera dig för att se bilderna"),
    ],
)
def test_a_studio_page_follows_the_browser_among_the_studios_languages(
    client, swedish_studio, accept, language, text
):
    page = client.get(gallery_url(*swedish_studio), headers={"Accept-Language": accept})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<html lang="{language}">' in html and text in html
    # The registration form offers the studio's languages only, the page's chosen.
    assert f'<option selected value="{language}">' in html
    assert 'value="de"' not in html and 'value="en"' not in html


def test_a_language_chosen_elsewhere_that_the_studio_does_not_offer_is_not_used(client, swedish_studio):
    with client.session_transaction() as session:
        session["client_language"] = "de"  # chosen on another studio's pages
    page = client.get(gallery_url(*swedish_studio), headers={"Accept-Language": "fr"})
    assert '<html lang="fr">' in page.get_data(as_text=True)
    assert '<html lang="de">' in client.get("/c").get_data(as_text=True)


def test_pages_of_no_studio_follow_the_browser_among_every_language(client, swedish_studio):
    assert '<html lang="de">' in client.get("/c", headers={"Accept-Language": "de"}).get_data(as_text=True)


def test_the_switcher_changes_the_page_language(client, swedish_studio):
    studio, gallery = swedish_studio
    url = gallery_url(studio, gallery)
    page = client.get(url).get_data(as_text=True)
    assert f'action="/g/{studio.slug}/language"' in page and f'name="next" value="{url}"' in page

    response = client.post(f"/g/{studio.slug}/language", data={"language": "fr", "next": url})
    assert response.status_code == 302 and response.location == url
    page = client.get(url, headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert '<html lang="fr">' in page and "Inscrivez-vous pour voir les photos" in page

    # A language the studio does not offer is refused, with a message; the choice stays.
    refused = client.post(
        f"/g/{studio.slug}/language", data={"language": "de", "next": url}, follow_redirects=True
    )
    html = refused.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "Svenska, Français" in html and 'class="flash flash-error"' in html


def test_a_studio_offering_one_language_shows_no_switcher(client, swedish_studio):
    studio, gallery = swedish_studio
    offer(studio, "sv", "sv")
    page = client.get(gallery_url(studio, gallery), headers={"Accept-Language": "fr"})
    html = page.get_data(as_text=True)
    assert '<html lang="sv">' in html and 'data-testid="language-switcher"' not in html


def test_the_switcher_sets_a_signed_in_clients_language(client, swedish_studio):
    studio, gallery = swedish_studio
    customer = factories.make_client(studio, gallery=gallery)
    other = factories.make_client(studio, email="other@example.com")
    sign_in_as(client, customer)
    client.post(f"/g/{studio.slug}/language", data={"language": "fr", "next": gallery_url(studio, gallery)})
    assert reload(Client, customer.id).language == "fr"
    assert reload(Client, other.id).language == "en"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example/phish",
        "http://localhost.evil.example/",
        "javascript:alert(1)",
        "evil.example",
        "/\t/evil.example",
    ],
)
def test_the_switcher_never_redirects_elsewhere(client, swedish_studio, target):
    studio, _gallery = swedish_studio
    response = client.post(f"/g/{studio.slug}/language", data={"language": "fr", "next": target})
    assert response.status_code == 302
    assert response.location == "/c"


def test_the_switcher_comes_back_to_a_page_of_this_site(client, swedish_studio):
    studio, gallery = swedish_studio
    for target, back in [
        (gallery_url(studio, gallery) + "?page=2", gallery_url(studio, gallery) + "?page=2"),
        ("http://localhost/c", "/c"),
    ]:
        response = client.post(f"/g/{studio.slug}/language", data={"language": "fr", "next": target})
        assert response.location == back


# ---------------------------------------------------------------- registration


def test_registration_stores_the_chosen_language(client, swedish_studio, mail_outbox):
    studio, gallery = swedish_studio
    response = client.post(
        gallery_url(studio, gallery) + "/register",
        data={"name": "Alex Parent", "email": "alex@example.com", "language": "fr"},
    )
    assert response.status_code == 302
    # The pages follow the choice at once (the "check your email" page too).
    assert '<html lang="fr">' in client.get("/sign-in/code").get_data(as_text=True)
    # The sign-in email is in that language too.
    assert type_the_code(client, "alex@example.com").startswith("Votre code de connexion pour")
    customer = db.session.scalar(sa.select(Client).where(Client.email == "alex@example.com"))
    assert customer.language == "fr"
    assert '<html lang="fr">' in client.get(gallery_url(studio, gallery)).get_data(as_text=True)


def test_a_returning_client_registering_again_keeps_the_language_chosen(client, swedish_studio, mail_outbox):
    studio, gallery = swedish_studio
    second = factories.make_gallery(studio, title="Autumn", access=GalleryAccess.REGISTRATION)
    customer = factories.make_client(studio, email="alex@example.com", gallery=gallery)
    client.post(
        gallery_url(studio, second) + "/register",
        data={"name": "Alex Parent", "email": "alex@example.com", "language": "sv"},
    )
    type_the_code(client, "alex@example.com")
    assert reload(Client, customer.id).language == "sv"


def test_registration_refuses_a_language_the_studio_does_not_offer(client, swedish_studio):
    studio, gallery = swedish_studio
    response = client.post(
        gallery_url(studio, gallery) + "/register",
        data={"name": "Alex Parent", "email": "alex@example.com", "language": "de"},
    )
    assert response.status_code == 422
    assert "Svenska, Français" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_sign_up_starts_in_the_pages_language_and_its_currency(client):
    swedish = client.get("/signup", headers={"Accept-Language": "sv-SE,sv"}).data.decode()
    assert '<option selected value="sv">' in swedish or '<option value="sv" selected>' in swedish
    assert '<option selected value="SEK">' in swedish or '<option value="SEK" selected>' in swedish
    english = client.get("/signup", headers={"Accept-Language": "en-GB"}).data.decode()
    assert '<option selected value="EUR">' in english or '<option value="EUR" selected>' in english
