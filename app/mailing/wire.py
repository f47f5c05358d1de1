"""The bytes of a message, built fast: per-recipient work is encoding, not MIME object trees.

``email.message.EmailMessage`` under ``policy.SMTP`` (transport.build_message) is the reference:
correct, but it parses every header into objects and costs more than sending the message.
Here we write the same structure directly — multipart/alternative, text then HTML, both
quoted-printable (``binascii.b2a_qp``, lines of at most 76 characters), headers encoded with
RFC 2047 (``email.header``) when they are not plain ASCII, CRLF everywhere. tests/test_mailing_wire
checks that the standard parser reads back exactly what went in, for arbitrary text.
"""

import binascii
import uuid
from email.header import Header
from email.utils import format_datetime, formataddr, getaddresses
from functools import lru_cache


def _fold_ascii(name, value):
    """Fold at spaces so lines stay near 78 characters; unfolding gives the value back exactly."""
    lines, current = [], f"{name}:"
    for word in value.split(" "):
        if len(current) + 1 + len(word) > 78 and current != f"{name}:":
            lines.append(current)
            current = " " + word
        else:
            current += " " + word
    lines.append(current)
    if max(len(line) for line in lines) > 998:
        raise ValueError(f"header {name} has a word longer than a line may be")
    return "\r\n".join(lines) + "\r\n"


def encode_text_header(name, value):
    """``Name: value`` with CRLF; non-ASCII or long values as folded RFC 2047 words."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"line break in header {name}")
    if value.isascii():
        return _fold_ascii(name, value)
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n", maxlinelen=76)
    return f"{name}: {encoded}\r\n"


@lru_cache(maxsize=4096)
def encode_address_header(name, value):
    """An address list header; display names that are not ASCII become RFC 2047 words.

    Cached: a batch repeats the same From and Reply-To, and parsing addresses is costly."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"line break in header {name}")
    addresses = [formataddr((display, address), charset="utf-8")
                 for display, address in getaddresses([value])]
    return f"{name}: " + ",\r\n ".join(addresses) + "\r\n"


def _qp(text):
    """Quoted-printable body with CRLF line ends (soft breaks keep lines under 77)."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(normalized.encode("utf-8"), istext=True)
    return encoded.replace(b"\n", b"\r\n")


ADDRESS_HEADERS = {"from", "to", "cc", "reply-to", "sender"}


def message_bytes(*, sender, to, subject, html, text, message_id, sent_at, reply_to=None,
                  cc=None, headers=None):
    """The complete message as bytes, ready for SMTP DATA."""
    boundary = f"=_ps_{uuid.uuid4().hex}"
    head = [encode_address_header("From", sender), encode_address_header("To", to)]
    if cc:
        head.append(encode_address_header("Cc", cc))
    if reply_to:
        head.append(encode_address_header("Reply-To", reply_to))
    head += [encode_text_header("Subject", subject),
             f"Date: {format_datetime(sent_at)}\r\n",
             f"Message-ID: {message_id}\r\n",
             "MIME-Version: 1.0\r\n"]
    for name, value in (headers or {}).items():
        if name.lower() in ADDRESS_HEADERS:
            head.append(encode_address_header(name, value))
        else:
            head.append(encode_text_header(name, value))
    head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n')
    part_head = ('--{b}\r\nContent-Type: text/{kind}; charset="utf-8"\r\n'
                 "Content-Transfer-Encoding: quoted-printable\r\n\r\n")
    return b"".join([
        "".join(head).encode("ascii"),
        part_head.format(b=boundary, kind="plain").encode("ascii"), _qp(text), b"\r\n",
        part_head.format(b=boundary, kind="html").encode("ascii"), _qp(html), b"\r\n",
        f"--{boundary}--\r\n".encode("ascii"),
    ])
