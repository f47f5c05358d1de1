"""A studio's accent colour on client pages and in emails: which text colour reads on it."""

import re

_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
BLACK = "#000000"
WHITE = "#ffffff"


def _channel_luminance(value):
    """One sRGB channel (0-255) made linear, as WCAG 2 defines relative luminance."""
    fraction = value / 255
    return fraction / 12.92 if fraction <= 0.04045 else ((fraction + 0.055) / 1.055) ** 2.4


def relative_luminance(colour_hex):
    """WCAG 2 relative luminance of ``#rrggbb``: 0 for black, 1 for white."""
    if not isinstance(colour_hex, str) or not _HEX_COLOUR.fullmatch(colour_hex):
        raise ValueError(f"not a #rrggbb colour: {colour_hex!r}")
    red, green, blue = (int(colour_hex[i : i + 2], 16) for i in (1, 3, 5))
    return (
        0.2126 * _channel_luminance(red)
        + 0.7152 * _channel_luminance(green)
        + 0.0722 * _channel_luminance(blue)
    )


def contrast_ratio(first_hex, second_hex):
    """WCAG 2 contrast ratio of two colours, from 1 (the same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first_hex), relative_luminance(second_hex)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(accent_hex):
    """Black or white, whichever contrasts more with ``accent_hex`` (``#rrggbb``): the text of
    a button or badge painted in a studio's accent colour. Raises ValueError for anything else."""
    if contrast_ratio(accent_hex, WHITE) >= contrast_ratio(accent_hex, BLACK):
        return WHITE
    return BLACK


def link_colour_on_white(accent_hex, fallback="#1d2025"):
    """The accent for links and outlines on the white page when it reads there (WCAG AA, 4.5:1);
    a pale accent (a yellow) gives way to the page's ink."""
    return accent_hex if contrast_ratio(accent_hex, WHITE) >= 4.5 else fallback


def accent_declarations(accent_hex):
    """The CSS custom properties of a studio's accent colour for client pages (``--accent`` and
    the text on it, ``--accent-ink``; ``--accent-text`` for links), or "" without a usable one:
    the page keeps its own colours. Only a checked ``#rrggbb`` ever reaches the style sheet."""
    try:
        ink = text_colour_on(accent_hex)
    except ValueError:
        return ""
    return f"--accent: {accent_hex}; --accent-ink: {ink}; --accent-text: {link_colour_on_white(accent_hex)};"
