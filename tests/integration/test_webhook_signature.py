"""Standard Webhooks signatures: the published test vector, and every way a delivery is refused."""

from __future__ import annotations

import base64

import pytest

from webapp.standard_webhooks import SignatureError, parse_secrets, sign, verify

# The Standard Webhooks reference implementations' test vector.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
PAYLOAD = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
OTHER_SECRET = "whsec_" + base64.b64encode(b"another key of thirty-two bytes!").decode()


def headers(signature: str = SIGNATURE, timestamp: int = TIMESTAMP, msg_id: str = MSG_ID) -> dict[str, str]:
    return {"Webhook-Id": msg_id, "Webhook-Timestamp": str(timestamp), "Webhook-Signature": signature}


def test_the_published_vector_is_signed_and_verified():
    [key] = parse_secrets(SECRET)
    assert sign(key, MSG_ID, TIMESTAMP, PAYLOAD) == SIGNATURE
    assert verify([key], headers(), PAYLOAD, now=TIMESTAMP) == MSG_ID


def test_any_one_of_several_signatures_may_match_while_the_sender_rotates_keys():
    keys = parse_secrets(SECRET)
    old = sign(parse_secrets(OTHER_SECRET)[0], MSG_ID, TIMESTAMP, PAYLOAD)
    assert verify(keys, headers(f"{old} {SIGNATURE}"), PAYLOAD, now=TIMESTAMP) == MSG_ID
    assert verify(keys, headers(f"v1a,c29tZXRoaW5n {SIGNATURE}"), PAYLOAD, now=TIMESTAMP) == MSG_ID


def test_while_we_rotate_keys_either_secret_verifies():
    keys = parse_secrets(f"{OTHER_SECRET} {SECRET}")
    assert verify(keys, headers(), PAYLOAD, now=TIMESTAMP) == MSG_ID


@pytest.mark.parametrize(
    ("keys", "delivery", "body", "now", "reason"),
    [
        (OTHER_SECRET, headers(), PAYLOAD, TIMESTAMP, "does not match"),
        (SECRET, headers(), b'{"test": 2432232315}', TIMESTAMP, "does not match"),
        (SECRET, headers(), PAYLOAD + b" ", TIMESTAMP, "does not match"),
        (SECRET, headers(msg_id="msg_other"), PAYLOAD, TIMESTAMP, "does not match"),
        (SECRET, headers(SIGNATURE.replace("v1,", "v2,")), PAYLOAD, TIMESTAMP, "does not match"),
        (SECRET, headers(SIGNATURE[:-2] + "A="), PAYLOAD, TIMESTAMP, "does not match"),
        (SECRET, headers(), PAYLOAD, TIMESTAMP + 301, "more than 5 minutes"),
        (SECRET, headers(), PAYLOAD, TIMESTAMP - 301, "more than 5 minutes"),
        (SECRET, headers(timestamp=-1), PAYLOAD, TIMESTAMP, "Unix time"),
        (SECRET, {"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP)}, PAYLOAD, TIMESTAMP, "are required"),
        (SECRET, {}, PAYLOAD, TIMESTAMP, "are required"),
    ],
    ids=["wrong-key", "one-byte-changed", "byte-added", "other-id", "other-version", "forged", "stale", "future",
         "bad-timestamp", "no-signature", "no-headers"],
)
def test_a_delivery_not_signed_by_our_key_now_is_refused(keys, delivery, body, now, reason):
    with pytest.raises(SignatureError, match=reason):
        verify(parse_secrets(keys), delivery, body, now=now)


def test_the_tolerance_is_five_minutes_either_way():
    keys = parse_secrets(SECRET)
    assert verify(keys, headers(), PAYLOAD, now=TIMESTAMP + 300) == MSG_ID
    assert verify(keys, headers(), PAYLOAD, now=TIMESTAMP - 300) == MSG_ID


def test_a_secret_that_is_not_base64_is_refused():
    with pytest.raises(SignatureError, match="whsec_"):
        parse_secrets("whsec_not base64!")
