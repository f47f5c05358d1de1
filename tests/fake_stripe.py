"""A local HTTP server that plays Stripe for the calls we make, and Stripe's hosted page.

The ``stripe`` library is pointed at it (STRIPE_API_BASE). It answers POST /v1/checkout/sessions,
GET /v1/checkout/sessions/<id> and POST /v1/refunds the way Stripe does (form-encoded params in,
JSON out), keeps every request it got so tests can check what we sent, and serves the session's
``url``: a page with a Pay button that sends the signed ``checkout.session.completed`` webhook
to the app, as Stripe would, then redirects to the success URL. Only 127.0.0.1.
"""

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


def sign(payload, secret, timestamp=None):
    """The Stripe-Signature header Stripe sends: t=<unix time>,v1=HMAC-SHA256("t.payload")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    text = payload.decode() if isinstance(payload, bytes) else payload
    digest = hmac.new(secret.encode(), f"{timestamp}.{text}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(event_type, session, event_id=None):
    """A Stripe event (as JSON text) whose object is ``session``."""
    return json.dumps(
        {
            "id": event_id or f"evt_{next(_ids)}",
            "object": "event",
            "api_version": "2025-01-01",
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "data": {"object": session},
        }
    )


_ids = itertools.count(1)


@dataclass
class Received:
    method: str
    path: str
    params: dict
    headers: dict


@dataclass
class FakeStripe:
    port: int
    requests: list = field(default_factory=list)
    sessions: dict = field(default_factory=dict)
    refunds: list = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_replies: list = field(default_factory=list)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def calls(self, method, path_start):
        return [r for r in self.requests if r.method == method and r.path.startswith(path_start)]

    # ---------------------------------------------------------------- Stripe's behaviour

    def create_session(self, params):
        session_id = f"cs_test_{next(_ids)}"
        amount = sum(
            int(params[f"line_items[{i}][price_data][unit_amount]"])
            * int(params.get(f"line_items[{i}][quantity]", 1))
            for i in itertools.takewhile(
                lambda i: f"line_items[{i}][price_data][unit_amount]" in params, itertools.count()
            )
        )
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "url": f"{self.url}/pay/{session_id}",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": params["line_items[0][price_data][currency]"],
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": {
                key[len("metadata[") : -1]: value
                for key, value in params.items()
                if key.startswith("metadata[")
            },
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "expires_at": int(params.get("expires_at") or time.time() + 86400),
            "payment_intent": None,
            "livemode": False,
        }
        self.sessions[session_id] = session
        return session

    def complete(self, session_id):
        session = self.sessions[session_id]
        session.update(status="complete", payment_status="paid", payment_intent=f"pi_test_{next(_ids)}")
        return session

    def refund(self, params):
        refund = {
            "id": f"re_test_{next(_ids)}",
            "object": "refund",
            "amount": int(params["amount"]),
            "currency": "eur",
            "payment_intent": params["payment_intent"],
            "status": "succeeded",
        }
        self.refunds.append(refund)
        return refund

    def send_webhook(self, payload):
        """POST a signed event to the app, as Stripe does; returns the HTTP status."""
        request = urllib.request.Request(
            self.webhook_url,
            data=payload.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": sign(payload, self.webhook_secret),
            },
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as reply:
                status = reply.status
        except urllib.error.HTTPError as error:
            status = error.code
        self.webhook_replies.append(status)
        return status


def _handler(fake):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, status, body, content_type="application/json", headers=()):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{next(_ids)}")
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status, obj):
            self._reply(status, json.dumps(obj))

        def _record(self):
            length = int(self.headers.get("Content-Length") or 0)
            params = dict(parse_qsl(self.rfile.read(length).decode())) if length else {}
            fake.requests.append(Received(self.command, self.path, params, dict(self.headers)))
            return params

        def _authorized(self):
            if not (self.headers.get("Authorization") or "").startswith("Bearer sk_test_"):
                self._json(
                    401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
                )
                return False
            return True

        def do_GET(self):  # noqa: N802
            self._record()
            if self.path.startswith("/pay/"):
                session = fake.sessions[self.path.removeprefix("/pay/")]
                return self._reply(
                    200,
                    HOSTED_PAGE.format(
                        amount=session["amount_total"],
                        currency=session["currency"].upper(),
                        session_id=session["id"],
                    ),
                    "text/html; charset=utf-8",
                )
            if self.path.startswith("/v1/checkout/sessions/") and self._authorized():
                session = fake.sessions.get(self.path.rsplit("/", 1)[1].split("?")[0])
                if session is None:
                    return self._json(
                        404,
                        {"error": {"type": "invalid_request_error", "message": "No such checkout.session"}},
                    )
                return self._json(200, session)
            return None

        def do_POST(self):  # noqa: N802
            params = self._record()
            if self.path.startswith("/pay/"):
                session = fake.complete(self.path.removeprefix("/pay/"))
                fake.send_webhook(event("checkout.session.completed", session))
                target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                return self._reply(303, "", "text/plain", [("Location", target)])
            if not self._authorized():
                return None
            if self.path == "/v1/checkout/sessions":
                return self._json(200, fake.create_session(params))
            if self.path == "/v1/refunds":
                return self._json(200, fake.refund(params))
            return self._json(
                404, {"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}}
            )

    return Handler


HOSTED_PAGE = """<!doctype html><html><head><title>Fake Stripe Checkout</title></head><body>
<h1>Pay {amount} {currency} (minor units)</h1>
<form method="post" action="/pay/{session_id}"><button type="submit">Pay</button></form>
</body></html>"""


class FakeStripeServer:
    def __init__(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), None)
        self.fake = FakeStripe(port=self._server.server_address[1])
        self._server.RequestHandlerClass = _handler(self.fake)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self.fake

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
