"""A real DNS server on 127.0.0.1 (dnslib) answering TXT look-ups from a dict the test fills:
sender domains are checked, and DKIM signatures verified, against what it publishes."""

import dns.resolver
import pytest
from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from tests.conftest import free_port


class ZoneResolver(BaseResolver):
    """TXT records by name; NXDOMAIN for a name it does not know."""

    def __init__(self):
        self.txt = {}

    def publish(self, name, value):
        self.txt.setdefault(name.lower().rstrip("."), []).append(value)

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if name not in self.txt:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in self.txt[name]:
                data = value.encode()
                # A TXT record's strings are 255 bytes at most: a 2048-bit key takes two.
                chunks = [data[i : i + 255] for i in range(0, len(data), 255)]
                reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT(chunks), ttl=60))
        return reply


@pytest.fixture(scope="session")
def dns_server():
    zone = ZoneResolver()
    server = DNSServer(
        zone,
        port=free_port(),
        address="127.0.0.1",
        logger=DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", logf=lambda _text: None),
    )
    server.start_thread()
    server.zone, server.port = zone, server.server.server_address[1]
    yield server
    server.stop()
    server.server.server_close()


@pytest.fixture
def dns_zone(dns_server):
    """The server's records, empty at the start of each test."""
    dns_server.zone.txt.clear()
    return dns_server.zone


def txt_lookup(port):
    """dkimpy's ``dnsfunc`` on the local server (dnspython, not the code under test)."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = ["127.0.0.1"], port, 3

    def lookup(name, timeout=5):
        try:
            answer = resolver.resolve(name.decode().rstrip("."), "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return b""
        return b"".join(answer[0].strings)

    return lookup
