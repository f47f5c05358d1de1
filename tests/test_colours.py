"""The readable text colour on a studio's accent colour (client pages, emails)."""

import pytest

from app.galleries.colours import accent_declarations, contrast_ratio, text_colour_on


@pytest.mark.parametrize(
    ("accent", "text"),
    [
        ("#000000", "#ffffff"),
        ("#ffffff", "#000000"),
        ("#2f5bea", "#ffffff"),  # the default blue
        ("#ffd400", "#000000"),  # a yellow
        ("#7FFFD4", "#000000"),  # aquamarine, upper case
        ("#1b7f3b", "#ffffff"),  # a dark green
        ("#777777", "#000000"),  # mid grey: black contrasts slightly more (4.7 vs 4.5)
    ],
)
def test_text_colour_on_picks_the_more_readable(accent, text):
    assert text_colour_on(accent) == text


def test_the_chosen_text_colour_always_contrasts_at_least_as_much_as_the_other():
    for value in range(0, 256, 5):
        accent = f"#{value:02x}{(value * 7) % 256:02x}{(255 - value):02x}"
        chosen = text_colour_on(accent)
        other = "#000000" if chosen == "#ffffff" else "#ffffff"
        assert contrast_ratio(accent, chosen) >= contrast_ratio(accent, other)


def test_contrast_ratio_of_black_on_white_is_21():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)


@pytest.mark.parametrize("bad", [None, "", "2f5bea", "#2f5be", "#2f5beaa", "#ggggggg", "red"])
def test_text_colour_on_refuses_what_is_not_rrggbb(bad):
    with pytest.raises(ValueError, match="rrggbb"):
        text_colour_on(bad)


def test_accent_declarations_of_a_dark_accent_use_it_for_links_too():
    assert (
        accent_declarations("#1b7f3b") == "--accent: #1b7f3b; --accent-ink: #ffffff; --accent-text: #1b7f3b;"
    )


def test_a_pale_accent_gives_links_the_page_ink_and_buttons_black_text():
    assert (
        accent_declarations("#ffd400") == "--accent: #ffd400; --accent-ink: #000000; --accent-text: #1d2025;"
    )


@pytest.mark.parametrize("bad", [None, "", "red; } body { display: none", "#12345"])
def test_no_declarations_without_a_usable_accent(bad):
    assert accent_declarations(bad) == ""
