"""The SMS outbox (issue 19, first part): phone numbers in E.164, segment counts, queueing
exactly once, the local sink, 46elks' API played by a local HTTP server (auth, retries,
refusals), the per-studio rate, STOP suppression, and four processes sending each text once."""

import base64
import json
import multiprocessing
import threading
import time
import urllib.parse
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.mailing.crypto import encrypt
from app.sms.dispatch import MAX_ATTEMPTS, dispatch_sms
from app.sms.models import SmsMessage, SmsState, StudioSmsSettings
from app.sms.outbox import queue_sms, suppress
from app.sms.phone import PhoneRefused, display_phone, normalize_phone
from app.sms.segments import count_segments
from tests.conftest import free_port
from tests.factories import NOW

PHONE = "+46701234567"


# ------------------------------------------------------------------ numbers and segments


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("070-123 45 67", "SE", "+46701234567"),
        ("+46 70 123 45 67", None, "+46701234567"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("8 (912) 345-67-89", "RU", "+79123456789"),
    ],
)
def test_numbers_are_stored_in_e164(typed, region, e164):
    assert normalize_phone(typed, region) == e164


@pytest.mark.parametrize(
    ("typed", "region", "message"),
    [
        ("hello", "SE", "not a phone number we can read"),
        ("070-123", "SE", "not valid"),
        ("08-123 456 78", "SE", "cannot receive text messages"),  # a Stockholm landline
    ],
)
def test_numbers_we_cannot_text_are_refused_with_a_reason(app, typed, region, message):
    with app.test_request_context(), pytest.raises(PhoneRefused, match=message):
        normalize_phone(typed, region)


def test_numbers_are_shown_as_people_read_them():
    assert display_phone("+46701234567") == "+46 70 123 45 67"


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),  # 153 a segment once there are two
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # the extension table counts twice
        ("Hej Åsa, dina bilder är klara!", "GSM-7", 30, 1),
        ("ж" * 70, "UCS-2", 70, 1),
        ("ж" * 71, "UCS-2", 71, 2),  # 67 a segment once there are two
        ("📷" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 units
    ],
)
def test_segments_are_counted_per_gsm_03_38(text, encoding, units, segments):
    count = count_segments(text)
    assert (count.encoding, count.units, count.segments) == (encoding, units, segments)


# ------------------------------------------------------------------ queueing


def rows():
    db.session.expire_all()
    return db.session.scalars(sa.select(SmsMessage).order_by(SmsMessage.id)).all()


def test_a_text_is_queued_once_per_key(app, owner):
    first = queue_sms(
        studio_id=owner.studio_id,
        kind="notification",
        recipient=PHONE,
        body="Order 12 is on its way",
        now=NOW,
        dedup_key="order:12:shipped:sms",
    )
    again = queue_sms(
        studio_id=owner.studio_id,
        kind="notification",
        recipient=PHONE,
        body="Order 12 is on its way",
        now=NOW,
        dedup_key="order:12:shipped:sms",
    )
    db.session.commit()
    assert first is not None and again is None
    assert [(row.state, row.segments) for row in rows()] == [(SmsState.QUEUED, 1)]


def test_line_breaks_posted_by_a_browser_count_as_the_editor_counted_them(app, owner):
    # 159 characters as typed (one text); with CRLF counted it would be 161 (two).
    body = "x" * 100 + "\r\n" + "y" * 57 + "\r\n"
    queue_sms(studio_id=owner.studio_id, kind="campaign", recipient=PHONE, body=body, now=NOW)
    db.session.commit()
    [row] = rows()
    assert row.body == "x" * 100 + "\n" + "y" * 57 + "\n"
    assert row.segments == 1


def test_a_number_that_replied_stop_gets_nothing(app, owner):
    queue_sms(studio_id=owner.studio_id, kind="campaign", recipient=PHONE, body="Sale ends", now=NOW)
    suppress(owner.studio_id, PHONE, "stop", NOW)
    queue_sms(studio_id=owner.studio_id, kind="campaign", recipient=PHONE, body="Last day", now=NOW)
    db.session.commit()
    assert [row.state for row in rows()] == [SmsState.SKIPPED, SmsState.SKIPPED]
    assert dispatch_sms(NOW).sent == 0


# ------------------------------------------------------------------ the local sink


def test_the_sink_keeps_each_text_for_the_phone_page(app, owner):
    queue_sms(
        studio_id=owner.studio_id,
        kind="test",
        recipient=PHONE,
        body="Привет, Аня! Ваши фото готовы.",
        now=NOW,
    )
    db.session.commit()
    assert dispatch_sms(NOW).sent == 1
    [path] = Path(app.config["SMS_SINK_FOLDER"]).glob("*.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["to"] == PHONE and record["body"] == "Привет, Аня! Ваши фото готовы."
    assert record["studio_id"] == owner.studio_id
    [row] = rows()
    assert row.state == SmsState.SENT and row.provider_message_id == record["id"]


# ------------------------------------------------------------------ 46elks, played locally


class FortySixElks(BaseHTTPRequestHandler):
    """46elks' POST /a1/sms: basic auth, form fields; answers as scripted."""

    def do_POST(self):
        server = self.server
        length = int(self.headers.get("Content-Length", 0))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        auth = base64.b64decode(self.headers["Authorization"].split()[1]).decode()
        server.received.append((self.path, auth, form))
        status, body = server.answers.pop(0) if server.answers else (200, None)
        if status == "silent":  # took the text, then never answered (until the client gave up)
            time.sleep(body)
            return
        payload = json.dumps(body or {"id": f"s{len(server.received)}", "status": "created"})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def elks(app, owner):
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), FortySixElks)
    server.received, server.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config["SMS_46ELKS_API_URL"] = f"http://127.0.0.1:{server.server_port}/a1/sms"
    db.session.add(
        StudioSmsSettings(
            studio_id=owner.studio_id,
            provider="46elks",
            username="u123",
            password_encrypted=encrypt("secret"),
            sender="Northlight",
            rate_per_minute=60,
            updated_at=NOW,
        )
    )
    db.session.commit()
    yield server
    server.shutdown()
    server.server_close()


def queue_one(studio_id, body="Your photos are ready", at=NOW):
    queue_sms(studio_id=studio_id, kind="notification", recipient=PHONE, body=body, now=at)
    db.session.commit()


def test_46elks_gets_the_text_with_the_studios_credentials(app, owner, elks):
    queue_one(owner.studio_id)
    assert dispatch_sms(NOW).sent == 1
    [(path, auth, form)] = elks.received
    assert path == "/a1/sms" and auth == "u123:secret"
    assert form == {"from": "Northlight", "to": PHONE, "message": "Your photos are ready"}
    assert rows()[0].provider_message_id == "s1"


def test_a_temporary_error_is_retried_with_backoff_then_fails(app, owner, elks):
    queue_one(owner.studio_id)
    elks.answers = [(503, {"error": "busy"})] * MAX_ATTEMPTS
    result = dispatch_sms(NOW)
    [row] = rows()
    assert result.retried == 1 and row.state == SmsState.QUEUED and row.attempts == 1
    assert timedelta(seconds=40) <= row.due_at - NOW <= timedelta(seconds=80)
    assert "503" in row.last_error
    at = NOW
    for _ in range(MAX_ATTEMPTS - 1):
        at = rows()[0].due_at
        dispatch_sms(at)
    assert rows()[0].state == SmsState.FAILED and rows()[0].attempts == MAX_ATTEMPTS


def test_a_refusal_fails_at_once_with_the_providers_reason(app, owner, elks):
    queue_one(owner.studio_id)
    elks.answers = [(403, {"error": "Not enough credits"})]
    assert dispatch_sms(NOW).failed == 1
    [row] = rows()
    assert row.state == SmsState.FAILED and "Not enough credits" in row.last_error


def test_an_unreachable_provider_is_retried(app, owner, elks):
    queue_one(owner.studio_id)
    app.config["SMS_46ELKS_API_URL"] = f"http://127.0.0.1:{free_port()}/a1/sms"  # nobody there
    assert dispatch_sms(NOW).retried == 1
    assert "could not be reached" in rows()[0].last_error


def test_a_text_the_provider_took_without_answering_is_in_doubt_and_never_sent_again(app, owner, elks):
    queue_one(owner.studio_id)
    app.config["SMS_TIMEOUT"] = 0.5
    elks.answers = [("silent", 1.5)]
    result = dispatch_sms(NOW)
    assert (result.unknown, result.retried, result.sent) == (1, 0, 0)
    [row] = rows()
    assert row.state == SmsState.UNKNOWN and "46elks did not answer" in row.last_error
    assert dispatch_sms(NOW + timedelta(hours=2)).sent == 0
    assert len(elks.received) == 1  # the client was not texted twice


def test_the_studios_rate_holds_the_rest_for_the_next_minute(app, owner, elks):
    db.session.get(StudioSmsSettings, owner.studio_id).rate_per_minute = 2
    db.session.commit()
    for number in range(5):
        queue_one(owner.studio_id, body=f"Text {number}")
    result = dispatch_sms(NOW)
    assert (result.sent, result.deferred) == (2, 3)
    assert dispatch_sms(NOW + timedelta(seconds=30)).sent == 0  # still the same minute
    assert dispatch_sms(NOW + timedelta(seconds=61)).sent == 2
    assert len(elks.received) == 4


# ------------------------------------------------------------------ several processes


def _dispatch_in_process(database_url, instance, worker, start_at):
    from app import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret",
            "BASE_URL": "http://localhost",
            "SMS_STUDIO_RATE_PER_MINUTE": 100_000,
        },
        instance_path=instance,
    )
    with app.app_context():
        for step in range(5):
            dispatch_sms(start_at + timedelta(seconds=step), worker=worker, limit=40)
        db.session.remove()
        db.engine.dispose()


TEXTS = 300


def test_four_processes_send_each_text_exactly_once(app, owner, tmp_path):
    for number in range(TEXTS):
        queue_sms(
            studio_id=owner.studio_id,
            kind="campaign",
            recipient=f"+4670{number:07d}",
            body=f"Text {number}",
            now=NOW,
            dedup_key=f"t:{number}",
        )
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    db.engine.dispose()
    instance = app.instance_path  # one sink folder for all four
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_dispatch_in_process, args=(url, instance, f"process-{index}", NOW))
        for index in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    bodies = Counter(
        json.loads(path.read_text(encoding="utf-8"))["body"]
        for path in Path(app.config["SMS_SINK_FOLDER"]).glob("*.json")
    )
    assert len(bodies) == TEXTS and set(bodies.values()) == {1}
    assert {row.state for row in rows()} == {SmsState.SENT}


# ------------------------------------------------------------------ the Phone page and STOP


def test_the_phone_page_shows_this_studios_texts_only(client, logged_in, other_owner, app):
    queue_sms(
        studio_id=logged_in.studio_id,
        kind="test",
        recipient=PHONE,
        body="Your order 12 is on its way",
        now=NOW,
    )
    queue_sms(
        studio_id=other_owner.studio_id, kind="test", recipient=PHONE, body="Another studio's text", now=NOW
    )
    db.session.commit()
    dispatch_sms(NOW)
    page = client.get("/admin/sms/phone").data.decode()
    assert "Your order 12 is on its way" in page and "+46 70 123 45 67" in page
    assert "Another studio" not in page
    assert 'href="/admin/sms/phone"' in client.get("/admin/mail/").data.decode()


def test_the_phone_page_says_when_nothing_was_sent(client, logged_in):
    assert "data-empty" in client.get("/admin/sms/phone").data.decode()


def test_stop_from_46elks_opts_the_number_out_of_that_studio(client, owner, other_owner):
    from app.sms.inbound import inbound_token

    url = f"/sms/inbound/46elks/{inbound_token(owner.studio_id)}"
    answer = client.post(url, data={"from": PHONE, "to": "+46766861004", "message": " Stopp! "})
    assert answer.status_code == 200 and answer.data == b""  # no reply text sent back
    queue_one(owner.studio_id)
    queue_one(other_owner.studio_id)
    assert [row.state for row in rows()] == [SmsState.SKIPPED, SmsState.QUEUED]
    client.post(url, data={"from": "+46709999999", "message": "Thanks, see you!"})
    from app.sms.models import SmsSuppression

    assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsSuppression)) == 1


def test_a_forged_inbound_url_changes_nothing(client, owner):
    answer = client.post(
        f"/sms/inbound/46elks/{owner.studio_id}.forged", data={"from": PHONE, "message": "STOP"}
    )
    assert answer.status_code == 404


def test_a_dispatch_for_given_texts_sends_those_alone(app, owner):
    queue_one(owner.studio_id, body="Waiting in the queue")
    test_id = queue_sms(studio_id=owner.studio_id, kind="test", recipient=PHONE, body="A test", now=NOW)
    db.session.commit()
    assert dispatch_sms(NOW, ids=[test_id]).sent == 1
    assert [(row.body, row.state) for row in rows()] == [
        ("Waiting in the queue", SmsState.QUEUED),
        ("A test", SmsState.SENT),
    ]
