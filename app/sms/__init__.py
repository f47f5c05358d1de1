"""Text messages (SMS): an outbox like the mail outbox, providers behind one small interface
(the embedded local sink, 46elks, Twilio), phone numbers in E.164 and the segment count of a text.

Like mailing, this package imports no feature package: studios are referred to by id and
messages carry their final text.
"""

from flask import Blueprint

bp = Blueprint("sms", __name__, url_prefix="/admin/sms")
public_bp = Blueprint("sms_public", __name__)

from app.sms import routes, settings_routes  # noqa: E402,F401
