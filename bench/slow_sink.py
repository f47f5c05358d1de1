"""An SMTP sink that answers each message after a delay, as a server across a network does:
``python -m aiosmtpd -n -l 127.0.0.1:PORT -c bench.slow_sink.SlowSink 5`` (milliseconds).

The delay is awaited, not slept: the sink keeps serving other connections meanwhile, so what
limits the rate is each connection's round trips, not the sink's CPU. That is where several
dispatcher processes pay off, and what a 2-core machine with a local CPU-bound sink cannot show.
"""

import asyncio


class SlowSink:
    def __init__(self, delay_ms):
        self.delay = delay_ms / 1000

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("SlowSink takes one argument: the delay in milliseconds")
        return cls(float(args[0]))

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return "250 OK"
