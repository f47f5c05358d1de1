"""The cached serializers make the same tokens as plain itsdangerous and refuse foreign ones."""

import pytest
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from app.signing import serializer, timed_serializer

pytestmark = pytest.mark.no_database  # pure signing: no table read


def test_tokens_interoperate_with_itsdangerous():
    token = serializer("secret", "unsubscribe").dumps([1, "a@example.com"])
    assert URLSafeSerializer("secret", salt="unsubscribe").loads(token) == [1, "a@example.com"]
    plain = URLSafeTimedSerializer("secret", salt="link").dumps([2, 3])
    assert timed_serializer("secret", "link").loads(plain, max_age=60) == [2, 3]


def test_other_keys_salts_and_old_tokens_are_refused():
    token = serializer("secret", "unsubscribe").dumps([1])
    with pytest.raises(BadSignature):
        serializer("another secret", "unsubscribe").loads(token)
    with pytest.raises(BadSignature):
        serializer("secret", "downloads").loads(token)
    timed = timed_serializer("secret", "link").dumps([1])
    with pytest.raises(SignatureExpired):
        timed_serializer("secret", "link").loads(timed, max_age=-1)


def test_compact_signers_make_itsdangerous_signatures():
    from itsdangerous import Signer, TimestampSigner

    from app.signing import signer, timestamp_signer

    token = signer("secret", "unsubscribe-2").sign(b"3-YUBleGFtcGxlLmNvbQ")
    assert Signer("secret", salt="unsubscribe-2").unsign(token) == b"3-YUBleGFtcGxlLmNvbQ"
    timed = timestamp_signer("secret", "link-2").sign("4-5")
    assert TimestampSigner("secret", salt="link-2").unsign(timed, max_age=60) == b"4-5"
    with pytest.raises(BadSignature):
        signer("another secret", "unsubscribe-2").unsign(token)
    with pytest.raises(SignatureExpired):
        timestamp_signer("secret", "link-2").unsign(timed, max_age=-1)


@pytest.mark.parametrize(
    "email", ["ann@example.com", "o'brien+tag@example.com", "zoë@exämple.com", "a.b-c_d@sub.example.co.uk"]
)
def test_unsubscribe_tokens_read_back_and_links_sent_earlier_still_work(app, email):
    from app.mailing.unsubscribe import read_unsubscribe_token, unsubscribe_token

    token = unsubscribe_token(7, f" {email.upper()} ")
    assert token[0].isdigit() and "/" not in token and "=" not in token
    assert read_unsubscribe_token(token) == (7, email.upper().lower())
    earlier = serializer(app.config["SECRET_KEY"], "proofsheet-unsubscribe").dumps([7, email])
    assert read_unsubscribe_token(earlier) == (7, email)
    forged = token.replace(token.split("-")[0], "8", 1)
    assert read_unsubscribe_token(forged) is None
    assert read_unsubscribe_token("7-garbage") is None
    assert read_unsubscribe_token("") is None


def test_sign_in_tokens_read_back_expire_and_links_sent_earlier_still_work(app):
    from types import SimpleNamespace

    from app.galleries.clients import read_sign_in_token, sign_in_token

    token = sign_in_token(SimpleNamespace(studio_id=3, id=41))
    assert read_sign_in_token(token) == (3, 41)
    earlier = timed_serializer(app.config["SECRET_KEY"], "proofsheet-client-link").dumps([3, 41])
    assert read_sign_in_token(earlier) == (3, 41)
    assert read_sign_in_token(token.replace("3-41", "3-42")) is None
    assert read_sign_in_token("3-41") is None
    app.config["CLIENT_LINK_MAX_AGE"], kept = -1, app.config["CLIENT_LINK_MAX_AGE"]
    try:
        assert read_sign_in_token(token) is None
        assert read_sign_in_token(earlier) is None
    finally:
        app.config["CLIENT_LINK_MAX_AGE"] = kept


@pytest.mark.parametrize("value", ["3-41", b"7-YUBleGFtcGxlLmNvbQ", "é-1"])
def test_one_step_signers_write_exactly_what_itsdangerous_writes(value, monkeypatch):
    from itsdangerous import Signer, TimestampSigner

    from app.signing import signer, timestamp_signer

    assert signer("secret", "s").sign(value) == Signer("secret", salt="s").sign(value)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: 1_790_000_000)
    assert timestamp_signer("secret", "t").sign(value) == TimestampSigner("secret", salt="t").sign(value)


def test_compact_timed_tokens_carry_the_second_they_were_made(monkeypatch):
    from itsdangerous import TimestampSigner

    from app.signing import timestamp_signer

    clock = iter([1_800_000_000, 1_800_000_000, 1_800_000_001, 1_800_000_000])
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: next(clock))
    made = [timestamp_signer("secret", "link-3").sign(f"4-{n}") for n in range(4)]
    monkeypatch.undo()
    reader = TimestampSigner("secret", salt="link-3")
    seconds = [int(reader.unsign(token, return_timestamp=True)[1].timestamp()) for token in made]
    assert seconds == [1_800_000_000, 1_800_000_000, 1_800_000_001, 1_800_000_000]
