"""Outbound webhooks against real receivers on 127.0.0.1: signatures checked the way the
Standard Webhooks spec says (written here, not with the app's signing code), retries with
back-off for a receiver that fails twice, a receiver that hangs, redirects not followed, private
destinations refused, events per status and per bulk, a video's own webhookUrl, disabling after
three days of failures, resend, and each delivery sent once by concurrent workers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.conftest import PASSWORD, make_product, make_workspace
from tests.integration.api_support import (
    api_fixture,  # noqa: F401 (fixture)
    completed_video,
    other_api_fixture,  # noqa: F401 (fixture)
    queue_video,
)
from webapp.extensions import db
from webapp.generation import outbound, service
from webapp.generation.lifecycle import transition
from webapp.models import (
    Bulk,
    OutboundAttempt,
    OutboundDelivery,
    Video,
    VideoStatus,
    WebhookEndpoint,
    Workspace,
    utcnow,
)

HTMX = {"HX-Request": "true"}
TOLERANCE_S = 300


def verify(secret: str, headers, body: bytes) -> str:
    """The receiving side of https://www.standardwebhooks.com/ (spec section "Verifying"):
    HMAC-SHA256 of "{id}.{timestamp}.{body}" with the base64-decoded part of the whsec_ secret,
    compared with each "v1,<base64>" of webhook-signature; the timestamp within 5 minutes."""
    message_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    assert abs(time.time() - int(timestamp)) < TOLERANCE_S
    key = base64.b64decode(secret.split("_", 1)[1])
    expected = base64.b64encode(hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())
    for signature in headers["webhook-signature"].split(" "):
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return message_id
    raise AssertionError("signature does not verify")


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that records every request; it answers 500 for its first
    ``fail_first`` requests, hangs ``hang_s`` first, or redirects to ``redirect_to``."""

    fail_first: int = 0
    hang_s: float = 0.0
    redirect_to: str | None = None
    body: bytes = b"ok"
    requests: list[tuple[dict, bytes]] = field(default_factory=list)
    server: object = None

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @Request.application
    def _app(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(({k.lower(): v for k, v in request.headers.items()}, request.get_data()))
            count = len(self.requests)
        if self.hang_s:
            time.sleep(self.hang_s)
        if self.redirect_to:
            return Response("", 307, {"Location": self.redirect_to})
        if count <= self.fail_first:
            return Response("temporarily broken", 500)
        return Response(self.body, 200)

    def stop(self) -> None:
        self.server.shutdown()

    def verified(self, secret: str) -> list[tuple[str, dict]]:
        return [(verify(secret, headers, body), json.loads(body)) for headers, body in self.requests]


@pytest.fixture
def receivers():
    started: list[Receiver] = []

    def start(**behaviour) -> Receiver:
        receiver = Receiver(**behaviour)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


@pytest.fixture
def app(app_factory):
    return app_factory(ALLOW_PRIVATE_WEBHOOK_HOSTS=True, WEBHOOK_TIMEOUT_S=1)


def _endpoint(client, url: str, events=outbound.EVENTS) -> tuple[int, str]:
    """Adds an endpoint from Settings as a person does; returns its id and the secret shown."""
    page = client.post("/settings/webhooks", data={"url": url, "events": list(events)}, headers=HTMX)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "field-error" not in html, html
    secret = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', html).group(1)
    endpoint_id = int(re.search(r'id="endpoint-(\d+)"', html).group(1))
    return endpoint_id, secret


def _deliver(owner: str = "test-worker") -> int:
    count = outbound.deliver_due(owner)
    db.session.expire_all()
    return count


def _deliveries() -> list[OutboundDelivery]:
    db.session.commit()
    db.session.expire_all()
    return list(db.session.scalars(select(OutboundDelivery).order_by(OutboundDelivery.id)))


def _come_due(delivery_id: int) -> None:
    """Time passes: the next attempt is due now."""
    db.session.execute(update(OutboundDelivery).where(OutboundDelivery.id == delivery_id).values(next_attempt_at=utcnow()))
    db.session.commit()


def test_a_completed_video_is_delivered_signed_per_the_spec(client, workspace, owner, receivers):
    receiver = receivers()
    endpoint_id, secret = _endpoint(client, receiver.url)
    video = completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    (delivery,) = _deliveries()
    assert (delivery.status, delivery.event_type, delivery.endpoint_id) == ("pending", "video.completed", endpoint_id)

    assert _deliver() == 1
    ((message_id, payload),) = receiver.verified(secret)
    headers, _ = receiver.requests[0]
    assert headers["content-type"] == "application/json"
    assert message_id == delivery.message_id and message_id.startswith("msg_")
    assert payload["type"] == "video.completed"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payload["timestamp"])
    data = payload["data"]
    assert (data["id"], data["status"], data["productId"], data["resolution"]) == (video.id, "completed",
                                                                                   video.product_id, "1280x720")
    assert data["videoUrl"].startswith("http://127.0.0.1:5000/api/v1/media/videos/")  # PUBLIC_BASE_URL in the worker

    (delivered,) = _deliveries()
    assert delivered.status == "delivered" and delivered.delivered_at is not None
    (attempt,) = delivered.attempt_log
    assert (attempt.status_code, attempt.response_excerpt, attempt.error) == (200, "ok", None)
    assert attempt.latency_ms >= 0
    assert _deliver() == 0  # nothing twice


def test_two_failures_then_one_verified_delivery(client, workspace, owner, receivers):
    receiver = receivers(fail_first=2)
    _, secret = _endpoint(client, receiver.url, ["video.completed"])
    completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    (delivery,) = _deliveries()

    delays = []
    for expected_delay in outbound.RETRY_DELAYS_S[:2]:
        before = utcnow()
        _deliver()
        (pending,) = _deliveries()
        assert pending.status == "pending" and pending.last_error == "The endpoint answered 500."
        delays.append((pending.next_attempt_at - before).total_seconds())
        assert expected_delay * 0.79 <= delays[-1] <= expected_delay * 1.21 + 1
        assert _deliver() == 0  # not due yet
        _come_due(delivery.id)
    _deliver()

    seen = receiver.verified(secret)
    assert [payload["type"] for _, payload in seen] == ["video.completed"] * 3
    assert {message_id for message_id, _ in seen} == {delivery.message_id}  # one message, tried three times
    timestamps = [int(headers["webhook-timestamp"]) for headers, _ in receiver.requests]
    assert timestamps == sorted(timestamps)  # each attempt signed when sent
    (done,) = _deliveries()
    assert done.status == "delivered" and done.attempts == 3
    assert [a.status_code for a in done.attempt_log] == [500, 500, 200]
    assert done.attempt_log[0].response_excerpt == "temporarily broken"


def test_a_hanging_receiver_times_out_without_holding_the_others(client, workspace, owner, receivers):
    hanging, prompt = receivers(hang_s=4), receivers()
    _endpoint(client, hanging.url, ["video.completed"])
    _endpoint(client, prompt.url, ["video.completed"])
    completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    started = time.monotonic()
    assert _deliver() == 2
    assert time.monotonic() - started < 3.5  # in parallel: bounded by the 1 s timeout, not the hang
    slow, fast = _deliveries()
    assert fast.status == "delivered"
    assert slow.status == "pending" and slow.next_attempt_at > utcnow()
    (attempt,) = slow.attempt_log
    assert attempt.status_code is None and "Timed out" in attempt.error
    assert 900 <= attempt.latency_ms < 3000


def test_redirects_are_not_followed(client, workspace, owner, receivers):
    target = receivers()
    redirecting = receivers(redirect_to=target.url)
    _endpoint(client, redirecting.url, ["video.completed"])
    completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    _deliver()
    (delivery,) = _deliveries()
    assert delivery.status == "pending" and delivery.attempt_log[0].status_code == 307
    assert target.requests == []


def test_long_answers_are_kept_short_in_the_log(client, workspace, owner, receivers):
    receiver = receivers(body=b"x" * 100_000)
    _endpoint(client, receiver.url, ["video.completed"])
    completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    _deliver()
    (delivery,) = _deliveries()
    assert delivery.attempt_log[0].response_excerpt == "x" * outbound.EXCERPT_CHARS


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hooks", "http://localhost/hooks", "http://10.1.2.3/hooks", "http://169.254.169.254/latest",
    "http://[::1]/hooks", "http://100.100.100.200/", "http://0.0.0.0/",
])
def test_private_destinations_are_refused(app_factory, url):
    app = app_factory(ALLOW_PRIVATE_WEBHOOK_HOSTS=False)
    with app.app_context():
        make_workspace()
        client = app.test_client()
        client.post("/login", data={"email": "owner@example.com", "password": PASSWORD})
        page = client.post("/settings/webhooks", data={"url": url, "events": ["video.completed"]}, headers=HTMX)
        assert "is a private address; sending to it is not allowed" in page.get_data(as_text=True)
        assert db.session.scalar(select(WebhookEndpoint.id)) is None


@pytest.mark.parametrize(("url", "message"), [
    ("", "Enter the URL"), ("ftp://example.com/x", "must start with https://"), ("example.com/hooks", "must start"),
    ("https://exa mple.com/", "without spaces"), ("https://example.com:99999/", "not valid"),
    ("https://" + "a" * 2050 + ".com/", "2048 characters"), ("https://no-such-host.invalid/", "could not be found"),
])
def test_bad_urls_are_refused(client, url, message):
    page = client.post("/settings/webhooks", data={"url": url, "events": ["video.completed"]}, headers=HTMX)
    assert message in page.get_data(as_text=True)
    assert db.session.scalar(select(WebhookEndpoint.id)) is None


def test_unknown_or_no_events_are_refused(client, receivers):
    receiver = receivers()
    assert "Choose at least one event" in client.post("/settings/webhooks", data={"url": receiver.url},
                                                      headers=HTMX).get_data(as_text=True)
    assert "Unknown event" in client.post("/settings/webhooks", data={"url": receiver.url, "events": ["video.exploded"]},
                                          headers=HTMX).get_data(as_text=True)
    assert db.session.scalar(select(WebhookEndpoint.id)) is None


def test_a_destination_that_turns_private_is_refused_when_sending(app, client, workspace, owner, receivers):
    receiver = receivers()
    _endpoint(client, receiver.url, ["video.completed"])
    app.config["ALLOW_PRIVATE_WEBHOOK_HOSTS"] = False  # as if its name now resolved to a private address
    completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    _deliver()
    (delivery,) = _deliveries()
    assert "private address" in delivery.attempt_log[0].error and receiver.requests == []


def test_each_status_has_its_event_and_endpoints_get_only_theirs(client, workspace, owner, receivers):
    everything, completions = receivers(), receivers()
    _, secret = _endpoint(client, everything.url)
    _endpoint(client, completions.url, ["video.completed"])
    product = make_product(workspace, "Trail Mug")
    completed_video(workspace, owner, product)
    failed = queue_video(workspace, owner, product)
    assert transition(failed, VideoStatus.FAILED, "The provider failed")
    service.cancel_video(workspace, queue_video(workspace, owner, product).id)
    _deliver()
    told = {payload["type"]: payload["data"] for _, payload in everything.verified(secret)}
    assert sorted(told) == ["video.canceled", "video.completed", "video.failed"]
    assert [json.loads(body)["type"] for _, body in completions.requests] == ["video.completed"]
    assert told["video.failed"]["status"] == "failed" and told["video.failed"]["error"] == "The provider failed"
    assert told["video.canceled"]["status"] == "canceled"


def test_a_refused_transition_sends_nothing(client, workspace, owner, receivers):
    receiver = receivers()
    _endpoint(client, receiver.url)
    video = completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    assert not transition(db.session.get(Video, video.id), VideoStatus.FAILED, "late report")  # completed stays
    assert [d.event_type for d in _deliveries()] == ["video.completed"]


def test_a_bulk_is_finished_once_when_its_last_video_ends(client, workspace, owner, receivers):
    receiver = receivers()
    _, secret = _endpoint(client, receiver.url, ["bulk.finished"])
    bulk = Bulk(workspace_id=workspace.id, user_id=owner.id, template_key="product_showcase", queued=3)
    db.session.add(bulk)
    db.session.commit()
    videos = [queue_video(workspace, owner, make_product(workspace, f"Mug {i}")) for i in range(3)]
    db.session.execute(update(Video).values(bulk_id=bulk.id))
    db.session.commit()
    for video in videos[:2]:
        assert transition(video, VideoStatus.GENERATING, "Rendering")
    assert transition(videos[0], VideoStatus.COMPLETED, "Done")
    assert transition(videos[1], VideoStatus.FAILED, "Broken")
    db.session.expire_all()
    assert db.session.scalar(select(Bulk.finished_at)) is None and _deliveries() == []
    service.cancel_video(workspace, videos[2].id)
    db.session.expire_all()
    assert db.session.scalar(select(Bulk)).finished_at is not None
    _deliver()
    ((_, payload),) = receiver.verified(secret)
    assert payload["type"] == "bulk.finished"
    assert {k: payload["data"][k] for k in ("id", "queued", "completed", "failed", "canceled")} == {
        "id": bulk.id, "queued": 3, "completed": 1, "failed": 1, "canceled": 1}
    # a retried video that ends again does not finish the bulk twice
    service.retry_video(workspace, videos[2].id)
    service.cancel_video(workspace, videos[2].id)
    assert [d.event_type for d in _deliveries()] == ["bulk.finished"]


def test_a_videos_own_webhook_url_is_told_signed_with_the_workspace_secret(client, workspace, owner, receivers):
    receiver = receivers()
    video = queue_video(workspace, owner, make_product(workspace, "Trail Mug"))
    db.session.execute(update(Video).where(Video.id == video.id).values(webhook_url=receiver.url))
    db.session.commit()
    assert transition(db.session.get(Video, video.id), VideoStatus.GENERATING, "Rendering")
    assert transition(db.session.get(Video, video.id), VideoStatus.FAILED, "Broken")
    _deliver()
    shown = client.post("/settings/webhooks/video-secret", headers=HTMX).get_data(as_text=True)
    secret = re.search(r'value="(whsec_[^"]+)"', shown).group(1)
    ((_, payload),) = receiver.verified(secret)
    assert (payload["type"], payload["data"]["id"]) == ("video.failed", video.id)


def test_an_endpoint_failing_for_three_days_is_disabled_and_the_owner_is_told(client, workspace, owner, receivers):
    receiver = receivers(fail_first=10**6)
    endpoint_id, _ = _endpoint(client, receiver.url, ["video.completed"])
    completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    _deliver()
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert endpoint.failing_since is not None and endpoint.disabled_at is None
    db.session.execute(update(WebhookEndpoint).values(failing_since=utcnow() - timedelta(days=3, minutes=1)))
    db.session.commit()
    _come_due(_deliveries()[0].id)
    _deliver()
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert endpoint.disabled_at is not None and "No delivery succeeded for 3 days" in endpoint.disabled_reason

    page = client.get("/settings").get_data(as_text=True)
    assert f"Disabled: {receiver.url}" in page and 'role="alert"' in page
    # nothing more is sent: its pending delivery and new events stop
    requests_before = len(receiver.requests)
    completed_video(workspace, owner, make_product(workspace, "Other Mug"))
    _come_due(_deliveries()[0].id)
    _deliver()
    assert len(receiver.requests) == requests_before
    assert _deliveries()[0].status == "failed" and "disabled" in _deliveries()[0].last_error

    # enabled again, its missed delivery is resent by hand and arrives
    receiver.fail_first = 0
    client.post(f"/settings/webhooks/{endpoint_id}/enable", headers=HTMX)
    resent = client.post(f"/settings/webhooks/deliveries/{_deliveries()[0].id}/resend", headers=HTMX)
    assert resent.status_code == 200
    _deliver()
    assert _deliveries()[0].status == "delivered"


def test_resend_sends_the_same_message_again(client, workspace, owner, receivers):
    receiver = receivers()
    _, secret = _endpoint(client, receiver.url, ["video.completed"])
    completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    _deliver()
    (delivery,) = _deliveries()
    page = client.get("/settings").get_data(as_text=True)
    assert f'/settings/webhooks/deliveries/{delivery.id}/resend' in page and "1 attempt" in page
    client.post(f"/settings/webhooks/deliveries/{delivery.id}/resend", headers=HTMX)
    assert _deliveries()[0].status == "pending"
    refused = client.post(f"/settings/webhooks/deliveries/{delivery.id}/resend", headers=HTMX)
    assert "still being tried" in refused.get_data(as_text=True)
    _deliver()
    first, second = receiver.verified(secret)
    assert first[0] == second[0] and first[1] == second[1]  # same webhook-id, same body
    assert len(_deliveries()[0].attempt_log) == 2


def test_retries_stop_after_about_a_day(client, workspace, owner, receivers):
    receiver = receivers(fail_first=10**6)
    _endpoint(client, receiver.url, ["video.completed"])
    completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    (delivery,) = _deliveries()
    for _ in range(outbound.MAX_ATTEMPTS):
        _come_due(delivery.id)
        _deliver()
    (delivery,) = _deliveries()
    assert delivery.status == "failed" and len(delivery.attempt_log) == outbound.MAX_ATTEMPTS == 8
    assert 16 * 3600 < sum(outbound.RETRY_DELAYS_S) < 24 * 3600


def test_concurrent_workers_send_each_delivery_once(app, client, workspace, owner, receivers):
    receiver = receivers()
    _endpoint(client, receiver.url, ["video.completed"])
    product = make_product(workspace, "Trail Mug")
    for _ in range(12):
        completed_video(workspace, owner, product)
    db.session.commit()

    def work(owner_id: str) -> None:
        with app.app_context():
            outbound.deliver_due(owner_id)
            db.session.remove()

    threads = [threading.Thread(target=work, args=(f"worker-{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [headers["webhook-id"] for headers, _ in receiver.requests]
    assert len(ids) == len(set(ids)) == 12
    assert {d.status for d in _deliveries()} == {"delivered"}
    assert db.session.scalar(select(OutboundAttempt.id).order_by(OutboundAttempt.id.desc()).limit(1)) == 12


def test_secrets_are_derived_never_stored(app, client, receivers):
    receiver = receivers()
    endpoint_id, secret = _endpoint(client, receiver.url)
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)  # 32 bytes
    shown = client.post(f"/settings/webhooks/{endpoint_id}/secret", headers=HTMX)
    assert secret in shown.get_data(as_text=True) and shown.headers["Cache-Control"] == "no-store"
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert secret not in json.dumps([endpoint.secret_seed, endpoint.url])
    assert secret.removeprefix("whsec_") not in (db.session.get(Workspace, endpoint.workspace_id).webhook_secret_seed or "")
    app.config["SECRET_KEY"] = "another-secret-key"
    assert outbound.endpoint_secret(db.session.get(Workspace, endpoint.workspace_id), endpoint_id) != secret


def test_another_workspace_cannot_touch_the_endpoints(app, client, receivers):
    receiver = receivers()
    rival, _ = make_workspace("Rival", email="rival@example.com")
    theirs, secret = outbound.create_endpoint(rival, receiver.url, ["video.completed"])
    for path in (f"/settings/webhooks/{theirs.id}/secret", f"/settings/webhooks/{theirs.id}/delete",
                 f"/settings/webhooks/{theirs.id}/enable"):
        assert client.post(path, headers=HTMX).status_code == 404
        assert secret not in client.get("/settings").get_data(as_text=True)
    assert db.session.get(WebhookEndpoint, theirs.id) is not None


def test_deleting_an_endpoint_removes_its_log(client, workspace, owner, receivers):
    receiver = receivers()
    endpoint_id, _ = _endpoint(client, receiver.url, ["video.completed"])
    completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    _deliver()
    client.post(f"/settings/webhooks/{endpoint_id}/delete", headers=HTMX)
    assert _deliveries() == [] and db.session.scalar(select(OutboundAttempt.id)) is None


def test_a_bulk_whose_videos_end_at_once_is_finished_exactly_once(app, client, workspace, owner, receivers):
    """Each video's transaction locks the bulk before looking for videos still running, so the
    last two ending together cannot both miss the end (PostgreSQL; SQLite writers are serial)."""
    receiver = receivers()
    _endpoint(client, receiver.url, ["bulk.finished"])
    bulk = Bulk(workspace_id=workspace.id, user_id=owner.id, template_key="product_showcase", queued=8)
    db.session.add(bulk)
    db.session.commit()
    ids = [queue_video(workspace, owner, make_product(workspace, f"Mug {i}")).id for i in range(8)]
    db.session.execute(update(Video).values(bulk_id=bulk.id))
    db.session.commit()
    for video_id in ids:
        assert transition(db.session.get(Video, video_id), VideoStatus.GENERATING, "Rendering")
    db.session.commit()
    barrier = threading.Barrier(len(ids))

    def finish(video_id: int) -> None:
        with app.app_context():
            video = db.session.get(Video, video_id)
            db.session.commit()
            barrier.wait()
            assert transition(video, VideoStatus.COMPLETED, "Done")
            db.session.remove()

    threads = [threading.Thread(target=finish, args=(video_id,)) for video_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [d.event_type for d in _deliveries()] == ["bulk.finished"]
    assert db.session.get(Bulk, bulk.id).finished_at is not None
    assert json.loads(_deliveries()[0].body)["data"]["completed"] == 8


def test_the_api_manages_endpoints_and_shows_their_attempts(api, other_api, workspace, owner, receivers):
    receiver = receivers(fail_first=1)
    created = api.post("/api/v1/webhook-endpoints", json={"url": receiver.url, "events": ["video.completed"]})
    assert created.status_code == 201
    endpoint = created.get_json()["data"]
    assert endpoint["events"] == ["video.completed"] and endpoint["secret"].startswith("whsec_")
    video = completed_video(workspace, owner, make_product(workspace, "Trail Mug"))
    _deliver()
    _come_due(_deliveries()[0].id)
    _deliver()
    assert [payload["data"]["id"] for _, payload in receiver.verified(endpoint["secret"])] == [video.id, video.id]

    (listed,) = api.get("/api/v1/webhook-endpoints").get_json()["data"]["endpoints"]
    assert listed["id"] == endpoint["id"] and "secret" not in listed
    (delivery,) = api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").get_json()["data"]["deliveries"]
    assert (delivery["eventType"], delivery["videoId"], delivery["status"]) == ("video.completed", video.id, "delivered")
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 200]
    assert delivery["attempts"][0]["responseExcerpt"] == "temporarily broken"

    assert other_api.get("/api/v1/webhook-endpoints").get_json()["data"]["endpoints"] == []
    assert other_api.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries").status_code == 404
    assert other_api.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}").status_code == 404
    for body in ({"url": receiver.url, "events": []}, {"url": receiver.url, "events": ["video.exploded"]},
                 {"url": "ftp://example.com", "events": ["video.completed"]}, {"url": receiver.url}):
        assert api.post("/api/v1/webhook-endpoints", json=body).status_code == 400
    assert api.delete(f"/api/v1/webhook-endpoints/{endpoint['id']}").status_code == 204
    assert api.get("/api/v1/webhook-endpoints").get_json()["data"]["endpoints"] == []


def test_finished_deliveries_older_than_30_days_are_pruned(client, workspace, owner, receivers, monkeypatch):
    receiver = receivers()
    _endpoint(client, receiver.url, ["video.completed"])
    product = make_product(workspace, "Trail Mug")
    for _ in range(3):
        completed_video(workspace, owner, product)
    _deliver()
    old_done, old_pending, recent = (delivery.id for delivery in _deliveries())
    db.session.execute(update(OutboundDelivery).where(OutboundDelivery.id.in_([old_done, old_pending]))
                       .values(created_at=utcnow() - timedelta(days=31)))
    db.session.execute(update(OutboundDelivery).where(OutboundDelivery.id == old_pending)
                       .values(status="pending", next_attempt_at=utcnow() + timedelta(hours=1)))
    db.session.commit()
    # an hour has passed since this process last pruned
    monkeypatch.setattr(outbound, "_last_prune", time.monotonic() - outbound.PRUNE_EVERY_S - 1)
    assert _deliver() == 0
    assert [d.id for d in _deliveries()] == [old_pending, recent]  # still being tried: kept
    assert db.session.scalar(select(OutboundAttempt.id).where(OutboundAttempt.delivery_id == old_done)) is None
