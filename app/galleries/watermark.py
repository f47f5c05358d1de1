"""The watermark on previews: the studio's text tiled diagonally across the photo."""

import math

from PIL import Image, ImageDraw, ImageFont


def apply_watermark(image, text):
    """``image`` with ``text`` tiled diagonally across it, light enough to keep the photo readable.

    White letters with a thin dark outline stay visible on both light and dark photos.
    """
    text = (text or "").strip()
    if not text:
        return image
    width, height = image.size
    font = ImageFont.load_default(size=max(14, round(min(width, height) / 14)))
    tile = _watermark_tile(text, font)
    # Tile a square covering the image at any angle, rotate it, then keep the centre.
    side = math.ceil(math.hypot(width, height))
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    for top in range(0, side, tile.height):
        offset = (top // tile.height % 2) * tile.width // 2  # brick pattern: rows shifted by half
        for left in range(-offset, side, tile.width):
            layer.alpha_composite(tile, (max(left, 0), top), (max(-left, 0), 0))
    layer = layer.rotate(30, resample=Image.Resampling.BICUBIC)
    left, top = (side - width) // 2, (side - height) // 2
    layer = layer.crop((left, top, left + width, top + height))
    marked = image.convert("RGBA")
    marked.alpha_composite(layer)
    return marked.convert("RGB")


def _watermark_tile(text, font):
    """One repetition of the watermark: the text with generous space around it."""
    measure = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
    stroke = max(1, round(font.size / 24))
    left, top, right, bottom = measure.textbbox((0, 0), text, font=font, stroke_width=stroke)
    text_width, text_height = right - left, bottom - top
    tile = Image.new("RGBA", (text_width + font.size * 3, text_height + font.size * 3), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text(
        (font.size * 1.5 - left, font.size * 1.5 - top),
        text,
        font=font,
        fill=(255, 255, 255, 96),
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 48),
    )
    return tile
