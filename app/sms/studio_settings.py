"""A studio's own SMS provider: saved, removed (back to Proofsheet's), read."""

from app.extensions import db
from app.mailing.crypto import encrypt
from app.sms.models import StudioSmsSettings


def sms_settings_of(studio_id):
    return db.session.get(StudioSmsSettings, studio_id)


def save_sms_settings(studio_id, values, now):
    """Save the studio's provider and flush. A ``password`` of None keeps the stored secret
    (the form only allows that for the same provider)."""
    row = sms_settings_of(studio_id)
    if row is None:
        row = StudioSmsSettings(studio_id=studio_id)
        db.session.add(row)
    row.provider = values["provider"]
    row.username = values["username"]
    if values["password"] is not None:
        row.password_encrypted = encrypt(values["password"])
    row.sender = values["sender"]
    row.rate_per_minute = values["rate_per_minute"]
    row.updated_at = now
    db.session.flush()
    return row


def remove_sms_settings(studio_id):
    """Back to Proofsheet's provider; flush."""
    row = sms_settings_of(studio_id)
    if row is not None:
        db.session.delete(row)
        db.session.flush()
