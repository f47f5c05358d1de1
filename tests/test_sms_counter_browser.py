"""The editor's live SMS count (static/js/sms-counter.js) agrees with the count the outbox
stores (app/sms/segments.py) for every kind of text, and follows typing."""

from pathlib import Path

import pytest

from app.sms.segments import count_segments

pytestmark = pytest.mark.browser

SCRIPT = (Path(__file__).parent.parent / "app" / "static" / "js" / "sms-counter.js").read_text()

TEXTS = [
    "",
    "Hej! Bilderna är klara.",
    "x" * 160,
    "x" * 161,
    "x" * 306,
    "x" * 307,
    "[braces]{cost}~twice€" * 8,
    "^" * 80,
    "^" * 81,
    "Привет! Ваши фотографии готовы.",
    "ł" * 70,
    "ł" * 71,
    "Photos ready 📸" * 5,
    "Zoë's photos: déjà vu, ça va? ñ ü à",
    "line one\nline two\r\n",
]

PAGE = """<!doctype html><meta charset=utf-8>
<textarea id=text data-sms-counter></textarea>
<p id=count data-sms-counter-for=text data-max-segments=3
   data-template="__characters__|__segments__|__encoding__|__remaining__"
   data-unicode="because __characters__"></p>
<script>{script}</script>"""


def _shown(page):
    characters, segments, encoding, rest = page.text_content("#count").split("|", 3)
    return int(characters), int(segments), encoding, int(rest.split(" ", 1)[0]), rest


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_the_live_count_is_the_outbox_count(page, text):
    page.set_content(PAGE.replace("{script}", SCRIPT))
    page.fill("#text", text)
    # A textarea's value has "\n" line breaks; the outbox stores texts the same way.
    sent = text.replace("\r\n", "\n")
    expected = count_segments(sent)
    characters, segments, encoding, remaining, _rest = _shown(page)
    assert (segments, encoding) == (expected.segments, expected.encoding)
    assert remaining == (expected.remaining if expected.segments else 160)
    assert characters == len(sent)


def test_the_count_follows_typing_and_names_what_forced_unicode(page):
    page.set_content(PAGE.replace("{script}", SCRIPT))
    page.fill("#text", "Hello")
    assert _shown(page)[1:3] == (1, "GSM-7")
    page.locator("#text").press_sequentially(" Łódź")
    _c, segments, encoding, _r, rest = _shown(page)
    assert (segments, encoding) == (1, "UCS-2")
    assert "Ł" in rest and "ó" in rest and "ź" in rest
    assert "d" not in rest.split("because", 1)[1]


def test_more_parts_than_allowed_is_shown_as_an_error(page):
    page.set_content(PAGE.replace("{script}", SCRIPT))
    page.fill("#text", "x" * (153 * 3))
    assert "error" not in (page.get_attribute("#count", "class") or "")
    page.fill("#text", "x" * (153 * 3 + 1))
    assert "error" in page.get_attribute("#count", "class")
