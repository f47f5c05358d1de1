"""The readable text colour on a studio's accent colour (client pages, emails)."""

import pytest

from app.galleries.colours import contrast_ratio, text_colour_on


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
