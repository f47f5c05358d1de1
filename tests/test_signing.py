"""The cached serializers make the same tokens as plain itsdangerous and refuse foreign ones."""

import pytest
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from app.signing import serializer, timed_serializer


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
