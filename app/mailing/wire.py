"""The bytes of a message, built fast: per-recipient work is encoding, not MIME object trees.

``email.message.EmailMessage`` under ``policy.SMTP`` (transport.build_message) is the reference:
correct, but it parses every header into objects and costs more than sending the message.
Here we write the same structure directly — multipart/alternative, text then HTML, both
quoted-printable (``binascii.b2a_qp``, lines of at most 76 characters), headers encoded with
RFC 2047 (``email.header``) when they are not plain ASCII, CRLF everywhere. tests/test_mailing_wire
checks that the standard parser reads back exactly what went in, for arbitrary text.
"""

import base64
import binascii
import uuid
from email.header import Header
from email.utils import format_datetime, formataddr, getaddresses
from functools import lru_cache
from urllib.parse import quote


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


def has_line_break(value):
    """Whether ``value`` carries a CR or LF, which would end a header line on the wire and let
    the rest inject headers. The one check every header value goes through: the outbox, the
    wire, the transport and the workflow builder's subject. None has none."""
    return value is not None and ("\r" in value or "\n" in value)


class HeaderLineBreak(ValueError):
    """A header value carried a line break: refused, never folded into the header."""


def _single_line(name, value):
    if has_line_break(value):
        raise HeaderLineBreak(
            f"The {name} header would contain a line break ({value!r}): "
            "correct the data it comes from, then retry."
        )


def _mailbox(display_name, address):
    """``Name <address>``; the display name as RFC 2047 words when it is not ASCII. An address
    that is not ASCII stays UTF-8 (RFC 6532): the transport sends such a message only with
    SMTPUTF8 (``formataddr`` refuses it)."""
    if address.isascii():
        return formataddr((display_name, address), charset="utf-8")
    if not display_name:
        return address
    placeholder = "x@x.invalid"  # formataddr quotes or encodes the name as it should
    quoted_name = formataddr((display_name, placeholder), charset="utf-8")
    return quoted_name[: -len(placeholder) - 2] + f"<{address}>"


def encode_text_header(name, value):
    """``Name: value`` with CRLF; non-ASCII or long values as folded RFC 2047 words."""
    _single_line(name, value)
    if value.isascii():
        return _fold_ascii(name, value)
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n", maxlinelen=76)
    return f"{name}: {encoded}\r\n"


@lru_cache(maxsize=4096)
def encode_address_header(name, value):
    """An address list header; display names that are not ASCII become RFC 2047 words.

    Cached: a batch repeats the same From and Reply-To, and parsing addresses is costly."""
    _single_line(name, value)
    addresses = [_mailbox(display, address) for display, address in getaddresses([value])]
    return f"{name}: " + ",\r\n ".join(addresses) + "\r\n"


def _qp(text):
    """Quoted-printable body with CRLF line ends (soft breaks keep lines under 77)."""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(normalized.encode("utf-8"), istext=True)
    return encoded.replace(b"\n", b"\r\n")


ADDRESS_HEADERS = {"from", "to", "cc", "reply-to", "sender"}


def encode_mailbox_header(name, display_name, address):
    """``To: Name <address>`` for one known mailbox: formatted, not parsed again."""
    _single_line(name, display_name + address)
    return f"{name}: {_mailbox(display_name, address)}\r\n"


def _address_header(name, value):
    """An address header from a string (parsed) or a (display name, address) mailbox."""
    if isinstance(value, tuple):
        return encode_mailbox_header(name, *value)
    return encode_address_header(name, value)


def _filename_parameter(key, filename):
    """name="x.pdf", or RFC 2231 (name*=utf-8''...) for a name that is not plain ASCII."""
    if filename.isascii():
        return f'{key}="{filename.replace(chr(34), "").replace(chr(92), "")[-200:]}"'
    stem, dot, extension = filename.rpartition(".")
    short = f"{stem[:50]}.{extension[:10]}" if dot else filename[:60]
    return f"{key}*=utf-8''{quote(short, safe='')}"


def _attachment_part(boundary, filename, content_type, data):
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")  # 76-character lines
    head = (
        f"--{boundary}\r\nContent-Type: {content_type};\r\n "
        f"{_filename_parameter('name', filename)}\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        f"Content-Disposition: attachment;\r\n {_filename_parameter('filename', filename)}"
        "\r\n\r\n"
    )
    return head.encode("ascii") + encoded


def message_bytes(
    *,
    sender,
    to,
    subject,
    html,
    text,
    message_id,
    sent_at,
    reply_to=None,
    cc=None,
    headers=None,
    attachments=(),
):
    """The complete message as bytes, ready for SMTP DATA. ``to`` is an address list or one
    (display name, address) mailbox; ``attachments`` are
    (filename, content type, bytes): the message becomes multipart/mixed around the text and
    HTML alternatives."""
    if attachments:
        return _with_attachments(
            sender=sender,
            to=to,
            subject=subject,
            html=html,
            text=text,
            message_id=message_id,
            sent_at=sent_at,
            reply_to=reply_to,
            cc=cc,
            headers=headers,
            attachments=attachments,
        )
    return _alternative(
        sender=sender,
        to=to,
        subject=subject,
        html=html,
        text=text,
        message_id=message_id,
        sent_at=sent_at,
        reply_to=reply_to,
        cc=cc,
        headers=headers,
    )


def _with_attachments(attachments, **values):
    outer = f"=_psm_{uuid.uuid4().hex}"
    whole = _alternative(**values)
    head, _sep, body = whole.partition(b"\r\n\r\n")
    head_lines = head.split(b"\r\n")
    content_type = next(line for line in head_lines if line.startswith(b"Content-Type:"))
    mixed_head = b"\r\n".join(line for line in head_lines if line is not content_type)
    parts = [
        mixed_head + f'\r\nContent-Type: multipart/mixed; boundary="{outer}"\r\n\r\n'.encode("ascii"),
        f"--{outer}\r\n".encode("ascii") + content_type + b"\r\n\r\n" + body,
    ]
    parts += [_attachment_part(outer, *attachment) for attachment in attachments]
    parts.append(f"--{outer}--\r\n".encode("ascii"))
    return b"".join(parts)


def _alternative(
    *, sender, to, subject, html, text, message_id, sent_at, reply_to=None, cc=None, headers=None
):
    boundary = f"=_ps_{uuid.uuid4().hex}"
    head = [encode_address_header("From", sender), _address_header("To", to)]
    if cc:
        head.append(encode_address_header("Cc", cc))
    if reply_to:
        head.append(encode_address_header("Reply-To", reply_to))
    head += [
        encode_text_header("Subject", subject),
        f"Date: {format_datetime(sent_at)}\r\n",
        f"Message-ID: {message_id}\r\n",
        "MIME-Version: 1.0\r\n",
    ]
    for name, value in (headers or {}).items():
        if name.lower() in ADDRESS_HEADERS:
            head.append(encode_address_header(name, value))
        else:
            head.append(encode_text_header(name, value))
    head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n')
    part_head = (
        '--{b}\r\nContent-Type: text/{kind}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    return b"".join(
        [
            # ASCII but for an internationalised address (SMTPUTF8; every other header is encoded)
            "".join(head).encode("utf-8"),
            part_head.format(b=boundary, kind="plain").encode("ascii"),
            _qp(text),
            b"\r\n",
            part_head.format(b=boundary, kind="html").encode("ascii"),
            _qp(html),
            b"\r\n",
            f"--{boundary}--\r\n".encode("ascii"),
        ]
    )
