"""Settings → Text messages (issue 19): the studio's provider saved, validated and removed, its
secret kept encrypted, the test text through the local sink and through Twilio's API played by a
local HTTP server, and Twilio's inbound webhook with real X-Twilio-Signature values."""

import base64
import html
import json
import re
import threading
import time
import urllib.parse
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from app.extensions import db
from app.mailing.crypto import decrypt
from app.sms.dispatch import provider_for
from app.sms.models import SmsMessage, SmsState, SmsSuppression, StudioSmsSettings
from app.sms.outbox import queue_sms
from app.sms.providers import TwilioProvider
from tests import factories
from tests.conftest import free_port
from tests.factories import NOW

URL = "/admin/sms/settings"
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f00dfeedf00dfeedf00dfeedf00dfeed"
PHONE = "+46701234567"


def twilio_form(**changes):
    return {
        "provider": "twilio",
        "username": SID,
        "password": TOKEN,
        "sender": "+46 76 686 10 04",
        "rate_per_minute": "30",
    } | changes


def saved():
    db.session.expire_all()
    return db.session.scalars(sa.select(StudioSmsSettings)).all()


def page_text(answer):
    return html.unescape(answer.data.decode())


# ------------------------------------------------------------------ the settings


def test_the_owner_saves_twilio_and_the_secret_is_stored_encrypted_never_shown(client, logged_in):
    answer = client.post(URL, data=twilio_form(), follow_redirects=True)
    assert answer.status_code == 200 and "Text message settings saved." in page_text(answer)
    [row] = saved()
    assert (row.provider, row.username, row.sender, row.rate_per_minute) == (
        "twilio",
        SID,
        "+46766861004",  # E.164
        30,
    )
    assert TOKEN not in row.password_encrypted and decrypt(row.password_encrypted) == TOKEN
    page = page_text(client.get(URL))
    assert TOKEN not in page and "A secret is saved." in page
    assert re.search(r"data-inbound-url>http://[^<]+/sms/inbound/twilio/[^<]+<", page)


def test_a_blank_secret_keeps_the_stored_one(client, logged_in):
    client.post(URL, data=twilio_form())
    answer = client.post(URL, data=twilio_form(password="", sender="Northlight", rate_per_minute="5"))
    assert answer.status_code == 302
    [row] = saved()
    assert decrypt(row.password_encrypted) == TOKEN
    assert (row.sender, row.rate_per_minute) == ("Northlight", 5)


def test_46elks_shows_its_inbound_url(client, logged_in):
    answer = client.post(
        URL,
        data=twilio_form(provider="46elks", username="u0123456789abcdef", sender="Northlight"),
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert saved()[0].provider == "46elks"
    assert re.search(r"data-inbound-url>http://[^<]+/sms/inbound/46elks/[^<]+<", page_text(answer))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sender": "Northlight Studio"}, "1 to 11 letters"),
        ({"sender": "ÅsaFoto"}, "1 to 11 letters"),
        ({"sender": "NorthlightStudio"}, "1 to 11 letters"),
        ({"sender": "+46 70 123"}, "not valid"),
        ({"sender": "+46 8 123 456 78"}, "cannot receive text messages"),  # a landline
        ({"sender": ""}, "Please enter the sender"),
        ({"rate_per_minute": "0"}, "from 1 to 1000"),
        ({"rate_per_minute": "1001"}, "from 1 to 1000"),
        ({"rate_per_minute": ""}, "1 to 1000"),
        ({"username": "u123"}, "AC followed by 32 hexadecimal characters"),
        ({"username": "AC" + "g" * 32}, "AC followed by 32 hexadecimal characters"),
        ({"username": ""}, "Please enter your account"),
        ({"password": ""}, "Please enter the secret"),
    ],
)
def test_invalid_settings_are_refused_with_a_reason_and_nothing_is_saved(client, logged_in, changes, message):
    answer = client.post(URL, data=twilio_form(**changes))
    assert answer.status_code == 422
    assert message in page_text(answer)
    assert saved() == []


def test_another_provider_needs_its_own_secret(client, logged_in):
    client.post(URL, data=twilio_form())
    answer = client.post(URL, data=twilio_form(provider="46elks", username="u0123456789abcdef", password=""))
    assert answer.status_code == 422 and "Please enter the secret" in page_text(answer)
    assert saved()[0].provider == "twilio"


def test_proofsheets_provider_and_remove_forget_the_account(client, logged_in):
    client.post(URL, data=twilio_form())
    client.post(URL, data={"provider": "default", "rate_per_minute": "60"})
    assert saved() == []
    client.post(URL, data=twilio_form())
    answer = client.post(f"{URL}/remove", follow_redirects=True)
    assert "go through Proofsheet’s provider" in page_text(answer) and saved() == []
    assert 'data-sms-provider="default"' in page_text(answer)


def test_the_mail_settings_link_to_the_text_settings(client, logged_in):
    assert 'href="/admin/sms/settings"' in client.get("/admin/mail/settings").data.decode()


def test_operators_cannot_see_or_change_text_settings(client, auth, owner):

    operator = factories.make_operator(owner.studio, email="op@example.com")
    auth.login(operator)
    assert client.get(URL).status_code == 403
    assert client.post(URL, data=twilio_form()).status_code == 403
    assert client.post(f"{URL}/remove").status_code == 403
    assert client.post(f"{URL}/test-text", data={"to": PHONE}).status_code == 403
    assert saved() == [] and db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == 0


# ------------------------------------------------------------------ the test text


def sms_rows():
    db.session.expire_all()
    return db.session.scalars(sa.select(SmsMessage).order_by(SmsMessage.id)).all()


def test_a_test_text_goes_through_the_sink_by_default(client, logged_in, app):
    answer = client.post(f"{URL}/test-text", data={"to": "+46 70 123 45 67"}, follow_redirects=True)
    assert f"Test text sent to {PHONE}." in page_text(answer)
    [path] = Path(app.config["SMS_SINK_FOLDER"]).glob("*.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["to"] == PHONE and record["studio_id"] == logged_in.studio_id
    assert "Northlight Studio" in record["body"]
    [row] = sms_rows()
    assert (row.kind, row.state) == ("test", SmsState.SENT)


def test_a_test_text_to_a_number_we_cannot_read_says_why(client, logged_in):
    answer = client.post(f"{URL}/test-text", data={"to": "hello"}, follow_redirects=True)
    assert "not a phone number we can read" in page_text(answer) and sms_rows() == []


class FakeTwilio(BaseHTTPRequestHandler):
    """Twilio's POST /2010-04-01/Accounts/<sid>/Messages.json: basic auth, form fields; answers
    as scripted."""

    def do_POST(self):
        server = self.server
        length = int(self.headers.get("Content-Length", 0))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        auth = base64.b64decode(self.headers["Authorization"].split()[1]).decode()
        server.received.append((self.path, auth, form))
        status, body = server.answers.pop(0) if server.answers else (201, None)
        if status == "silent":  # took the text, then never answered (until the client gave up)
            time.sleep(body)
            return
        payload = json.dumps(body or {"sid": f"SM{len(server.received):032d}", "status": "queued"})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def twilio(app):
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), FakeTwilio)
    server.received, server.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["SMS_TWILIO_API_BASE"] = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    server.server_close()


def test_a_test_text_goes_through_the_studios_twilio_account(client, logged_in, twilio):
    client.post(URL, data=twilio_form())
    answer = client.post(f"{URL}/test-text", data={"to": PHONE}, follow_redirects=True)
    assert f"Test text sent to {PHONE}." in page_text(answer)
    [(path, auth, form)] = twilio.received
    assert path == f"/2010-04-01/Accounts/{SID}/Messages.json" and auth == f"{SID}:{TOKEN}"
    assert form["To"] == PHONE and form["From"] == "+46766861004"
    assert "your text message settings work" in form["Body"]
    [row] = sms_rows()
    assert row.state == SmsState.SENT and row.provider_message_id == f"SM{1:032d}"


def test_twilios_refusal_is_shown_with_its_reason(client, logged_in, twilio):
    client.post(URL, data=twilio_form())
    twilio.answers = [
        (400, {"code": 21211, "message": "The To number is not a valid phone number.", "status": 400})
    ]
    answer = client.post(f"{URL}/test-text", data={"to": PHONE}, follow_redirects=True)
    assert "The test text was not sent: Twilio answered 400" in page_text(answer)
    assert "The To number is not a valid phone number." in page_text(answer)
    [row] = sms_rows()
    assert row.state == SmsState.FAILED and row.attempts == 1


@pytest.mark.parametrize("status", [429, 503])
def test_twilios_temporary_errors_are_retried(client, logged_in, twilio, status):
    client.post(URL, data=twilio_form())
    twilio.answers = [(status, {"code": 20429, "message": "Too many requests", "status": status})]
    answer = client.post(f"{URL}/test-text", data={"to": PHONE}, follow_redirects=True)
    assert "It will be tried again" in page_text(answer)
    [row] = sms_rows()
    assert row.state == SmsState.QUEUED and f"Twilio answered {status}" in row.last_error


def test_an_unreachable_twilio_is_retried(app, logged_in, client):
    client.post(URL, data=twilio_form())
    app.config["SMS_TWILIO_API_BASE"] = f"http://127.0.0.1:{free_port()}"  # nobody there
    queue_sms(studio_id=logged_in.studio_id, kind="test", recipient=PHONE, body="Hi", now=NOW)
    db.session.commit()
    from app.sms.dispatch import dispatch_sms

    assert dispatch_sms(NOW).retried == 1
    assert "Twilio could not be reached" in sms_rows()[0].last_error


def test_a_text_twilio_took_without_answering_is_in_doubt_and_never_sent_again(
    app, client, logged_in, twilio
):
    client.post(URL, data=twilio_form())
    app.config["SMS_TIMEOUT"] = 0.5
    twilio.answers = [("silent", 1.5)]
    answer = client.post(f"{URL}/test-text", data={"to": PHONE}, follow_redirects=True)
    assert "it may have been sent. Check before sending it again." in page_text(answer)
    [row] = sms_rows()
    assert row.state == SmsState.UNKNOWN and "Twilio did not answer" in row.last_error
    from app.sms.dispatch import dispatch_sms

    assert dispatch_sms(NOW + timedelta(hours=2)).sent == 0
    assert len(twilio.received) == 1  # not a second text to the client


def test_the_studios_twilio_settings_pick_the_twilio_provider(app, logged_in, client):
    client.post(URL, data=twilio_form())
    assert isinstance(provider_for(logged_in.studio_id), TwilioProvider)


# ------------------------------------------------------------------ Twilio's inbound webhook


def inbound_url(client):
    client.post(URL, data=twilio_form())
    page = page_text(client.get(URL))
    return re.search(r"data-inbound-url>([^<]+)<", page).group(1)


def post_signed(client, url, params, token=TOKEN):
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(url, data=params, headers={"X-Twilio-Signature": signature})


def suppressions():
    db.session.expire_all()
    return db.session.scalars(sa.select(SmsSuppression)).all()


def test_a_signed_stop_from_twilio_opts_the_number_out(client, logged_in):
    url = inbound_url(client)
    params = {"From": PHONE, "To": "+46766861004", "Body": "STOP", "MessageSid": "SM1", "AccountSid": SID}
    answer = post_signed(client, url, params)
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/xml") and b"<Response/>" in answer.data
    [row] = suppressions()
    assert (row.studio_id, row.phone, row.reason) == (logged_in.studio_id, PHONE, "stop")


def test_a_wrong_signature_is_refused(client, logged_in):
    url = inbound_url(client)
    params = {"From": PHONE, "Body": "STOP"}
    assert post_signed(client, url, params, token="not the auth token").status_code == 403
    assert client.post(url, data=params).status_code == 403  # no signature at all
    signature = RequestValidator(TOKEN).compute_signature(url, {"From": "+46709999999", "Body": "STOP"})
    forged = client.post(url, data=params, headers={"X-Twilio-Signature": signature})  # other fields
    assert forged.status_code == 403
    assert suppressions() == []


def test_a_reply_that_is_not_stop_changes_nothing(client, logged_in):
    url = inbound_url(client)
    answer = post_signed(client, url, {"From": PHONE, "Body": "Thanks, see you Saturday!"})
    assert answer.status_code == 200 and b"<Response/>" in answer.data
    assert suppressions() == []


def test_the_twilio_webhook_of_a_studio_not_on_twilio_is_not_found(client, logged_in, app):
    from app.sms.inbound import inbound_token

    with app.test_request_context():
        token = inbound_token(logged_in.studio_id)
    answer = client.post(f"/sms/inbound/twilio/{token}", data={"From": PHONE, "Body": "STOP"})
    assert answer.status_code == 404 and suppressions() == []
