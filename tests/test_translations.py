"""Translations (issue 18): the committed template catalogue is what the code says, every
language's catalogue translates all of it with the same placeholders, and a page follows the
browser's language when a compiled catalogue exists (English without one).

None of these tests needs the database: the pages fetched here only render a form.
"""

import re
import shlex
from pathlib import Path

import pytest
from babel.messages import frontend, mofile, pofile
from babel.messages.catalog import Catalog

from app import create_app

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
POT = TRANSLATIONS / "messages.pot"
LOCALES = ["sv", "fr", "de", "ru"]

# %(name)s, %s, %d, %.2f ... and the literal %%.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?"
    r"(?P<type>[diouxXeEfFgGcrsa%])"
)


def extract_options():
    """The extraction options of the Makefile's EXTRACT_OPTIONS (one place for both)."""
    makefile = (ROOT / "Makefile").read_text()
    value = re.search(r"^EXTRACT_OPTIONS :=((?:.*\\\n)*.*)$", makefile, re.MULTILINE).group(1)
    return shlex.split(value.replace("\\\n", " "))


def read_catalogue(path):
    with open(path, "rb") as handle:
        return pofile.read_po(handle)


def entries(catalogue):
    """What a catalogue says about each message, without the header and dates."""
    return {
        (message.id if isinstance(message.id, str) else tuple(message.id), message.context): (
            sorted(message.flags),
            list(message.auto_comments),
        )
        for message in catalogue
        if message.id
    }


def placeholders(text):
    """The placeholders of a format string: names for %(name)s, the type for %s and %%."""
    return sorted(
        match["name"] if match["name"] is not None else "%" + match["type"]
        for match in PLACEHOLDER.finditer(text)
    )


def has_translations(locale):
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return False
    return any(
        message.id and any(message.string if isinstance(message.string, tuple) else [message.string])
        for message in read_catalogue(path)
    )


def test_committed_template_is_a_fresh_extraction(tmp_path):
    """app/translations/messages.pot lists exactly the strings of the code: run `make messages`
    (then `make catalogues`) after adding or changing a translatable string."""
    fresh = tmp_path / "messages.pot"
    options = [ROOT / option if option == "babel.cfg" else option for option in extract_options()]
    frontend.CommandLineInterface().run(
        ["pybabel", "--quiet", "extract", *map(str, options), "-o", str(fresh), str(ROOT)]
    )
    committed, extracted = entries(read_catalogue(POT)), entries(read_catalogue(fresh))
    assert sorted(set(extracted) - set(committed), key=str) == [], "run make messages"
    assert sorted(set(committed) - set(extracted), key=str) == [], "run make messages"
    assert committed == extracted, "run make messages"


@pytest.mark.parametrize(
    "locale",
    [
        pytest.param(
            locale,
            marks=pytest.mark.skipif(not has_translations(locale), reason="catalogue not translated yet"),
        )
        for locale in LOCALES
    ],
)
def test_every_message_is_translated_with_the_same_placeholders(locale):
    template = read_catalogue(POT)
    catalogue = read_catalogue(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po")
    problems = []
    for message in template:
        if not message.id:
            continue
        translated = catalogue.get(message.id, message.context)
        forms = (
            (translated.string if isinstance(translated.string, tuple) else (translated.string,))
            if translated is not None
            else ("",)
        )
        if translated is None or not all(forms):
            problems.append(("untranslated", message.id))
        elif translated.fuzzy:
            problems.append(("fuzzy", message.id))
        elif not message.pluralizable:
            if placeholders(forms[0]) != placeholders(message.id):
                problems.append(("placeholders", message.id, forms[0]))
        else:
            singular, plural = (set(placeholders(text)) for text in message.id)
            for form in forms:  # a form may leave out the count; no other placeholder
                if not (singular - {"num"} <= set(placeholders(form)) <= singular | plural):
                    problems.append(("placeholders", message.id, form))
    problems += [("format", message.id, str(errors)) for message, errors in catalogue.check()]
    assert problems == []


# ---------------------------------------------------------------- the language of a page


def compile_catalogue(folder, locale, translations):
    """A compiled catalogue of ``translations`` (msgid -> msgstr) under folder/<locale>."""
    catalogue = Catalog(locale=locale)
    for msgid, msgstr in translations.items():
        catalogue.add(msgid, msgstr)
    target = folder / locale / "LC_MESSAGES"
    target.mkdir(parents=True)
    with open(target / "messages.mo", "wb") as handle:
        mofile.write_mo(handle, catalogue)


def page_app(tmp_path, translation_directory):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.db'}",
            "BABEL_TRANSLATION_DIRECTORIES": str(translation_directory),
        },
        instance_path=str(tmp_path / "instance"),
    )
    # Flask-Babel keeps loaded catalogues for the whole process, by language only: the real
    # catalogue an earlier test loaded would answer for this app's folder.
    with app.app_context():
        app.extensions["babel"].instance.domain_instance.cache.clear()
    return app


def test_the_languages_are_named_in_themselves(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test"}, instance_path=str(tmp_path))
    assert app.config["LANGUAGES"] == {
        "en": "English",
        "sv": "Svenska",
        "fr": "Français",
        "de": "Deutsch",
        "ru": "Русский",
    }
    assert Path(app.root_path, app.config["BABEL_TRANSLATION_DIRECTORIES"]) == TRANSLATIONS


def test_a_page_follows_the_browsers_language(tmp_path):
    compile_catalogue(tmp_path / "translations", "sv", {"Log in": "Logga in"})
    client = page_app(tmp_path, tmp_path / "translations").test_client()

    swedish = client.get("/login", headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"})
    assert swedish.status_code == 200
    assert "Logga in" in swedish.get_data(as_text=True)
    assert 'lang="sv"' in swedish.get_data(as_text=True)

    english = client.get("/login", headers={"Accept-Language": "en-GB"})
    assert "Logga in" not in english.get_data(as_text=True)
    assert "Log in" in english.get_data(as_text=True)


def test_a_language_without_a_compiled_catalogue_shows_english(tmp_path):
    (tmp_path / "empty").mkdir()
    client = page_app(tmp_path, tmp_path / "empty").test_client()
    page = client.get("/login", headers={"Accept-Language": "de"})
    assert page.status_code == 200
    assert "Log in" in page.get_data(as_text=True)
