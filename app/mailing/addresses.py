"""Which addresses a studio's own SMTP server may be on.

A studio types any host and port into Settings → Email, and the platform then connects there
(the "Test connection" button, the test message, every dispatch). Left open, that turns the
platform into a port scanner of its own network: loopback services, the private network, the
cloud metadata endpoint. So a studio's server must resolve to public addresses only, every one
of them, unless the platform operator allows some in ``SMTP_ALLOW_PRIVATE_HOSTS``; the
platform's own server (``MAIL_SERVER``:``MAIL_PORT``, the embedded sink by default) is always
allowed. The connection then goes to the addresses that were checked (``transport``), so a DNS
answer that changes between the check and the connect (DNS rebinding) changes nothing.
"""

import ipaddress
import socket
from dataclasses import dataclass

# Cloud metadata endpoints (AWS, GCP, Azure: 169.254.169.254; AWS over IPv6: fd00:ec2::254).
# Both are already outside the public ranges; they are named so that an operator's allowance
# for a private range that contains them never opens them.
METADATA_ADDRESSES = frozenset(map(ipaddress.ip_address, ("169.254.169.254", "fd00:ec2::254")))


class HostNotAllowed(Exception):
    """A studio's SMTP host resolves to an address the platform does not connect to."""

    def __init__(self, host):
        super().__init__(
            f"{host} is on a private or local network: Proofsheet connects only to mail "
            "servers on the public internet. Use your email provider's public SMTP server."
        )
        self.host = host


@dataclass(frozen=True)
class Resolved:
    """One checked address of a host: what ``socket.socket().connect`` needs."""

    family: int
    sockaddr: tuple


def _embedded_ipv4(address):
    """IPv4 addresses carried inside an IPv6 one (mapped, 6to4, Teredo): reaching them may
    reach the IPv4 address, so they are judged too."""
    if address.version != 6:
        return []
    embedded = [address.ipv4_mapped, address.sixtofour]
    embedded += list(address.teredo or ())
    return [inner for inner in embedded if inner is not None]


def is_public(address):
    """True when ``address`` (an ``ipaddress`` object) is a public unicast address."""
    if address in METADATA_ADDRESSES:
        return False
    # Python 3.11 calls multicast and some reserved IPv6 ranges "global": refuse them too.
    if not address.is_global or address.is_multicast or address.is_reserved:
        return False
    return all(is_public(inner) for inner in _embedded_ipv4(address))


def _entries(allowed):
    """The operator's allowance: a list, or one string of comma-separated entries."""
    if isinstance(allowed, str):
        allowed = allowed.split(",")
    return [entry.strip() for entry in allowed or () if entry and entry.strip()]


@dataclass(frozen=True)
class HostPolicy:
    """What a studio's SMTP server may be: public, or allowed by the operator's config."""

    networks: tuple = ()  # ip_network objects allowed by the operator
    names: tuple = ()  # host names allowed by the operator, whatever they resolve to
    platform_host: str = ""
    platform_port: int = 0

    @classmethod
    def from_config(cls, config):
        networks, names = [], []
        for entry in _entries(config.get("SMTP_ALLOW_PRIVATE_HOSTS")):
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                names.append(entry.lower().rstrip("."))
        return cls(
            tuple(networks),
            tuple(names),
            str(config.get("MAIL_SERVER") or ""),
            int(config.get("MAIL_PORT") or 0),
        )

    def address_allowed(self, address):
        """Public, or inside a network the operator allowed (never a metadata address)."""
        if is_public(address):
            return True
        return address not in METADATA_ADDRESSES and any(
            address in network for network in self.networks if network.version == address.version
        )

    def _platform_addresses(self, port):
        """The addresses of the platform's own server when ``port`` is its port (it may be
        on loopback: the embedded sink)."""
        if not self.platform_host or port != self.platform_port:
            return set()
        try:
            return {address for address, _ in resolve(self.platform_host, port)}
        except OSError:
            return set()

    def check(self, host, port):
        """Resolve ``host`` and return its addresses as ``Resolved``, once every one of them is
        allowed. Raises ``HostNotAllowed``, or ``socket.gaierror`` when the name is unknown."""
        found = resolve(host, port)
        named = host.lower().rstrip(".") in self.names
        doubtful = {
            address
            for address, _ in found
            if address in METADATA_ADDRESSES or not (named or self.address_allowed(address))
        }
        if doubtful and (doubtful & METADATA_ADDRESSES or not doubtful <= self._platform_addresses(port)):
            raise HostNotAllowed(host)
        return [resolved for _, resolved in found]


def resolve(host, port):
    """``getaddrinfo`` for a TCP connection: [(ip_address, Resolved)], in the resolver's order.

    A name the IDNA codec rejects (an empty label, one over 63 characters) is reported like an
    unknown name instead of escaping as a ``UnicodeError``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (UnicodeError, ValueError) as error:
        raise socket.gaierror(socket.EAI_NONAME, f"invalid host name: {error}") from error
    found, seen = [], set()
    for family, _, _, _, sockaddr in infos:
        # An IPv6 link-local answer may carry "%zone": the address itself is before it.
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if (address, family) not in seen:
            seen.add((address, family))
            found.append((address, Resolved(family, sockaddr)))
    if not found:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    return found
