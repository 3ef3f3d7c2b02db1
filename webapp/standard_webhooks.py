"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

The sender signs "{webhook-id}.{webhook-timestamp}.{raw body}" with HMAC-SHA256; the key is the
base64 part of a ``whsec_`` secret. ``webhook-signature`` holds space-separated ``v1,<base64>``
entries (several while a sender rotates keys): any one matching is enough. A timestamp more
than five minutes from now, either way, is refused, so a captured delivery cannot be replayed
later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

TOLERANCE_S = 5 * 60
PREFIX = "whsec_"


class SignatureError(Exception):
    """The delivery is not signed by us, or not now; the message says which."""


def parse_secrets(value: str) -> list[bytes]:
    """The keys of WEBHOOK_SECRET: one ``whsec_`` secret, or several separated by spaces
    while the receiving side rotates."""
    keys = []
    for secret in value.replace(",", " ").split():
        try:
            keys.append(base64.b64decode(secret.removeprefix(PREFIX), validate=True))
        except (binascii.Error, ValueError) as error:
            raise SignatureError("WEBHOOK_SECRET is not a whsec_<base64> secret.") from error
    return keys


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(keys: list[bytes], headers: Mapping[str, str], body: bytes, now: float) -> str:
    """Checks the delivery's signature and age; returns its ``webhook-id``."""
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get("webhook-id", "").strip()
    timestamp = lowered.get("webhook-timestamp", "").strip()
    signatures = lowered.get("webhook-signature", "").split()
    if not (message_id and timestamp and signatures):
        raise SignatureError("The webhook-id, webhook-timestamp and webhook-signature headers are required.")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureError("webhook-timestamp must be a Unix time in seconds.")
    if abs(now - int(timestamp)) > TOLERANCE_S:
        raise SignatureError("webhook-timestamp is more than 5 minutes from now: the delivery is stale or replayed.")
    expected = [sign(key, message_id, int(timestamp), body).encode() for key in keys]
    for candidate in signatures:
        if candidate.startswith("v1,") and any(hmac.compare_digest(candidate.encode(), e) for e in expected):
            return message_id
    raise SignatureError("The webhook signature does not match.")
