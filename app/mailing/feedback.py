"""What comes back to the inbound receiver: bounces, complaints and unsubscribe mails.

- A delivery status notification (RFC 3464) to ``bounce+<id>-<sig>@``: flufl.bounce finds the
  failed recipients (DSNs, and the non-standard reports of older MTAs); the stdlib parser reads
  each one's Status. A permanent failure (5.x.x, or none given) fails the message ("bounced:
  ...") and suppresses the address for its studio; a temporary one (4.x.x: "delayed", or given
  up on after retrying a full mailbox) is counted on the message's row ("soft bounce N: ...")
  and nothing is suppressed.
- An abuse report (ARF, RFC 5965: multipart/report; report-type=feedback-report) to a bounce
  address or to ``complaints@``: the message is the one named by a signed address in the
  quoted original (its Return-Path, its List-Unsubscribe); the address is suppressed as
  "complained", the message row notes it.
- Mail to ``unsubscribe+<id>-<sig>@`` (List-Unsubscribe's mailto) unsubscribes that message's
  recipient: the signature is the proof, as it is for the https link.

Only signed addresses count: a forged or guessed one is refused at RCPT, and a report naming
none changes nothing.
"""

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.iterators import typed_subpart_iterator
from email.parser import HeaderParser
from email.utils import parseaddr

import sqlalchemy as sa
from flask import current_app
from flufl.bounce import all_failures

from app.extensions import db
from app.mailing import return_path
from app.mailing.models import MailState, OutboxMessage
from app.mailing.unsubscribe import record_detail, suppress

COMPLAINTS_LOCAL_PART = "complaints"
# Feedback types that are a person's complaint (RFC 5965 section 7.3). "not-spam" is the
# opposite, "auth-failure" a DMARC report about our signatures, not a person's wish.
COMPLAINT_TYPES = frozenset({"abuse", "fraud", "virus", "other"})
_SOFT_PREFIX = re.compile(r"soft bounce (\d+): ")


@dataclass(frozen=True)
class Outcome:
    """What one inbound message did, for the log and the tests."""

    kind: str  # bounced / soft_bounce / complained / unsubscribed / ignored
    message_id: int | None = None
    detail: str = ""


def accepts(address):
    """Whether the receiver takes mail for ``address`` (at RCPT time)."""
    domain = return_path.receiver_domain()
    local, _at, address_domain = address.strip().strip("<>").rpartition("@")
    if not domain or address_domain.lower() != domain:
        return False
    return local.lower() == COMPLAINTS_LOCAL_PART or return_path.read_address(address) is not None


# ------------------------------------------------------------------ reading reports


def _feedback_part(message):
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            return part
    return None


def _feedback_fields(part):
    """The fields of a message/feedback-report part (parsed as a message, or left as text)."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        return payload[0]
    return HeaderParser().parsestr(payload if isinstance(payload, str) else "")


def _quoted_original(message):
    """The text of the reported message in a report (message/rfc822 or its headers)."""
    texts = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822" and isinstance(part.get_payload(), list):
            texts.append(part.get_payload(0).as_string())
        elif kind == "text/rfc822-headers":
            texts.append((part.get_payload(decode=True) or b"").decode("utf-8", "replace"))
    return "\n".join(texts)


def _statuses(message):
    """{failed address (lower case): (status, diagnostic)} from the DSN's per-recipient
    fields."""
    found = {}
    for part in typed_subpart_iterator(message, "message", "delivery-status"):
        blocks = part.get_payload() if part.is_multipart() else []
        for block in blocks:
            recipient = block.get("final-recipient", "") or block.get("original-recipient", "")
            address = parseaddr(recipient.partition(";")[2].strip())[1].lower()
            if address:
                found[address] = (
                    block.get("status", "").strip(),
                    " ".join(block.get("diagnostic-code", "").split()),
                )
    return found


@dataclass(frozen=True)
class Bounce:
    permanent: bool
    address: str
    status: str
    diagnostic: str

    def describe(self):
        said = " ".join(part for part in (self.status, self.diagnostic) if part)
        return f"{said or 'no status given'} ({self.address})"


def _failures(message, statuses):
    """flufl.bounce's (temporary, permanent) failed addresses. Its heuristic detectors fail on
    some inputs (one reads the From of a message that has none): then only the DSN fields
    count, read by the standard library, and a message with none is no bounce."""
    try:
        return all_failures(message)
    except Exception:  # noqa: BLE001 (anyone can write to a bounce address: never a 451 loop)
        current_app.logger.warning("flufl.bounce could not read an inbound message")
        return (
            frozenset(),
            frozenset(
                address.encode("ascii", "replace")
                for address, (status, _d) in statuses.items()
                if status.startswith("5")
            ),
        )


def read_bounce(message):
    """The most serious failure a bounce reports, or None (an auto-reply, a "delivered" DSN).

    Permanent: flufl.bounce counts it as failed and its Status, when given, is 5.x.x."""
    statuses = _statuses(message)
    temporary, permanent = _failures(message, statuses)
    bounces = []
    for address, is_failed in [(a, True) for a in permanent] + [(a, False) for a in temporary]:
        address = address.decode("ascii", "replace").lower()
        status, diagnostic = statuses.get(address, ("", ""))
        hard = is_failed and not status.startswith("4")
        bounces.append(Bounce(hard, address, status, diagnostic))
    bounces.sort(key=lambda bounce: not bounce.permanent)
    return bounces[0] if bounces else None


# ------------------------------------------------------------------ acting on them


def _recipients(row):
    return [row.recipient.lower()] + [a.strip().lower() for a in row.cc.split(",") if a.strip()]


def _bounced_address(row, bounce):
    """The address to suppress: the reported one when it is among the message's recipients,
    else the recipient itself (a forward of it failed: VERP names our message)."""
    return bounce.address if bounce.address in _recipients(row) else row.recipient


def _soft_count(last_error):
    match = _SOFT_PREFIX.match(last_error or "")
    return int(match.group(1)) if match else 0


def apply_bounce(row, bounce, now):
    """Record a bounce of ``row``: suppress on a hard one, count a soft one."""
    if not bounce.permanent:
        count = _soft_count(row.last_error) + 1
        row.last_error = f"soft bounce {count}: {bounce.describe()}"
        return Outcome("soft_bounce", row.id, row.last_error)
    row.state, row.last_error = MailState.FAILED, f"bounced: {bounce.describe()}"
    if row.studio_id is not None:
        suppress(
            row.studio_id,
            _bounced_address(row, bounce),
            "bounced",
            now,
            detail=record_detail("bounce", row.id, bounce.describe()),
        )
    return Outcome("bounced", row.id, row.last_error)


def apply_complaint(row, feedback_type, now):
    """An abuse report about ``row``: no more campaign mail to its recipient from the studio."""
    row.last_error = f"complained: {feedback_type} report from the recipient's mailbox provider"
    if row.studio_id is not None:
        suppress(
            row.studio_id,
            row.recipient,
            "complained",
            now,
            detail=record_detail("complaint", row.id, feedback_type),
        )
    return Outcome("complained", row.id, row.last_error)


def apply_unsubscribe(row, sender, now):
    """Mail to the message's unsubscribe address: its recipient is unsubscribed (the signed
    address is the proof; ``sender`` may be another address of theirs, noted)."""
    if row.studio_id is not None:
        suppress(
            row.studio_id,
            row.recipient,
            "unsubscribed",
            now,
            detail=record_detail("mailto", row.id, f"from {sender}" if sender else ""),
        )
    return Outcome("unsubscribed", row.id)


def _rows(ids):
    if not ids:
        return {}
    return {
        row.id: row for row in db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    }


def _complaint(message, named, now):
    fields = _feedback_fields(_feedback_part(message))
    feedback_type = (fields.get("Feedback-Type") or "other").strip().lower()
    if feedback_type not in COMPLAINT_TYPES:
        return [Outcome("ignored", detail=f"feedback type {feedback_type}")]
    quoted = return_path.find_addresses(_quoted_original(message))
    ids = list(dict.fromkeys([message_id for _purpose, message_id in named + quoted]))
    rows = _rows(ids)
    return [apply_complaint(rows[i], feedback_type, now) for i in ids if i in rows] or [
        Outcome("ignored", detail="the report names none of our messages")
    ]


def receive(recipients, raw, now):
    """Act on one inbound message delivered to ``recipients`` (addresses ``accepts`` took).
    Returns its outcomes; flushes, the caller commits."""
    message = message_from_bytes(raw)  # compat32 Message: what flufl.bounce reads
    named = [found for found in map(return_path.read_address, recipients) if found]
    if _feedback_part(message) is not None:
        return _complaint(message, [n for n in named if n[0] == return_path.BOUNCE], now)
    rows = _rows([message_id for _purpose, message_id in named])
    outcomes = []
    for purpose, message_id in named:
        row = rows.get(message_id)
        if row is None:
            outcomes.append(Outcome("ignored", message_id, "no such message"))
        elif purpose == return_path.UNSUBSCRIBE:
            outcomes.append(apply_unsubscribe(row, parseaddr(message.get("From", ""))[1], now))
        else:
            bounce = read_bounce(message)
            outcomes.append(
                apply_bounce(row, bounce, now) if bounce else Outcome("ignored", message_id, "not a bounce")
            )
    db.session.flush()
    for outcome in outcomes:
        current_app.logger.info("inbound mail: %s", outcome)
    return outcomes
