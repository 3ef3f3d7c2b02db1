"""seeds/002's API as the Racky app's own client calls it (/api/videos…): its flow end to end
with the real background ticks and the local renderer — templates, create (pending, charged),
generate, poll until completed, usage, bulk — and its refusals with the seed's messages and
statuses. Every answer is checked against the OpenAPI description by the ``api`` client."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.conftest import make_product, make_workspace
from tests.integration.api_support import (
    NO_TOKEN,
    ApiClient,
    api_fixture,  # noqa: F401 (fixture)
    other_api_fixture,  # noqa: F401 (fixture)
)
from tests.integration.engine_helpers import run_worker_until
from tests.integration.provider_fakes import RckFake
from webapp import accounts
from webapp.extensions import db
from webapp.generation import quota
from webapp.generation.worker import Worker
from webapp.models import UsagePeriod, Video
from webapp.video_templates import SEED_TEMPLATES

QUICK = {"duration": 5, "voiceover": False}  # a short silent render: the flow, not the craft, is tested here


def seed_status(api, video_id: str) -> str:
    answer = api.get(f"/api/videos/{video_id}")
    assert answer.status_code == 200
    return answer.get_json()["data"]["status"]


def refusal(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["success"] is False
    return body


def product_ids(workspace, *titles: str) -> list[str]:
    """New products' ids, as the API gives them."""
    return [str(make_product(workspace, title).id) for title in titles]


def run_until(app, worker: Worker, predicate) -> None:
    """The background ticks until ``predicate``. The API requests ran in the test's app context,
    whose session ends its transaction first: on SQLite it would hold the worker's write lock."""
    db.session.rollback()
    run_worker_until(app, predicate, worker=worker)


def stored(video_id: str) -> Video:
    db.session.rollback()
    video = db.session.get(Video, int(video_id))
    db.session.rollback()
    return video


# -------------------------------------------------------------------- flow ----


def test_the_seeds_flow_templates_create_generate_poll_usage_bulk(app, api, workspace):
    mug, lamp, desk = product_ids(workspace, "Trail Mug", "Desk Lamp", "Oak Desk")

    # 1. The template modal: the RCK shape, our six templates, which providers make each.
    templates = api.get("/api/videos/templates").get_json()
    assert templates["success"] is True and templates["error"] is None
    assert [t["id"] for t in templates["templates"]] == [t.key for t in SEED_TEMPLATES]
    assert all(t["providers"] == ["local"] for t in templates["templates"])
    showcase = templates["templates"][0]

    # 2. Create: a pending video, charged at once.
    created = api.post("/api/videos", json={"productId": mug, "template": showcase["id"],
                                            "customInstructions": "Keeps coffee hot for hours.", "options": QUICK,
                                            "metadata": {"campaign": "spring", "priority": 2}})
    assert created.status_code == 201
    video = created.get_json()["data"]
    assert video["status"] == "pending" and video["_id"] == video["id"] and video["productId"] == mug
    assert video["customInstructions"] == "Keeps coffee hot for hours."
    assert video["metadata"]["campaign"] == "spring" and video["metadata"]["videoUrl"] is None
    assert api.get("/api/videos/usage/stats").get_json()["data"] == {"used": 1, "limit": 30, "remaining": 29,
                                                                      "percentage": 3}

    # A pending video waits for its generate call: the worker does not touch it.
    worker = Worker(app)
    db.session.rollback()
    with app.app_context():
        worker.dispatch()
    assert seed_status(api, video["id"]) == "pending" and stored(video["id"]).status == "pending"

    # 3. Generate: pending -> generating; a second call is the seed's 400.
    started = api.post(f"/api/videos/{video['id']}/generate")
    assert started.status_code == 200 and started.get_json()["data"]["status"] == "generating"
    again = refusal(api.post(f"/api/videos/{video['id']}/generate"), 400)
    assert again["message"] == "Video not found or already generating"

    # 4. Poll until completed, as the seed's client does.
    run_until(app, worker, lambda: seed_status(api, video["id"]) in ("completed", "failed"))
    done = api.get(f"/api/videos/{video['id']}").get_json()["data"]
    assert done["status"] == "completed", done["error"]
    assert done["generatedDate"] and done["metadata"]["videoUrl"].endswith(f"/api/v1/media/videos/{video['id']}/video")
    assert done["metadata"]["duration"] == pytest.approx(5, abs=0.5) and done["metadata"]["format"] == "mp4"
    assert done["metadata"]["aiModel"] == "local" and done["metadata"]["campaign"] == "spring"
    assert api.get(urlsplit(done["metadata"]["videoUrl"]).path).data[4:8] == b"ftyp"  # the MP4, same token
    listed = api.get("/api/videos?status=completed").get_json()["data"]
    assert [v["id"] for v in listed["videos"]] == [video["id"]] and listed["pagination"]["total"] == 1

    # 5. Usage after the video: still one.
    assert api.get("/api/videos/usage/stats").get_json()["data"]["used"] == 1

    # 6. Bulk from the products page: {productIds, templateId, templateName}, queued at once.
    bulk = api.post("/api/videos/bulk-generate", json={
        "productIds": [lamp, desk], "templateId": showcase["id"], "templateName": showcase["name"],
        "options": QUICK})
    assert bulk.status_code == 200
    answer = bulk.get_json()
    assert answer["message"] == "2 videos queued"
    assert [(r["productId"], r["result"]) for r in answer["data"]["results"]] == [(lamp, "queued"), (desk, "queued")]
    bulk_ids = [r["videoId"] for r in answer["data"]["results"]]
    assert all(seed_status(api, video_id) == "generating" for video_id in bulk_ids)
    run_until(app, worker, lambda: all(seed_status(api, v) in ("completed", "failed") for v in bulk_ids))
    assert [seed_status(api, video_id) for video_id in bulk_ids] == ["completed", "completed"]
    assert api.get("/api/videos/usage/stats").get_json()["data"]["used"] == 3


def test_generate_for_product_queues_at_once(app, api, workspace):
    mug = make_product(workspace)
    answer = api.post("/api/videos/generate-for-product", json={
        "productId": mug.id, "templateId": "unboxing", "templateName": "Unboxing", "options": QUICK})
    assert answer.status_code == 200 and answer.get_json()["message"] == "Video generation started"
    video = answer.get_json()["data"]
    assert (video["status"], video["template"], video["templateName"]) == ("generating", "unboxing", "Unboxing")
    assert not stored(video["id"]).on_hold


# ------------------------------------------------------------- statuses ----


def test_the_seeds_four_statuses_filter_the_list(app, api, workspace):
    held, queued, canceled, started = (
        api.post("/api/videos", json={"productId": product_id, "template": "lifestyle", "options": QUICK})
        .get_json()["data"]["id"] for product_id in product_ids(workspace, "One", "Two", "Three", "Four"))
    for video_id in (queued, canceled, started):
        api.post(f"/api/videos/{video_id}/generate")
    api.post(f"/api/v1/videos/{canceled}/cancel")
    db.session.rollback()
    with app.app_context():  # one video starts rendering; the other waits its turn (one render slot)
        Worker(app).dispatch()
    by_status = {status: [v["id"] for v in api.get(f"/api/videos?status={status}").get_json()["data"]["videos"]]
                 for status in ("pending", "generating", "completed", "failed")}
    assert by_status["pending"] == [held]
    assert sorted(by_status["generating"]) == sorted([queued, started])
    assert by_status["failed"] == [canceled]
    failed = api.get(f"/api/videos/{canceled}").get_json()["data"]
    assert failed["error"] == "The video was canceled." and failed["metadata"]["failedAt"]
    assert refusal(api.get("/api/videos?status=canceled"), 400)["error"] == "invalid_parameter"


def test_a_canceled_pending_video_retried_is_queued_not_held_again(app, api, workspace):
    [product_id] = product_ids(workspace, "Mug")
    video_id = api.post("/api/videos", json={"productId": product_id, "template": "product_showcase",
                                             "options": QUICK}).get_json()["data"]["id"]
    api.post(f"/api/v1/videos/{video_id}/cancel")
    assert seed_status(api, video_id) == "failed" and quota.usage(workspace).used == 0
    assert api.post(f"/api/v1/videos/{video_id}/retry").status_code == 202
    assert seed_status(api, video_id) == "generating" and quota.usage(workspace).used == 1
    run_until(app, Worker(app), lambda: seed_status(api, video_id) in ("completed", "failed"))
    assert seed_status(api, video_id) == "completed"


# --------------------------------------------------------------- refusals ----


@pytest.mark.parametrize("body", [{}, {"productId": None}, {"productId": ""}], ids=["missing", "null", "empty"])
def test_a_video_without_a_product_is_the_seeds_400(api, workspace, body):
    answer = refusal(api.post("/api/videos", json={"template": "lifestyle", **body}), 400)
    assert (answer["message"], answer["field"]) == ("Product ID is required", "productId")


def test_an_unknown_or_another_workspaces_product_is_the_seeds_404(api, other_api, workspace):
    theirs = make_product(other_api.workspace, "Their Mug")
    for product_id in ("987654", str(theirs.id)):
        answer = refusal(api.post("/api/videos", json={"productId": product_id, "template": "lifestyle"}), 404)
        assert answer["message"] == "Product not found"
    assert quota.usage(workspace).used == 0


def test_the_limit_is_the_seeds_message_and_nothing_is_made(api, workspace):
    mug = make_product(workspace)
    db.session.add(UsagePeriod(workspace_id=workspace.id, period=quota.current_period(), used=30, last_grant=0))
    db.session.commit()
    for path, body in (("/api/videos", {"productId": str(mug.id), "template": "lifestyle"}),
                       ("/api/videos/generate-for-product", {"productId": str(mug.id), "templateId": "lifestyle"}),
                       ("/api/videos/bulk-generate", {"productIds": [str(mug.id)], "templateId": "lifestyle"})):
        answer = refusal(api.post(path, json=body), 429)
        assert "Video generation limit reached. You have used 30/30 videos for this billing period." in answer["message"]
    assert db.session.scalars(select(Video)).all() == []


def test_generate_refuses_what_is_not_waiting_with_the_seeds_words(api, other_api, workspace):
    mine = api.post("/api/videos", json={"productId": str(make_product(workspace).id), "template": "lifestyle"})
    video_id = mine.get_json()["data"]["id"]
    for path in ("/api/videos/987654/generate", "/api/videos/not-an-id/generate"):
        assert refusal(api.post(path), 400)["message"] == "Video not found or already generating"
    assert refusal(other_api.post(f"/api/videos/{video_id}/generate"), 400)["message"] == (
        "Video not found or already generating")
    assert seed_status(api, video_id) == "pending"  # another workspace's call changed nothing


def test_a_video_of_another_workspace_or_none_is_not_found(api, other_api, workspace):
    video_id = api.post("/api/videos", json={"productId": str(make_product(workspace).id), "template": "lifestyle"}) \
        .get_json()["data"]["id"]
    for client, path in ((other_api, f"/api/videos/{video_id}"), (api, "/api/videos/987654"),
                         (api, "/api/videos/64f1c0ffee")):
        for method in ("GET", "DELETE"):
            assert refusal(client.open(method, path), 404)["message"] == "Video not found"
    assert seed_status(api, video_id) == "pending"


def test_every_route_needs_the_api_token(api):
    for method, path in (("GET", "/api/videos"), ("GET", "/api/videos/templates"), ("GET", "/api/videos/usage/stats"),
                         ("POST", "/api/videos"), ("GET", "/api/videos/1"), ("PUT", "/api/videos/1"),
                         ("DELETE", "/api/videos/1"), ("POST", "/api/videos/1/generate"),
                         ("POST", "/api/videos/generate-for-product"), ("POST", "/api/videos/bulk-generate")):
        answer = refusal(api.open(method, path, token=NO_TOKEN), 401)
        assert answer["error"] == "unauthorized" and "Bearer" in answer["message"]
        assert refusal(api.open(method, path, token="rb_wrong"), 401)["message"] == (
            "The API token is invalid or has been revoked.")


def test_bulk_that_queues_nothing_says_why(api, workspace):
    no_photos = make_product(workspace, "Bare", images=0)
    answer = refusal(api.post("/api/videos/bulk-generate", json={"productIds": [str(no_photos.id), "987654"],
                                                                "templateId": "lifestyle"}), 400)
    assert answer["message"].startswith("No video was queued. This product has no images yet.")


# ------------------------------------------------------------------ update ----


def test_a_pending_video_can_change_its_template_and_instructions_not_a_started_one(api, workspace):
    mug = make_product(workspace)
    video = api.post("/api/videos", json={"productId": str(mug.id), "template": "lifestyle",
                                          "metadata": {"campaign": "spring"}}).get_json()["data"]
    changed = api.open("PUT", f"/api/videos/{video['id']}", json={
        "template": "unboxing", "customInstructions": "Opens with one pull. Recyclable box.",
        "metadata": {"campaign": "summer", "owner": "Ana"}})
    assert changed.status_code == 200
    data = changed.get_json()["data"]
    assert (data["template"], data["customInstructions"]) == ("unboxing", "Opens with one pull. Recyclable box.")
    assert data["metadata"]["campaign"] == "summer" and data["metadata"]["owner"] == "Ana"
    assert stored(video["id"]).script[0].startswith("Opens with one pull")  # the script follows the instructions

    for body, field in (({"status": "completed"}, "status"), ({"error": None}, "error")):
        answer = refusal(api.open("PUT", f"/api/videos/{video['id']}", json=body), 400)
        assert answer["field"] == field and "set by the generation" in answer["message"]
    ours = refusal(api.open("PUT", f"/api/videos/{video['id']}", json={"metadata": {"videoUrl": "x"}}), 400)
    assert ours["message"] == "metadata: videoUrl is filled in by the generation and cannot be set."

    api.post(f"/api/videos/{video['id']}/generate")
    late = refusal(api.open("PUT", f"/api/videos/{video['id']}", json={"template": "lifestyle"}), 400)
    assert late["field"] == "template" and "has started" in late["message"]
    assert api.open("PUT", f"/api/videos/{video['id']}", json={"metadata": {"campaign": "autumn"}}) \
        .get_json()["data"]["metadata"]["campaign"] == "autumn"
    assert stored(video["id"]).template_key == "unboxing"


def test_delete_answers_the_seeds_message_and_refunds_a_pending_video(api, workspace):
    video_id = api.post("/api/videos", json={"productId": str(make_product(workspace).id), "template": "lifestyle"}) \
        .get_json()["data"]["id"]
    answer = api.delete(f"/api/videos/{video_id}")
    assert answer.status_code == 200 and answer.get_json() == {"success": True, "message": "Video deleted successfully"}
    assert refusal(api.get(f"/api/videos/{video_id}"), 404)["message"] == "Video not found"
    assert quota.usage(workspace).used == 0


# --------------------------------------------------------------- templates ----


@pytest.fixture
def rck():
    server = RckFake(templates=[{"template_name": "studio_spin", "title": "Studio spin", "description": "360° turn",
                                 "youtube_id": "dQw4w9WgXcQ"}]).start()
    yield server
    server.stop()


def test_templates_add_rcks_own_when_configured_and_never_answer_503(app_factory, rck):
    app = app_factory(RCK_BASE_URL=rck.url)
    with app.app_context():
        workspace, user = make_workspace()
        _, token = accounts.create_token(user, workspace, "racky")
        api = ApiClient(app.test_client(), token, workspace)
        answer = api.get("/api/videos/templates").get_json()
        spin = answer["templates"][-1]
        assert (spin["id"], spin["name"], spin["provider"], spin["providers"]) == (
            "studio_spin", "Studio spin", "rck", ["rck"])
        assert spin["previewUrl"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
        assert answer["templates"][0]["providers"] == ["local", "rck"]  # RCK takes the seed's names too

        rck.stop()
        app.extensions.pop("reelboard.providers")  # a fresh process: nothing cached
        down = api.get("/api/videos/templates")
        assert down.status_code == 200
        body = down.get_json()
        assert body["success"] is True and "RCK Description Server is unreachable" in body["error"]
        assert [t["id"] for t in body["templates"]] == [t.key for t in SEED_TEMPLATES]
