"""Database helpers shared by every feature package."""

import sqlalchemy as sa
from flask import abort

from app.extensions import db

_pragmas_registered = False


def register_sqlite_pragmas():
    """Enforce foreign keys and let readers and one writer work at once on SQLite."""
    global _pragmas_registered
    if _pragmas_registered:
        return
    _pragmas_registered = True

    @sa.event.listens_for(sa.Engine, "connect")
    def _on_connect(dbapi_connection, _record):
        if type(dbapi_connection).__module__ != "sqlite3":
            return
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def get_owned_or_404(model, object_id, studio_id):
    """Fetch a row that belongs to ``studio_id`` or answer 404 (never 403: ids do not leak).

    ``model`` needs a ``studio_id`` column, or a ``gallery`` relationship through which the
    studio is reached (photos, access cards).
    """
    row = db.session.get(model, object_id)
    if row is None or owner_studio_id(row) != studio_id:
        abort(404)
    return row


def owner_studio_id(row):
    if hasattr(row, "studio_id"):
        return row.studio_id
    return row.gallery.studio_id
