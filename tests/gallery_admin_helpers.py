"""Image files for the gallery admin and image pipeline tests, generated with Pillow."""

import io
import struct
import zlib

from PIL import Image

EXIF_ORIENTATION = 0x0112


def jpeg_bytes(size=(640, 480), color=(200, 80, 40), orientation=None):
    """A JPEG; with ``orientation`` its EXIF says how to turn it (6: 90° clockwise)."""
    image = Image.new("RGB", size, color)
    # A bright band on the left edge, so turning the image shows in its pixels too.
    image.paste((250, 250, 250), (0, 0, size[0] // 8, size[1]))
    buffer = io.BytesIO()
    if orientation is None:
        image.save(buffer, "JPEG", quality=90)
    else:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = orientation
        image.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def png_bytes(size=(300, 200), mode="RGBA"):
    image = Image.new(mode, size, (30, 160, 90, 128) if mode == "RGBA" else (30, 160, 90))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def webp_bytes(size=(320, 240)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (60, 60, 200)).save(buffer, "WEBP")
    return buffer.getvalue()


def gif_bytes():
    buffer = io.BytesIO()
    Image.new("P", (20, 20)).save(buffer, "GIF")
    return buffer.getvalue()


def truncated_jpeg():
    data = jpeg_bytes(size=(800, 600))
    return data[: len(data) // 2]


def png_bomb(width=30000, height=30000):
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind, payload):
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\x00" * 3 * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * 4))
        + chunk(b"IEND", b"")
    )
