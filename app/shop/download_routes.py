"""Every purchased file of an order as one zip, streamed as it is written.

The link is signed like the single downloads (a week) and names the order and its client, so a
token for one order opens no other, and the client's revoked links stop it too. The zip is
stored, not deflated: JPEGs do not shrink, and storing costs no CPU. It is written to the
response as it goes (zipfile writes data descriptors on a stream it cannot seek), so neither the
archive nor a whole photo is ever held in memory.
"""

import zipfile
from pathlib import PurePath

from flask import Response, render_template, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.extensions import db
from app.galleries.storage import photo_file
from app.shop import client_bp
from app.shop.client_services import DOWNLOAD_MAX_AGE, downloadable_photos
from app.shop.models import Order
from app.signing import signing_keys

_ZIP_SALT = "proofsheet-download-all"
CHUNK_SIZE = 1024 * 1024


def _serializer():
    return URLSafeTimedSerializer(signing_keys(), salt=_ZIP_SALT)


def download_all_token(order):
    return _serializer().dumps([order.id, order.client_id])


@client_bp.app_template_global()
def download_all_url(order):
    """The "Download all (zip)" link of a paid order's purchased files."""
    return url_for("shop.download_all", token=download_all_token(order))


class _ZipRefused(Exception):  # noqa: N818
    """``reason``: "expired", "invalid" (the download_refused page's words) or "not_paid"."""


def _order_of(token):
    """The order a zip link names, or raise ``_ZipRefused``."""
    from app.galleries.clients import revoked_since  # noqa: PLC0415 (shop reads galleries)

    try:
        (order_id, client_id), issued = _serializer().loads(
            token, max_age=DOWNLOAD_MAX_AGE, return_timestamp=True
        )
        order = db.session.get(Order, int(order_id))
    except SignatureExpired:
        raise _ZipRefused("expired") from None
    except (BadSignature, ValueError, TypeError):
        raise _ZipRefused("invalid") from None
    if order is None or order.client_id != int(client_id):
        raise _ZipRefused("invalid")
    if order.client is not None and revoked_since(order.client, issued.timestamp()):
        raise _ZipRefused("expired")
    return order


def archive_names(filenames):
    """A name in the zip per file, in order: the client's own file names without any folder,
    ``name (2).jpg`` for a repeated one (a zip may hold two entries of one name, but unzipping
    then overwrites one of the photos)."""
    taken, names = set(), []
    for filename in filenames:
        base = PurePath((filename or "").replace("\\", "/")).name.strip() or "photo.jpg"
        stem, dot, suffix = base.rpartition(".")
        stem, suffix = (stem, f".{suffix}") if dot and stem else (base, "")
        name, number = base, 1
        while name.lower() in taken:
            number += 1
            name = f"{stem} ({number}){suffix}"
        taken.add(name.lower())
        names.append(name)
    return names


class _Pipe:
    """A write-only, unseekable file whose bytes are taken out as they come."""

    def __init__(self):
        self._chunks = []
        self._written = 0

    def write(self, data):
        self._chunks.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self):  # zipfile asks where each entry starts
        return self._written

    def flush(self):
        pass

    def take(self):
        data, self._chunks = b"".join(self._chunks), []
        return data


def zip_stream(files):
    """The bytes of a stored zip of ``files`` ((path, name in the zip) pairs), chunk by chunk."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, name in files:
            # The size is known up front: zipfile then adds Zip64 fields only to a file that
            # needs them (some unzip tools still trip over them).
            entry_info = zipfile.ZipInfo.from_file(path, name)
            with open(path, "rb") as source, archive.open(entry_info, "w") as entry:
                while chunk := source.read(CHUNK_SIZE):
                    entry.write(chunk)
                    yield pipe.take()
            yield pipe.take()
    yield pipe.take()


@client_bp.get("/download-all/<token>")
def download_all(token):
    """Every purchased file of a paid order, in one zip."""
    try:
        order = _order_of(token)
    except _ZipRefused as refusal:
        return render_template("shop/client/download_refused.html", reason=str(refusal)), 410
    photos = downloadable_photos(order)
    if not photos:
        return render_template("shop/client/download_refused.html", reason="not_paid"), 403
    studio_id = order.studio_id
    names = archive_names(photo.original_filename for photo in photos)
    files = [
        (photo_file(photo, "original", studio_id), name) for photo, name in zip(photos, names, strict=True)
    ]
    response = Response(zip_stream(files), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="order-{order.number}.zip"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
