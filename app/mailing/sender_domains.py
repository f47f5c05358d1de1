"""A studio's own sender domain: its DKIM key, the DNS records to publish, and checking them.

A domain is *verified* when its DKIM record carries our public key and it publishes a DMARC
policy (what Gmail and Yahoo ask of bulk senders since 2024); the SPF record is checked and
shown, but not required: with a bounce domain configured the envelope sender is the
platform's, so DMARC passes on the DKIM signature alone. A check that could not reach DNS
(time-out, no server) changes nothing; a record that is gone un-verifies the domain, and the
studio's mail goes out "via Proofsheet" again until it is back.
"""

import base64
import re
from dataclasses import dataclass
from datetime import timedelta

import dns.exception
import dns.resolver
import idna
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask_babel import gettext as _

from app.extensions import db
from app.mailing.crypto import decrypt, encrypt
from app.mailing.deliverability import platform_host
from app.mailing.models import SenderDomain

KEY_BITS = 2048  # what every large receiver accepts; 1024 is being refused
RECHECK_EVERY = timedelta(hours=24)
DNS_LIFETIME = 5.0  # seconds for one look-up, retries included
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class DomainRefused(ValueError):
    """The text is not a domain a studio may send from; the message says why."""


class DnsUnavailable(Exception):
    """DNS did not answer (time-out, no server): nothing can be concluded."""


@dataclass(frozen=True)
class DnsRecord:
    key: str  # "dkim", "dmarc" or "spf"
    host: str  # the full name to publish it at
    value: str  # the TXT record's text
    required: bool


# ------------------------------------------------------------------ the domain and its key


def normalize_domain(text, config):
    """``text`` as a lowercase IDNA domain, or ``DomainRefused`` with a message for the page."""
    domain = (text or "").strip().lower().rstrip(".")
    if "@" in domain:
        raise DomainRefused(_("Enter the domain alone (example.com), not an email address."))
    if "/" in domain or ":" in domain:
        raise DomainRefused(_("Enter the domain alone (example.com), without http:// or a path."))
    try:  # IDNA 2008 with UTS 46 mapping, as browsers and registries read the name
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise DomainRefused(_("This is not a valid domain name.")) from None
    labels = domain.split(".")
    if len(labels) < 2 or len(domain) > 253 or not all(_LABEL.match(label) for label in labels):
        raise DomainRefused(_("This is not a valid domain name."))
    if labels[-1].isdigit():
        raise DomainRefused(_("Enter a domain name, not an IP address."))
    platform = platform_host(config)
    if domain == platform or domain.endswith("." + platform):
        raise DomainRefused(_("This is the platform's own domain: enter your studio's domain."))
    return domain


def generate_key():
    """A new RSA key: (private key PEM, public key as the DKIM record's base64 ``p=``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, base64.b64encode(public_der).decode("ascii")


def domain_of(studio_id):
    return db.session.get(SenderDomain, studio_id)


def set_domain(studio_id, domain, now):
    """Make ``domain`` the studio's sender domain with a new key (a new selector each time, so
    a record of an earlier key never verifies the new one). The same domain again keeps its
    key and records."""
    row = domain_of(studio_id)
    if row is not None and row.domain == domain:
        return row
    private_pem, public_key = generate_key()
    row = row or SenderDomain(studio_id=studio_id)
    row.domain, row.dkim_selector = domain, f"ps{now:%Y%m%d%H%M}"
    row.dkim_private_key_encrypted, row.dkim_public_key = encrypt(private_pem), public_key
    row.created_at, row.checked_at, row.verified_at, row.check_results = now, None, None, {}
    db.session.add(row)
    db.session.flush()
    return row


def remove_domain(studio_id):
    row = domain_of(studio_id)
    if row is not None:
        db.session.delete(row)
        db.session.flush()


def private_key(row):
    """The PEM private key, or None when no configured SECRET_KEY can decrypt it."""
    return decrypt(row.dkim_private_key_encrypted)


def is_aligned(address, domain):
    """Whether ``address`` is on ``domain`` or one of its subdomains (DMARC's relaxed
    alignment, which our records ask for)."""
    if not address or not domain:
        return False
    host = address.rpartition("@")[2].strip().lower().rstrip(">")
    return host == domain or host.endswith("." + domain)


def verified_domains(studio_ids):
    """{studio id: verified SenderDomain} for these studios (one query)."""
    if not studio_ids:
        return {}
    rows = db.session.scalars(
        sa.select(SenderDomain).where(
            SenderDomain.studio_id.in_(list(studio_ids)), SenderDomain.verified_at.is_not(None)
        )
    )
    return {row.studio_id: row for row in rows}


# ------------------------------------------------------------------ the records to publish


def spf_mechanism(config):
    """What a studio's SPF record must include for the platform's server: MAIL_SPF_INCLUDE
    ("include:_spf.example.com", "ip4:192.0.2.10"...), else ``include:<platform host>``."""
    return (config.get("MAIL_SPF_INCLUDE") or "").strip() or f"include:{platform_host(config)}"


def records(row, config):
    """The TXT records the studio publishes, in the order the page shows them."""
    return [
        DnsRecord(
            "dkim",
            f"{row.dkim_selector}._domainkey.{row.domain}",
            f"v=DKIM1; k=rsa; p={row.dkim_public_key}",
            required=True,
        ),
        DnsRecord("dmarc", f"_dmarc.{row.domain}", "v=DMARC1; p=none; adkim=r; aspf=r", required=True),
        DnsRecord("spf", row.domain, f"v=spf1 {spf_mechanism(config)} ~all", required=False),
    ]


# ------------------------------------------------------------------ checking DNS


def resolver_for(config):
    """A resolver on DNS_NAMESERVERS ("host" or "host:port", comma-separated; tests point it
    at a local server), else the system's."""
    servers = [part.strip() for part in (config.get("DNS_NAMESERVERS") or "").split(",") if part.strip()]
    if not servers:
        resolver = dns.resolver.Resolver()
    else:
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [server.rpartition(":")[0] if ":" in server else server for server in servers]
        ports = {int(server.rpartition(":")[2]) for server in servers if ":" in server}
        resolver.port = ports.pop() if ports else 53
    resolver.lifetime = DNS_LIFETIME
    resolver.cache = None  # a "Check again" right after publishing must ask again
    return resolver


def txt_records(resolver, name):
    """The TXT records at ``name`` as strings (a record's strings joined), [] when there are
    none; ``DnsUnavailable`` when DNS did not answer."""
    try:
        answer = resolver.resolve(name, "TXT", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as error:
        raise DnsUnavailable(str(error)) from error
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]


def _tags(record):
    """``{"v": "DKIM1", "p": "..."}`` from ``v=DKIM1; p=...`` (whitespace inside values
    removed, as RFC 6376 allows it there)."""
    tags = {}
    for part in record.split(";"):
        name, _sep, value = part.partition("=")
        if name.strip():
            tags[name.strip().lower()] = re.sub(r"\s+", "", value)
    return tags


def _result(ok, found, message):
    return {"ok": ok, "found": found, "message": message}


def check_dkim(found, row):
    keys = [record for record in found if _tags(record).get("p")]
    if any(_tags(record).get("p") == row.dkim_public_key for record in keys):
        return _result(True, found, _("Published: your mail is signed for %(domain)s.", domain=row.domain))
    if keys:
        return _result(
            False,
            found,
            _("A DKIM record is published here, but with another key. Replace its value with the one shown."),
        )
    return _result(
        False, found, _("Not found yet. DNS changes can take up to an hour to show (sometimes longer).")
    )


def check_dmarc(found):
    policies = [record for record in found if record.strip().lower().startswith("v=dmarc1")]
    if len(policies) > 1:
        return _result(False, found, _("Several DMARC records: receivers ignore them all. Keep one."))
    if policies:
        policy = _tags(policies[0]).get("p", "none")
        return _result(True, found, _("Published (policy: %(policy)s).", policy=policy))
    return _result(
        False, found, _("Not found. Gmail and Yahoo require a DMARC record from senders of bulk mail.")
    )


def check_spf(found, config):
    policies = [record for record in found if record.strip().lower().startswith("v=spf1")]
    mechanism = spf_mechanism(config)
    if len(policies) > 1:
        return _result(
            False, found, _("Several SPF records: receivers treat that as an error. Merge them into one.")
        )
    if not policies:
        return _result(False, found, _("No SPF record. Recommended: publish the one shown."))
    if mechanism.lower() in policies[0].lower().split():
        return _result(True, found, _("Published and includes this platform."))
    return _result(
        False,
        found,
        _(
            'Your SPF record does not include %(mechanism)s: add it before the final "~all" or "-all".',
            mechanism=mechanism,
        ),
    )


def check(row, config, now, resolver=None):
    """Look the records up, store what was found, and verify (or un-verify) the domain.
    Returns False when DNS did not answer (the domain's state is then left as it was)."""
    resolver = resolver or resolver_for(config)
    wanted = {record.key: record for record in records(row, config)}
    try:
        found = {key: txt_records(resolver, record.host) for key, record in wanted.items()}
    except DnsUnavailable:
        row.check_results = {**(row.check_results or {}), "unavailable": True}
        return False
    results = {
        "dkim": check_dkim(found["dkim"], row),
        "dmarc": check_dmarc(found["dmarc"]),
        "spf": check_spf(found["spf"], config),
    }
    row.check_results, row.checked_at = results, now
    passed = all(results[key]["ok"] for key, record in wanted.items() if record.required)
    if passed and row.verified_at is None:
        row.verified_at = now
    elif not passed:
        row.verified_at = None
    db.session.flush()
    return True


def recheck_due(config, now, limit=50):
    """Check again the domains last checked over a day ago (a record removed later takes the
    studio back to "via Proofsheet"). Returns how many were checked."""
    due = db.session.scalars(
        sa.select(SenderDomain)
        .where(sa.or_(SenderDomain.checked_at.is_(None), SenderDomain.checked_at <= now - RECHECK_EVERY))
        .order_by(SenderDomain.checked_at.nulls_first())
        .limit(limit)
    ).all()
    if not due:
        return 0
    resolver = resolver_for(config)
    return sum(1 for row in due if check(row, config, now, resolver))
