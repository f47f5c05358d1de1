"""The fast wire encoder: what the standard parser reads back is exactly what went in, and every
line is short and ends in CRLF, for arbitrary text."""

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.utils import formataddr

import flask_mail  # noqa: F401  (imported on purpose: it changes the utf-8 charset process-wide)
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.mailing.wire import message_bytes

SENT_AT = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
text_strategy = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\x00"), max_size=3000
)
line_text = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=200
).filter(lambda s: s.strip() == s and s.strip())


def build(**overrides):
    values = dict(
        sender="Northlight Studio <studio@northlight.test>",
        to="Alex Martin <alex@example.com>",
        subject="Your photos",
        html="<p>Hi</p>",
        text="Hi",
        message_id="<abc@northlight.test>",
        sent_at=SENT_AT,
    )
    values.update(overrides)
    return message_bytes(**values)


def assert_wire_safe(raw):
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF on the wire"
    assert b"\r" not in raw.replace(b"\r\n", b""), "bare CR on the wire"
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def normalize(text):
    return text.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=200, deadline=None)
@given(subject=line_text, name=line_text, html=text_strategy, text=text_strategy)
def test_round_trip_through_the_standard_parser(subject, name, html, text):
    raw = build(subject=subject, to=formataddr((name, "alex@example.com")), html=html, text=text)
    assert_wire_safe(raw)
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == subject
    assert message["To"].addresses[0].display_name == name
    assert normalize(message.get_body(("plain",)).get_content()).rstrip("\n") == normalize(text).rstrip("\n")
    assert normalize(message.get_body(("html",)).get_content()).rstrip("\n") == normalize(html).rstrip("\n")


def test_headers_and_structure():
    raw = build(
        reply_to="Studio <hi@northlight.test>",
        cc="a@x.test, b@x.test",
        headers={
            "List-Unsubscribe": "<https://photos.example.com/unsubscribe/"
            + "t" * 300
            + ">, <mailto:u@x.test?subject=unsubscribe>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Proofsheet-Studio": "7",
        },
    )
    assert_wire_safe(raw)
    message = message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(part["Content-Transfer-Encoding"] == "quoted-printable" for part in message.iter_parts())
    assert message["Message-ID"] == "<abc@northlight.test>"
    assert message["Date"].datetime == SENT_AT
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<https://photos.example.com/unsubscribe/ttt")
    assert [a.addr_spec for a in message["Cc"].addresses] == ["a@x.test", "b@x.test"]


def test_non_ascii_display_names_and_subjects_are_encoded_words():
    raw = build(sender="Ateliér Čerstvý <studio@x.test>", subject="Vos photos sont prêtes 📸")
    assert raw.isascii()
    message = message_from_bytes(raw, policy=policy.default)
    assert message["From"].addresses[0].display_name == "Ateliér Čerstvý"
    assert message["Subject"] == "Vos photos sont prêtes 📸"


def test_a_dot_alone_on_a_line_survives():
    message = message_from_bytes(build(text="before\n.\nafter"), policy=policy.default)
    assert normalize(message.get_body(("plain",)).get_content()) == "before\n.\nafter"


@pytest.mark.parametrize("name", ["Subject", "X-Anything"])
def test_header_injection_is_refused(name):
    with pytest.raises(ValueError):
        build(headers={name: "x\r\nBcc: victim@example.com"})


@settings(max_examples=50, deadline=None)
@given(data=st.binary(max_size=5000), name=line_text)
def test_attachments_round_trip_and_keep_lines_short(data, name):
    raw = build(attachments=[(f"{name}.bin".replace('"', ""), "application/octet-stream", data)])
    assert_wire_safe(raw)
    message = message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "multipart/mixed"
    attachment = next(message.iter_attachments())
    assert attachment.get_content() == data
    assert attachment.get_filename().endswith(".bin")
    assert message.get_body(("plain",)).get_content().strip() == "Hi"
