"""The one sanitize(): against a corpus of XSS payloads, and what it must keep."""

import re
from pathlib import Path

import pytest

from app.workflows.sanitize import sanitize

PAYLOADS = [line for line in (Path(__file__).parent / "xss_payloads.txt").read_text(
    encoding="utf-8").splitlines() if line.strip()]

FORBIDDEN = [
    re.compile(r"<\s*(script|iframe|object|embed|svg|math|meta|style|link|base|form|frame"
               r"|frameset|applet|template|audio|video|input|button|body|isindex|bgsound)\b",
               re.I),
    re.compile(r"\son\w+\s*=", re.I),                        # event handlers
    re.compile(r"(href|src|action|formaction|data|background)\s*=\s*[\"']?\s*"
               r"(javascript|vbscript|data)\s*:", re.I),
    re.compile(r"expression\s*\(|url\s*\(|behavior\s*:|-moz-binding|@import", re.I),
]


def test_the_corpus_is_large():
    assert len(PAYLOADS) >= 80


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_executable_construct_survives(payload):
    clean = sanitize(payload)
    for pattern in FORBIDDEN:
        assert not pattern.search(clean), (payload, clean)
    assert sanitize(clean) == clean  # idempotent: sanitizing on render changes nothing more


def test_formatting_links_and_images_are_kept():
    html = ('<h2 style="text-align: center;">Hello</h2><p><strong>Bold</strong> <em>it</em> '
            '<u>u</u> <span style="color: rgb(230, 0, 0); font-size: 20px;">red</span></p>'
            '<ol><li>one</li></ol><ul><li>two</li></ul>'
            '<p><a href="https://example.com/a?b=1" target="_blank">link</a> '
            '<a href="mailto:hi@example.com">mail</a> <a href="%gallery_link%">gallery</a></p>'
            '<p><img src="https://photos.example.com/media/email/1/x.png" alt="logo"></p>')
    clean = sanitize(html)
    for kept in ["<h2", "text-align: center", "<strong>", "<em>", "<u>", "font-size: 20px",
                 "color: rgb(230, 0, 0)", "<ol>", "<ul>", 'href="https://example.com/a?b=1"',
                 'href="mailto:hi@example.com"', 'href="%gallery_link%"',
                 'src="https://photos.example.com/media/email/1/x.png"']:
        assert kept in clean, kept


def test_disallowed_css_properties_are_dropped_but_allowed_ones_stay():
    clean = sanitize('<p style="position: fixed; color: blue; z-index: 99">x</p>')
    assert "color: blue" in clean and "position" not in clean and "z-index" not in clean
