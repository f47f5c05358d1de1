"""SMS providers behind one small interface: ``send(recipient, body) -> provider message id``,
raising ``SmsSendFailure`` (temporary: try again later; permanent: the provider's reason).

- ``SinkProvider``: the embedded default. Writes each text as JSON under SMS_SINK_FOLDER, where
  the admin's Phone page reads it (like the mail sink and its Mailbox).
- ``FortySixElksProvider``: 46elks' HTTP API (POST form data, HTTP basic auth), popular in the
  Nordics; its URL is configurable (SMS_46ELKS_API_URL) so tests talk to a local server.
- ``TwilioProvider``: Twilio's REST API through its official library (``twilio``); its API base
  is configurable (SMS_TWILIO_API_BASE) so tests talk to a local server.
"""

import base64
import json
import secrets
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

TWILIO_API_BASE = "https://api.twilio.com"


class SmsSendFailure(Exception):
    """``temporary``: it may go through later. ``maybe_sent``: the request went out and no
    answer came back, so the provider may have taken the text: sending it again could text
    the client twice."""

    def __init__(self, reason, temporary, maybe_sent=False):
        super().__init__(reason)
        self.temporary, self.maybe_sent = temporary, maybe_sent


# Errors that prove the request never reached the provider: safe to send again.
_NOT_SENT = (ConnectionRefusedError, socket.gaierror)


def _never_reached(error):
    """Whether urllib's ``error`` happened before the provider could take the request."""
    reason = getattr(error, "reason", None)
    return isinstance(error, urllib.error.URLError) and isinstance(reason, _NOT_SENT)


class SinkProvider:
    name = "sink"

    def __init__(self, folder, sender, studio_id=None):
        self.folder, self.sender, self.studio_id = Path(folder), sender, studio_id

    def send(self, recipient, body, sent_at):
        message_id = f"sink-{secrets.token_hex(8)}"
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {
            "id": message_id,
            "from": self.sender,
            "to": recipient,
            "body": body,
            "studio_id": self.studio_id,
            "sent_at": sent_at.isoformat(),
        }
        path = self.folder / f"{sent_at:%Y%m%dT%H%M%S%f}-{message_id}.json"
        path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        return message_id


class FortySixElksProvider:
    name = "46elks"

    def __init__(self, api_url, username, password, sender, timeout=15.0):
        self.api_url, self.sender, self.timeout = api_url, sender, timeout
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self._authorization = f"Basic {token}"

    def send(self, recipient, body, sent_at):
        data = urllib.parse.urlencode({"from": self.sender, "to": recipient, "message": body}).encode()
        request = urllib.request.Request(
            self.api_url,
            data=data,
            method="POST",
            headers={
                "Authorization": self._authorization,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as error:
            reason = error.read().decode("utf-8", "replace")[:300] or error.reason
            # 4xx: the provider refused this text (number, sender, credit): retrying changes
            # nothing. 429 and 5xx: it may go through later.
            temporary = error.code == 429 or error.code >= 500
            raise SmsSendFailure(f"46elks answered {error.code}: {reason}", temporary) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            if _never_reached(error):
                raise SmsSendFailure(f"46elks could not be reached: {error}", True) from None
            raise SmsSendFailure(f"46elks did not answer: {error}", False, maybe_sent=True) from None
        except ValueError:
            raise SmsSendFailure("46elks answered something that is not JSON.", True) from None
        return str(answer.get("id") or "")


class _RebasedHttpClient(TwilioHttpClient):
    """Twilio's HTTP client sending to ``api_base`` instead of https://api.twilio.com."""

    def __init__(self, api_base, timeout):
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if self.api_base != TWILIO_API_BASE and url.startswith(TWILIO_API_BASE):
            url = self.api_base + url[len(TWILIO_API_BASE) :]
        return super().request(method, url, *args, **kwargs)


class TwilioProvider:
    name = "twilio"

    def __init__(self, api_base, account_sid, auth_token, sender, timeout=15.0):
        self.sender = sender
        self.client = TwilioClient(
            account_sid, auth_token, http_client=_RebasedHttpClient(api_base or TWILIO_API_BASE, timeout)
        )

    def send(self, recipient, body, sent_at):
        try:
            message = self.client.messages.create(to=recipient, from_=self.sender, body=body)
        except TwilioRestException as error:
            # 4xx: Twilio refused this text (number, sender, account): retrying changes nothing.
            # 429 and 5xx: it may go through later.
            temporary = error.status == 429 or error.status >= 500
            raise SmsSendFailure(f"Twilio answered {error.status}: {error.msg}"[:400], temporary) from None
        except TwilioServiceException as error:
            temporary = error.status == 429 or error.status >= 500
            reason = error.detail or error.title
            raise SmsSendFailure(f"Twilio answered {error.status}: {reason}"[:400], temporary) from None
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as error:
            raise SmsSendFailure(f"Twilio could not be reached: {error}", True) from None
        except requests.ConnectionError as error:
            if _twilio_never_reached(error):
                raise SmsSendFailure(f"Twilio could not be reached: {error}", True) from None
            raise SmsSendFailure(f"Twilio did not answer: {error}", False, maybe_sent=True) from None
        except (requests.RequestException, OSError) as error:  # a read timeout, a dropped answer
            raise SmsSendFailure(f"Twilio did not answer: {error}", False, maybe_sent=True) from None
        except (TwilioException, ValueError):
            raise SmsSendFailure("Twilio answered something we could not read.", True) from None
        return str(message.sid or "")


def _twilio_never_reached(error):
    """Whether requests' ``error`` came before a connection was made (refused, unknown host)."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError | NameResolutionError)
