"""The Phone page (texts the local sink received, for photographers on the embedded default)
and the providers' inbound webhook."""

import json
from datetime import datetime
from pathlib import Path

from flask import abort, current_app, render_template, request
from flask_login import current_user, login_required

from app import timeutil
from app.extensions import csrf, db
from app.sms import bp, public_bp
from app.sms.inbound import is_stop, read_inbound_token
from app.sms.outbox import suppress
from app.sms.phone import PhoneRefused, display_phone, normalize_phone

PHONE_PAGE_LIMIT = 200


def sink_texts(folder, studio_id, limit=PHONE_PAGE_LIMIT):
    """The sink's texts of ``studio_id``, newest first."""
    texts = []
    for path in sorted(Path(folder).glob("*.json"), reverse=True):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if record.get("studio_id") == studio_id:
            record["to_display"] = display_phone(record.get("to", ""))
            record["sent_at"] = datetime.fromisoformat(record["sent_at"])
            texts.append(record)
            if len(texts) >= limit:
                break
    return texts


@bp.get("/phone")
@login_required
def phone():
    """The texts this studio sent to the local SMS sink, as a phone would show them."""
    if current_app.config["SMS_PROVIDER"] != "sink":
        abort(404)
    return render_template(
        "sms/phone.html", texts=sink_texts(current_app.config["SMS_SINK_FOLDER"], current_user.studio_id)
    )


@public_bp.post("/sms/inbound/46elks/<token>")
@csrf.exempt
def inbound_46elks(token):
    """An incoming text from 46elks (form fields from, to, message). An empty answer: 46elks
    would send any text we answer back to the client."""
    studio_id = read_inbound_token(token)
    if studio_id is None:
        abort(404)
    if is_stop(request.form.get("message")):
        try:
            number = normalize_phone(request.form.get("from", ""))
        except PhoneRefused:
            return "", 200
        suppress(studio_id, number, "stop", timeutil.now())
        db.session.commit()
    return "", 200
