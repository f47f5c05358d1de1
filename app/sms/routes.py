"""The Phone page (texts the local sink received, for photographers on the embedded default)
and the providers' inbound webhooks (46elks, Twilio)."""

import json
from datetime import datetime
from pathlib import Path

from flask import Response, abort, current_app, render_template, request
from flask_login import current_user, login_required
from twilio.request_validator import RequestValidator

from app import timeutil
from app.extensions import csrf, db
from app.mailing.crypto import decrypt
from app.sms import bp, public_bp
from app.sms.inbound import is_stop, read_inbound_token
from app.sms.models import StudioSmsSettings
from app.sms.outbox import suppress
from app.sms.phone import PhoneRefused, display_phone, normalize_phone
from app.urls import external_url

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


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@public_bp.post("/sms/inbound/twilio/<token>")
@csrf.exempt
def inbound_twilio(token):
    """An incoming text from Twilio (form fields From, Body, ...), signed with the studio's Auth
    Token (X-Twilio-Signature): refused (403) unless the signature holds. An empty TwiML answer:
    no text goes back to the client."""
    studio_id = read_inbound_token(token)
    own = db.session.get(StudioSmsSettings, studio_id) if studio_id is not None else None
    if own is None or own.provider != "twilio":
        abort(404)
    validator = RequestValidator(decrypt(own.password_encrypted) or "")
    signature = request.headers.get("X-Twilio-Signature", "")
    params = request.form  # a MultiDict: the validator signs repeated fields too
    # Twilio signs the URL it was given (the one the settings page shows); behind a proxy that
    # URL may differ from the one this request arrived at.
    urls = {external_url("sms_public.inbound_twilio", token=token), request.url}
    if not signature or not any(validator.validate(url, params, signature) for url in urls):
        abort(403)
    if is_stop(request.form.get("Body")):
        try:
            number = normalize_phone(request.form.get("From", ""))
        except PhoneRefused:
            number = None
        if number:
            suppress(studio_id, number, "stop", timeutil.now())
            db.session.commit()
    return Response(EMPTY_TWIML, content_type="text/xml; charset=utf-8")
