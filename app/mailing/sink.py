"""The local SMTP sink of the embedded default: a real SMTP server (aiosmtpd) that keeps every
message it receives as an .eml file under instance/mail-sink/, where the mailbox page reads it."""

import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.controller import Controller


class FolderHandler:
    """aiosmtpd handler: one file per received message, named so they sort by arrival."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        name = f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        temporary = self.folder / (name + ".part")
        temporary.write_bytes(envelope.original_content or envelope.content)
        temporary.rename(self.folder / name)  # readers never see half a message
        return "250 Message accepted for delivery"


def start_sink(folder, host="127.0.0.1", port=8025):
    """Start the sink in a background thread and return its controller (call ``.stop()``)."""
    controller = Controller(FolderHandler(folder), hostname=host, port=port)
    controller.start()
    return controller


def read_messages(folder, studio_id=None, limit=200):
    """The newest messages in the sink, optionally only those a studio sent (by our header)."""
    paths = sorted(Path(folder).glob("*.eml"), reverse=True)
    messages = []
    for path in paths:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if studio_id is not None and message.get("X-Proofsheet-Studio") != str(studio_id):
            continue
        messages.append((path.stem, message))
        if len(messages) >= limit:
            break
    return messages


def read_message(folder, message_id):
    """One message by its file stem, or None; the stem is checked so no path can escape."""
    if not message_id.replace("-", "").isalnum():
        return None
    path = Path(folder) / f"{message_id}.eml"
    if not path.is_file():
        return None
    return message_from_bytes(path.read_bytes(), policy=policy.default)
