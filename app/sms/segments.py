"""How many SMS segments a text takes (3GPP TS 23.038): GSM-7 when every character is in the
GSM 03.38 alphabet (160 per text, 153 per segment of a longer one; the extension table's
characters count twice), else UCS-2 (70, then 67 per segment, counted in UTF-16 code units, so
an emoji counts twice). No maintained Python library does this (the one on PyPI is a 0.0.1
from 2015); the editor counts with the same rules in static/js/sms-counter.js."""

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int

    @property
    def remaining(self):
        """Units left in the last segment before another one starts."""
        return self.segments * self.per_segment - self.units


def count_segments(text):
    """The ``SegmentCount`` of ``text`` (0 segments for an empty text)."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        units = len(text) + sum(1 for char in text if char in GSM7_EXTENSION)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    if units == 0:
        return SegmentCount(encoding, 0, 0, single)
    if units <= single:
        return SegmentCount(encoding, units, 1, single)
    return SegmentCount(encoding, units, -(-units // part), part)
