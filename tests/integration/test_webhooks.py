"""Provider callbacks at /webhooks/<provider> and RCK's legacy /internal/videos/success|failure:
signatures, refusals that change nothing, duplicates, replays and reports out of order."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from sqlalchemy import func, select

from tests.conftest import jpeg_bytes
from tests.integration.provider_fakes import RckFake, sign_delivery
from tests.integration.provider_support import (
    SECRET,
    Env,
    provider_settings,
    sample_mp4,
    served,
)
from webapp.extensions import db
from webapp.models import VideoEvent, WebhookDelivery

OTHER_SECRET = "whsec_YW5vdGhlciBrZXkgb2YgdGhpcnR5LXR3byBieXRlcyE="


@pytest.fixture
def fake():
    server = RckFake(video=sample_mp4(), thumbnail=jpeg_bytes()).start()
    yield server
    server.stop()


@pytest.fixture
def env(app_factory, fake):
    app = app_factory(**provider_settings("rck", fake.url))
    with served(app) as url:
        env = Env(app)
        env.url = url
        yield env


@pytest.fixture
def video_id(env):
    """A video generating at RCK."""
    [video_id] = env.create()
    env.run_until(lambda: env.status(video_id) == "generating", sync=False)
    return video_id


def success(video_id, fake, **extra) -> dict:
    return {"videoId": str(video_id), "video_url": f"{fake.url}/files/video.mp4", "id_product": "1", **extra}


def failure(video_id) -> dict:
    return {"videoId": str(video_id), "error": "Render farm on fire", "id_product": "1"}


def post(env, path: str, payload, *, secret: str = SECRET, headers: dict | None = None, **signing):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = sign_delivery(secret, raw, **signing) if headers is None else headers
    return env.app.test_client().post(path, data=raw, headers=sent)


def counts(env, video_id) -> tuple:
    """Everything a delivery could change."""
    video = env.video(video_id)
    with env.app.app_context():
        deliveries = db.session.scalar(select(func.count(WebhookDelivery.id)))
        events = db.session.scalar(select(func.count(VideoEvent.id)).where(VideoEvent.video_id == video_id))
        db.session.rollback()
    return video.status, video.progress, video.error, env.used(), deliveries, events


def test_a_signed_success_to_the_provider_endpoint_completes_the_video(env, fake, video_id):
    response = post(env, "/webhooks/rck", success(video_id, fake))
    assert response.status_code == 200
    assert response.get_json() == {"success": True, "outcome": "applied", "videoId": video_id, "status": "completed"}
    assert env.status(video_id) == "completed" and len(env.media_files()) == 1


def _refusals(fake_url: str, video_id: int):
    ok = json.dumps({"videoId": str(video_id), "video_url": f"{fake_url}/files/video.mp4"}).encode()
    stale = int(time.time()) - 400
    tampered = sign_delivery(SECRET, ok)
    return [
        ("/internal/videos/success", ok, {"content-type": "application/json"}, 401, "invalid_signature"),
        ("/internal/videos/success", ok, sign_delivery(OTHER_SECRET, ok), 401, "invalid_signature"),
        ("/internal/videos/success", ok, sign_delivery(SECRET, ok, timestamp=stale), 401, "invalid_signature"),
        ("/internal/videos/success", ok.replace(b"video.mp4", b"video.mp5"), tampered, 401, "invalid_signature"),
        ("/internal/videos/success", b'{"videoId": ', sign_delivery(SECRET, b'{"videoId": '), 400, "invalid_payload"),
        ("/internal/videos/success", b'["a list"]', sign_delivery(SECRET, b'["a list"]'), 400, "invalid_payload"),
        ("/internal/videos/success", b'{"videoId": "abc"}', sign_delivery(SECRET, b'{"videoId": "abc"}'), 400, "invalid_payload"),
        ("/internal/videos/failure", b'{"videoId": 99999}', sign_delivery(SECRET, b'{"videoId": 99999}'), 404, "not_found"),
        ("/webhooks/taskapi", ok, sign_delivery(SECRET, ok), 404, "not_found"),
        ("/webhooks/no-such-provider", ok, sign_delivery(SECRET, ok), 404, "not_found"),
        # Kie.ai signs its own way: a Standard Webhooks signature is no Kie.ai signature
        ("/webhooks/kie", ok, sign_delivery(SECRET, ok), 401, "invalid_signature"),
    ]


REFUSALS = ["unsigned", "wrong-key", "stale", "one-byte-changed", "truncated-json", "not-an-object", "bad-video-id",
            "unknown-video", "polled-provider", "unknown-provider", "other-providers-shape"]


@pytest.mark.parametrize("case", range(len(REFUSALS)), ids=REFUSALS)
def test_a_refused_delivery_changes_nothing_and_says_why(env, fake, video_id, case):
    path, body, headers, status, code = _refusals(fake.url, video_id)[case]
    before = counts(env, video_id)
    response = env.app.test_client().post(path, data=body, headers=headers)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert counts(env, video_id) == before
    if case == REFUSALS.index("bad-video-id"):
        assert error["message"] == "Invalid videoId format"


def test_callbacks_are_refused_while_no_webhook_secret_is_set(app_factory, fake):
    app = app_factory(**provider_settings("rck", fake.url, WEBHOOK_SECRET=""))
    raw = json.dumps(success(1, fake)).encode()
    response = app.test_client().post("/internal/videos/success", data=raw, headers=sign_delivery(SECRET, raw))
    assert response.status_code == 503 and "WEBHOOK_SECRET" in response.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count(WebhookDelivery.id))) == 0


def test_a_callback_for_a_video_not_yet_sent_is_refused(env, fake, video_id):
    [waiting] = env.create()
    before = counts(env, waiting)
    response = post(env, "/internal/videos/success", success(waiting, fake))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_started"
    assert counts(env, waiting) == before


def test_a_huge_body_is_refused(env, video_id):
    response = post(env, "/webhooks/rck", b"{" + b" " * (1024 * 1024) + b"}")
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"


def test_a_replayed_delivery_is_acknowledged_and_changes_nothing(env, fake, video_id):
    first = post(env, "/internal/videos/failure", failure(video_id), message_id="msg_once")
    assert first.get_json()["outcome"] == "applied" and env.used() == 0
    before = counts(env, video_id)
    again = post(env, "/internal/videos/failure", failure(video_id), message_id="msg_once")  # fresh timestamp
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    assert counts(env, video_id) == before


def _concurrently(url: str, deliveries: list[tuple[bytes, dict]]) -> list[requests.Response]:
    barrier = threading.Barrier(len(deliveries))
    answers: list = [None] * len(deliveries)

    def send(index: int, body: bytes, headers: dict) -> None:
        barrier.wait()
        answers[index] = requests.post(url, data=body, headers=headers, timeout=30)

    threads = [threading.Thread(target=send, args=(i, *d)) for i, d in enumerate(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_five_identical_deliveries_at_once_change_state_and_quota_once(env, fake, video_id):
    raw = json.dumps(failure(video_id)).encode()
    delivery = (raw, sign_delivery(SECRET, raw))
    answers = _concurrently(f"{env.url}/internal/videos/failure", [delivery] * 5)
    assert [a.status_code for a in answers] == [200] * 5
    assert sorted(a.json()["outcome"] for a in answers) == ["applied"] + ["duplicate"] * 4
    video = env.video(video_id)
    assert video.status == "failed" and env.used() == 0  # refunded once: not -4
    assert [e.to_status for e in video.events if e.to_status] == ["pending", "generating", "failed"]
    assert sum(e.kind == "webhook" for e in video.events) == 1


def test_five_retries_of_one_success_under_new_ids_complete_it_once_with_one_copy(env, fake, video_id):
    raw = json.dumps(success(video_id, fake)).encode()
    answers = _concurrently(f"{env.url}/internal/videos/success", [(raw, sign_delivery(SECRET, raw)) for _ in range(5)])
    assert [a.status_code for a in answers] == [200] * 5
    assert sorted(a.json()["outcome"] for a in answers) == ["applied"] + ["ignored"] * 4
    video = env.video(video_id)
    assert [e.to_status for e in video.events if e.to_status] == ["pending", "generating", "completed"]
    assert env.media_files() == [video.video_path]  # the losers' copies removed
    assert env.used() == 1


def test_reports_out_of_order_never_move_a_video_backwards(env, fake, video_id):
    assert post(env, "/webhooks/rck", {"videoId": video_id, "status": "processing", "progress": 60}).status_code == 200
    late = post(env, "/webhooks/rck", {"videoId": video_id, "status": "processing", "progress": 30})
    assert late.get_json()["outcome"] == "ignored"
    video = env.video(video_id)
    assert (video.status, video.progress) == ("generating", 60)

    assert post(env, "/internal/videos/success", success(video_id, fake)).get_json()["outcome"] == "applied"
    for payload, path in [(failure(video_id), "/internal/videos/failure"),
                          ({"videoId": video_id, "status": "processing", "progress": 10}, "/webhooks/rck")]:
        answer = post(env, path, payload)
        assert answer.status_code == 200 and answer.get_json() == {
            "success": True, "outcome": "ignored", "videoId": video_id, "status": "completed"}
    video = env.video(video_id)
    assert (video.status, video.progress, video.error) == ("completed", 100, None) and env.used() == 1


@pytest.mark.parametrize("name", ["os:system", "0:", "webapp.providers.local:LocalProvider", "subprocess:Popen"])
def test_a_provider_path_never_names_a_module_to_import(app, name):
    # "package.module:Class" is a provider only as the configured VIDEO_PROVIDER
    response = app.test_client().post(f"/webhooks/{name}", data=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
