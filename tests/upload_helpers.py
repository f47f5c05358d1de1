"""Speaking the resumable upload API from the Flask test client, and photos to send through it."""

import io

from PIL import Image, ImageDraw, ImageFilter

CHUNK_TYPE = "application/offset+octet-stream"
EXIF_IFD, DATE_TIME_ORIGINAL, ORIENTATION = 0x8769, 0x9003, 0x0112


def sessions_url(gallery_id):
    return f"/admin/galleries/{gallery_id}/uploads"


def open_session(client, gallery_id, filename, size):
    return client.post(
        sessions_url(gallery_id),
        json={"filename": filename, "size": size},
        headers={"Accept": "application/json"},
    )


def send_chunk(client, url, offset, data, **kwargs):
    headers = {"Upload-Offset": str(offset), "Content-Type": CHUNK_TYPE, **kwargs.pop("headers", {})}
    return client.patch(url, data=data, headers=headers, **kwargs)


def upload_whole(client, gallery_id, filename, data, chunk=64 * 1024):
    """Send ``data`` in chunks; returns the last answer."""
    url = open_session(client, gallery_id, filename, len(data)).json["url"]
    answer = None
    for offset in range(0, len(data), chunk):
        answer = send_chunk(client, url, offset, data[offset : offset + chunk])
        assert answer.status_code in (200, 422), answer.get_data(as_text=True)
    return answer


def camera_jpeg(size=(1800, 1200), taken="2026:05:14 09:31:07", orientation=None, quality=90):
    """A JPEG like a camera's: gradients, shapes and noise, with EXIF DateTimeOriginal."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 8, height), fill=(250, 250, 250))  # a bright band on the left
    draw.ellipse((width // 3, height // 4, width // 2, height // 2), fill=(200, 60, 40))
    noise = Image.effect_noise(size, 40).convert("RGB")
    image = Image.blend(image, noise, 0.2).filter(ImageFilter.SMOOTH)
    exif = Image.Exif()
    if orientation:
        exif[ORIENTATION] = orientation
    if taken:
        exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = taken
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()
