"""The JSON API /api/v1: authentication, products, templates, usage, videos, bulk, media and
errors. Every response is checked against the OpenAPI description by the ``api`` client."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import make_product
from tests.integration.api_support import (
    NO_TOKEN,
    api_fixture,  # noqa: F401 (fixture)
    completed_video,
    error_of,
    other_api_fixture,  # noqa: F401 (fixture)
    queue_video,
)
from webapp import accounts
from webapp.extensions import db
from webapp.generation import quota
from webapp.models import ApiToken, Membership, Video, VideoStatus, utcnow

SECURED = [
    ("GET", "/api/v1/products"), ("GET", "/api/v1/products/1"), ("GET", "/api/v1/templates"), ("GET", "/api/v1/usage"),
    ("GET", "/api/v1/videos"), ("POST", "/api/v1/videos"), ("POST", "/api/v1/videos/bulk"), ("GET", "/api/v1/videos/1"),
    ("DELETE", "/api/v1/videos/1"), ("POST", "/api/v1/videos/1/cancel"), ("POST", "/api/v1/videos/1/retry"),
    ("GET", "/api/v1/media/videos/1/video"), ("GET", "/api/v1/media/images/1"), ("GET", "/api/video-generations/all"),
]


def video_count() -> int:
    return db.session.scalar(select(func.count(Video.id)))


# -------------------------------------------------------------- auth ----


@pytest.mark.parametrize(("method", "url"), SECURED)
def test_every_endpoint_needs_a_bearer_token(api, method, url):
    missing = api.open(method, url, token=NO_TOKEN)
    assert missing.status_code == 401
    assert error_of(missing)["code"] == "unauthorized"
    assert "Bearer" in error_of(missing)["message"]
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")

    wrong = api.open(method, url, token="rb_not-a-real-token")
    assert wrong.status_code == 401
    assert error_of(wrong)["message"] == "The API token is invalid or has been revoked."

    basic = api.open(method, url, token=NO_TOKEN, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


def test_a_revoked_token_stops_working(api, workspace):
    assert api.get("/api/v1/usage").status_code == 200
    token = db.session.scalar(select(ApiToken).filter_by(workspace_id=workspace.id))
    assert accounts.revoke_token(workspace, token.id)
    response = api.get("/api/v1/usage")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_a_token_stops_working_when_its_user_leaves_the_workspace(api, workspace, owner):
    db.session.execute(db.delete(Membership).filter_by(user_id=owner.id, workspace_id=workspace.id))
    db.session.commit()
    assert api.get("/api/v1/usage").status_code == 401


def test_a_request_records_when_the_token_was_last_used(api, workspace):
    token = db.session.scalar(select(ApiToken).filter_by(workspace_id=workspace.id))
    assert token.last_used_at is None
    api.get("/api/v1/usage")
    db.session.refresh(token)
    assert utcnow() - token.last_used_at < timedelta(minutes=1)


def test_the_description_is_public(api):
    response = api.get("/api/v1/openapi.json", token=NO_TOKEN)
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.1")


def test_answers_allow_cross_origin_reads(api):
    response = api.get("/api/v1/usage")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = api.client.options("/api/v1/videos", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]


# ---------------------------------------------------------- products ----


def test_products_list_with_every_field(api, workspace, owner):
    mug = make_product(workspace, "Trail Mug", key="trail-mug", price="19.50")
    mug.compare_at_price, mug.url = Decimal("24.00"), "https://shop.example.com/products/trail-mug"
    make_product(workspace, "Lamp", images=0, key="lamp", price=None)
    completed_video(workspace, owner, mug, "lifestyle")

    response = api.get("/api/v1/products")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["pagination"] == {"total": 2, "page": 1, "limit": 20, "totalPages": 1, "hasNext": False, "hasPrev": False}
    lamp, listed = data["products"]  # ordered by title
    assert lamp["title"] == "Lamp" and lamp["price"] is None and lamp["images"] == [] and lamp["url"] is None
    assert listed["id"] == mug.id
    assert listed["externalKey"] == "trail-mug"
    assert listed["sku"] == "SKU-1"
    assert listed["price"] == "19.50" and listed["compareAtPrice"] == "24.00"
    assert listed["url"] == "https://shop.example.com/products/trail-mug"
    assert listed["description"] == mug.description
    assert listed["videoTemplates"] == ["lifestyle"]
    assert [i["position"] for i in listed["images"]] == [0, 1]
    assert {i["status"] for i in listed["images"]} == {"ok"}
    assert listed["createdAt"].endswith("Z")


def test_product_image_urls_are_readable_with_the_same_token(api, other_api, workspace):
    product = make_product(workspace, "Mug")
    url = api.get(f"/api/v1/products/{product.id}").get_json()["data"]["images"][0]["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]

    image = api.get("/" + path)
    assert image.status_code == 200
    assert image.mimetype == "image/jpeg"
    assert image.data[:2] == b"\xff\xd8"
    assert api.get("/" + path, token=NO_TOKEN).status_code == 401
    assert other_api.get("/" + path).status_code == 404


def test_products_search_and_pages(api, workspace):
    for index in range(5):
        make_product(workspace, f"Mug {index}", key=f"mug-{index}")
    make_product(workspace, "Lamp", key="desk-lamp")

    page = api.get("/api/v1/products?limit=2&page=2").get_json()["data"]
    assert [p["title"] for p in page["products"]] == ["Mug 1", "Mug 2"]  # after Lamp, Mug 0
    assert page["pagination"] == {"total": 6, "page": 2, "limit": 2, "totalPages": 3, "hasNext": True, "hasPrev": True}
    assert [p["title"] for p in api.get("/api/v1/products?search=desk").get_json()["data"]["products"]] == ["Lamp"]
    past_the_end = api.get("/api/v1/products?page=9").get_json()["data"]
    assert past_the_end["products"] == [] and past_the_end["pagination"]["total"] == 6


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("page=0", "page", "page must be at least 1."),
        ("page=-1", "page", "page must be at least 1."),
        ("page=abc", "page", "page must be a whole number, not 'abc'."),
        ("page=1.5", "page", "page must be a whole number, not '1.5'."),
        ("page=99999999999999999999999", "page", "page must be at most 100000."),
        ("limit=0", "limit", "limit must be at least 1."),
        ("limit=101", "limit", "limit must be at most 100."),
        ("limit=abc", "limit", "limit must be a whole number, not 'abc'."),
        ("limit=", "limit", "limit must be a whole number, not ''."),
        ("search=" + "x" * 201, "search", "search must be at most 200 characters."),
        ("search=a%00b", "search", "search must not contain NUL characters."),
    ],
)
def test_bad_list_parameters_are_refused_naming_the_parameter(api, query, field, message):
    response = api.get(f"/api/v1/products?{query}")
    assert response.status_code == 400
    assert error_of(response) == {"code": "invalid_parameter", "field": field, "message": message}


def test_another_workspaces_product_is_not_found(api, other_api, workspace):
    product = make_product(workspace, "Mug")
    assert api.get(f"/api/v1/products/{product.id}").status_code == 200
    response = other_api.get(f"/api/v1/products/{product.id}")
    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "field": "productId", "message": "Product not found."}
    assert other_api.get("/api/v1/products").get_json()["data"]["products"] == []
    for missing in ("999999", "abc", "0", "-1", "2147483648", "99999999999999999999999999"):
        assert api.get(f"/api/v1/products/{missing}").status_code == 404


# ---------------------------------------------------- templates, usage ----


def test_templates_are_the_six_of_the_seed(api):
    templates = api.get("/api/v1/templates").get_json()["data"]["templates"]
    assert [t["key"] for t in templates] == [
        "product_showcase", "human_usage", "store_display", "lifestyle", "technical_demo", "unboxing",
    ]
    assert all(t["name"] and t["description"] for t in templates)


def test_usage_counts_the_videos_of_this_month(api, workspace, owner):
    assert api.get("/api/v1/usage").get_json() == {"data": {"used": 0, "limit": 30, "remaining": 30, "percentage": 0}}
    product = make_product(workspace)
    for _ in range(3):
        queue_video(workspace, owner, product)
    assert api.get("/api/v1/usage").get_json()["data"] == {"used": 3, "limit": 30, "remaining": 27, "percentage": 10}


# ------------------------------------------------------------ videos ----


def test_create_a_video(api, workspace):
    product = make_product(workspace)
    response = api.post("/api/v1/videos", json={
        "productId": product.id, "template": "lifestyle", "customInstructions": "  Sunny kitchen.  ",
        "options": {"aspectRatio": "9:16", "duration": 12, "music": True, "captions": ["Hello", "Buy now"]},
    })
    assert response.status_code == 202
    video = response.get_json()["data"]
    assert response.headers["Location"] == f"/api/v1/videos/{video['id']}"
    assert video["productId"] == product.id
    assert video["template"] == "lifestyle"
    assert video["status"] == "pending"
    assert video["queuePosition"] == 1
    assert video["customInstructions"] == "Sunny kitchen."
    assert video["options"]["aspectRatio"] == "9:16" and video["options"]["duration"] == 12
    assert video["options"]["captions"] == ["Hello", "Buy now"]  # spread over the video when it is made
    assert video["videoUrl"] is None and video["generatedAt"] is None
    assert quota.usage(workspace).used == 1
    assert api.get(f"/api/v1/videos/{video['id']}").get_json()["data"]["id"] == video["id"]


LONG_SAYING = ("Desk at night, with the lamp turned down low. USB-C charging for a phone and a laptop. "
               "Three brightness levels, from reading to a glow.")


def test_words_the_voice_cannot_say_in_the_chosen_length_are_refused_before_anything_is_charged(api, workspace):
    product = make_product(workspace)
    body = {"productId": product.id, "template": "lifestyle", "customInstructions": LONG_SAYING}
    response = api.post("/api/v1/videos", json={**body, "options": {"duration": 5}})
    assert response.status_code == 400
    error = error_of(response)
    assert error["field"] == "options.duration"
    assert "a 5 s video has room for 2.6 s of speech" in error["message"] and "Choose a longer video" in error["message"]
    bulk = api.post("/api/v1/videos/bulk", json={"productIds": [product.id], "template": "lifestyle",
                                                 "customInstructions": LONG_SAYING, "options": {"duration": 5}})
    assert bulk.status_code == 400 and error_of(bulk)["field"] == "options.duration"
    assert video_count() == 0 and quota.usage(workspace).used == 0
    # as long as its voice, or without a voice, the same words are taken
    assert api.post("/api/v1/videos", json=body).status_code == 202
    assert api.post("/api/v1/videos", json={**body, "options": {"duration": 5, "voiceover": False}}).status_code == 202


def test_a_short_video_says_the_hook_and_as_much_of_the_written_script_as_fits(api, workspace):
    product = make_product(workspace)
    scripts = {duration: api.post("/api/v1/videos", json={
        "productId": product.id, "template": "lifestyle", "options": {"duration": duration} if duration else {},
    }).get_json()["data"]["script"] for duration in (5, 10, None)}
    assert scripts[None] == ["Meet the Trail Mug.", "Sturdy enamel mug.", "Holds 350 ml.", "Just $19.", "Shop now."]
    assert scripts[10] == ["Meet the Trail Mug.", "Sturdy enamel mug.", "Just $19.", "Shop now."]  # the price stays
    assert scripts[5] == ["Meet the Trail Mug.", "Shop now."]


BAD_VIDEO_BODIES = [
    ({"template": "lifestyle"}, "productId", "productId is required."),
    ({"productId": 1}, "template", "template is required."),
    ({"productId": "1", "template": "lifestyle"}, "productId", "productId must be a whole number."),
    ({"productId": 0, "template": "lifestyle"}, "productId", "productId must be at least 1."),
    ({"productId": 10**30, "template": "lifestyle"}, "productId", "productId must be at most 2147483647."),
    ({"productId": True, "template": "lifestyle"}, "productId", "productId must be a whole number."),
    ({"productId": 1, "template": "cinematic"}, "template", None),
    ({"productId": 1, "template": "lifestyle", "customInstructions": "x" * 501}, "customInstructions",
     "customInstructions must be at most 500 characters."),
    ({"productId": 1, "template": "lifestyle", "customInstructions": 5}, "customInstructions", None),
    ({"productId": 1, "template": "lifestyle", "options": {"duration": 31}}, "options.duration",
     "options.duration must be between 5 and 30 seconds."),
    ({"productId": 1, "template": "lifestyle", "options": {"duration": "ten"}}, "options.duration",
     "options.duration must be a whole number."),
    ({"productId": 1, "template": "lifestyle", "options": {"aspectRatio": "4:3"}}, "options.aspectRatio", None),
    ({"productId": 1, "template": "lifestyle", "options": {"resolution": "4k"}}, "options.resolution",
     "options.resolution must be one of: 720p or 1080p."),
    ({"productId": 1, "template": "lifestyle", "options": {"music": "yes"}}, "options.music",
     "options.music must be true or false."),
    ({"productId": 1, "template": "lifestyle", "options": {"captions": "Hello"}}, "options.captions",
     "options.captions must be a list."),
    ({"productId": 1, "template": "lifestyle", "options": {"captions": ["x" * 121]}}, "options.captions[0]", None),
    ({"productId": 1, "template": "lifestyle", "options": {"captions": ["Hi"] * 21}}, "options.captions",
     "options.captions must have at most 20 captions."),
    ({"productId": 1, "template": "lifestyle", "options": []}, "options", "options must be an object."),
    ({"productId": 1, "template": "lifestyle", "color": "red"}, "color", "color is not a field this request accepts."),
]


@pytest.mark.parametrize(("body", "field", "message"), BAD_VIDEO_BODIES)
def test_bad_video_input_is_refused_naming_the_field_and_changes_nothing(api, workspace, body, field, message):
    make_product(workspace)  # id 1, with images
    response = api.post("/api/v1/videos", json=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["field"] == field
    if message:
        assert error["message"] == message
    assert field.split(".")[0].split("[")[0] in error["message"]
    assert video_count() == 0
    assert quota.usage(workspace).used == 0


def test_a_body_with_several_wrong_fields_is_answered_with_each_of_them(api, workspace):
    make_product(workspace)
    response = api.post("/api/v1/videos", json={
        "productId": 0, "template": "lifestyle", "customInstructions": "x" * 501,
        "options": {"duration": 31, "music": "yes", "captions": ["ok", "x" * 121]},
    })
    assert response.status_code == 400
    error = error_of(response)
    problems = {problem["field"]: problem["message"] for problem in error["problems"]}
    assert set(problems) == {"productId", "customInstructions", "options.duration", "options.music",
                             "options.captions[1]"}
    assert (error["field"], error["message"]) == next(iter(problems.items()))  # the first, as ever
    assert problems["productId"] == "productId must be at least 1."
    assert problems["options.duration"] == "options.duration must be between 5 and 30 seconds."
    assert problems["options.music"] == "options.music must be true or false."
    assert video_count() == 0
    one = error_of(api.post("/api/v1/videos", json={"productId": 0, "template": "lifestyle"}))
    assert "problems" not in one  # one wrong field: the error names it, as ever


@pytest.mark.parametrize(
    ("data", "content_type", "status", "message"),
    [
        ("{not json", "application/json", 400, "The body is not valid JSON"),
        ("[1, 2]", "application/json", 400, "The body must be an object."),
        ("", "application/json", 400, "Send a JSON object as the request body."),
        ('"\\ud800"', "application/json", 400, "The body is not valid JSON"),
        ("productId=1", "application/x-www-form-urlencoded", 415, "Send the body as JSON"),
        (b"\xff\xfe{", "application/json", 400, "The body is not valid JSON"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(api, data, content_type, status, message):
    response = api.post("/api/v1/videos", data=data, content_type=content_type)
    assert response.status_code == status
    assert error_of(response)["message"].startswith(message)
    assert video_count() == 0


def test_a_product_without_images_cannot_get_a_video(api, workspace):
    product = make_product(workspace, images=0)
    response = api.post("/api/v1/videos", json={"productId": product.id, "template": "lifestyle"})
    assert response.status_code == 400
    assert error_of(response)["field"] == "productId"
    assert "no images" in error_of(response)["message"]


def test_another_workspaces_product_cannot_get_a_video(other_api, workspace):
    product = make_product(workspace)
    response = other_api.post("/api/v1/videos", json={"productId": product.id, "template": "lifestyle"})
    assert response.status_code == 404
    assert video_count() == 0


def test_idempotency_key_returns_the_first_video(api, workspace):
    product = make_product(workspace)
    body = {"productId": product.id, "template": "lifestyle"}
    first = api.post("/api/v1/videos", json=body, headers={"Idempotency-Key": "order-42"})
    again = api.post("/api/v1/videos", json=body, headers={"Idempotency-Key": "order-42"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.get_json()["data"]["id"] == first.get_json()["data"]["id"]
    assert video_count() == 1 and quota.usage(workspace).used == 1

    different = api.post("/api/v1/videos", json={**body, "template": "unboxing"}, headers={"Idempotency-Key": "order-42"})
    assert different.status_code == 422
    assert error_of(different)["code"] == "idempotency_conflict"
    too_long = api.post("/api/v1/videos", json=body, headers={"Idempotency-Key": "k" * 256})
    assert too_long.status_code == 400
    assert error_of(too_long)["field"] == "Idempotency-Key"
    assert video_count() == 1


def test_a_bulk_retried_with_its_idempotency_key_queues_nothing_twice(api, workspace):
    products = [make_product(workspace, f"Mug {n}") for n in range(3)]
    body = {"productIds": [p.id for p in products], "template": "lifestyle"}
    first = api.post("/api/v1/videos/bulk", json=body, headers={"Idempotency-Key": "nightly-2026-11-27"})
    again = api.post("/api/v1/videos/bulk", json=body, headers={"Idempotency-Key": "nightly-2026-11-27"})
    assert first.status_code == again.status_code == 202
    assert again.get_json() == first.get_json()
    assert first.get_json()["data"]["summary"]["queued"] == 3
    assert video_count() == 3 and quota.usage(workspace).used == 3

    different = api.post("/api/v1/videos/bulk", json={**body, "template": "unboxing"},
                         headers={"Idempotency-Key": "nightly-2026-11-27"})
    assert different.status_code == 422 and error_of(different)["code"] == "idempotency_conflict"
    fresh = api.post("/api/v1/videos/bulk", json=body, headers={"Idempotency-Key": "nightly-2026-11-28"})
    assert fresh.get_json()["data"]["summary"]["queued"] == 3  # another key is another request
    assert video_count() == 6


def test_the_quota_limit_answers_429_with_the_seed_message(app, api, workspace, owner):
    app.config["PLAN_LIMITS"] = {**app.config["PLAN_LIMITS"], "junior": 2}
    product = make_product(workspace)
    for _ in range(2):
        assert api.post("/api/v1/videos", json={"productId": product.id, "template": "lifestyle"}).status_code == 202
    response = api.post("/api/v1/videos", json={"productId": product.id, "template": "lifestyle"})
    assert response.status_code == 429
    assert error_of(response) == {
        "code": "quota_exceeded",
        "message": "Video generation limit reached. You have used 2/2 videos for this billing period. "
                   "Upgrade your plan or wait for the next period to generate more videos.",
    }
    assert video_count() == 2


def test_list_videos_filters_sorts_and_pages(api, other_api, workspace, owner):
    mug, lamp = make_product(workspace, "Mug"), make_product(workspace, "Desk Lamp")
    done = completed_video(workspace, owner, mug)
    waiting = [queue_video(workspace, owner, lamp) for _ in range(3)]
    queue_video(other_api.workspace, None, make_product(other_api.workspace, "Theirs"))

    everything = api.get("/api/v1/videos").get_json()["data"]
    assert everything["pagination"]["total"] == 4
    assert [v["id"] for v in everything["videos"]] == [w.id for w in reversed(waiting)] + [done.id]
    assert [v["queuePosition"] for v in everything["videos"]] == [3, 2, 1, None]

    def ids(query):
        return [v["id"] for v in api.get(f"/api/v1/videos?{query}").get_json()["data"]["videos"]]

    assert ids("status=completed") == [done.id]
    assert ids(f"productId={lamp.id}") == [w.id for w in reversed(waiting)]
    assert ids("search=lamp&sortOrder=asc") == [w.id for w in waiting]
    assert ids("sortBy=generatedDate")[0] == done.id  # not started yet sorts last
    assert ids("limit=2&page=2") == [waiting[0].id, done.id]
    assert ids("page=3&limit=2") == []
    for query, field in [("status=done", "status"), ("sortBy=title", "sortBy"), ("sortOrder=up", "sortOrder"),
                         ("productId=x", "productId"), ("limit=1000", "limit")]:
        response = api.get(f"/api/v1/videos?{query}")
        assert response.status_code == 400 and error_of(response)["field"] == field


def test_a_completed_videos_files_are_readable_with_the_same_token(api, other_api, workspace, owner):
    video = completed_video(workspace, owner, make_product(workspace))
    data = api.get(f"/api/v1/videos/{video.id}").get_json()["data"]
    assert data["status"] == "completed" and data["progress"] == 100
    assert data["resolution"] == "1280x720" and data["duration"] == 8.0
    assert data["completedAt"].endswith("Z") and data["generatedAt"].endswith("Z")
    for url in (data["videoUrl"], data["thumbnailUrl"]):
        path = "/" + url.split("://", 1)[1].split("/", 1)[1]
        assert api.get(path).status_code == 200
        assert other_api.get(path).status_code == 404
    assert api.get("/" + data["videoUrl"].split("/", 3)[3]).data.startswith(b"\x00\x00\x00\x18ftyp")


def test_cancel_retry_and_delete(api, workspace, owner):
    video = queue_video(workspace, owner, make_product(workspace))
    canceled = api.post(f"/api/v1/videos/{video.id}/cancel")
    assert canceled.status_code == 200
    assert canceled.get_json()["data"]["status"] == "canceled"
    assert quota.usage(workspace).used == 0  # refunded

    again = api.post(f"/api/v1/videos/{video.id}/cancel")
    assert again.status_code == 409
    assert error_of(again)["code"] == "invalid_state"

    retried = api.post(f"/api/v1/videos/{video.id}/retry")
    assert retried.status_code == 202
    assert retried.get_json()["data"]["status"] == "pending"
    assert quota.usage(workspace).used == 1
    assert api.post(f"/api/v1/videos/{video.id}/retry").status_code == 409

    assert api.delete(f"/api/v1/videos/{video.id}").status_code == 204
    assert api.get(f"/api/v1/videos/{video.id}").status_code == 404
    assert api.delete(f"/api/v1/videos/{video.id}").status_code == 404
    assert quota.usage(workspace).used == 0  # it was in flight: canceled and refunded first


def test_another_workspaces_video_is_not_found_for_any_action(api, other_api, workspace, owner):
    video = queue_video(workspace, owner, make_product(workspace))
    for method, url in [("GET", ""), ("POST", "/cancel"), ("POST", "/retry"), ("DELETE", "")]:
        response = other_api.open(method, f"/api/v1/videos/{video.id}{url}")
        assert response.status_code == 404
        assert error_of(response) == {"code": "not_found", "field": "id", "message": "Video not found."}
    db.session.refresh(video)
    assert video.status == VideoStatus.PENDING.value


# -------------------------------------------------------------- bulk ----


def test_bulk_reports_each_product(app, api, other_api, workspace, owner):
    app.config["PLAN_LIMITS"] = {**app.config["PLAN_LIMITS"], "junior": 3}
    with_video, no_images = make_product(workspace, "Done"), make_product(workspace, "Bare", images=0)
    fresh = [make_product(workspace, f"Fresh {i}") for i in range(3)]
    completed_video(workspace, owner, with_video, "lifestyle")  # uses 1 of 3
    theirs = make_product(other_api.workspace, "Theirs")

    ids = [with_video.id, no_images.id, theirs.id, 999999, *[p.id for p in fresh], fresh[0].id]
    response = api.post("/api/v1/videos/bulk", json={"productIds": ids, "template": "lifestyle"})
    assert response.status_code == 202
    data = response.get_json()["data"]
    results = {r["productId"]: r for r in data["results"]}
    assert [r["productId"] for r in data["results"]] == ids[:-1]  # a repeated id is answered once
    assert results[with_video.id]["result"] == "skipped_existing"
    assert results[no_images.id]["result"] == "invalid" and "no images" in results[no_images.id]["reason"]
    assert results[theirs.id] == {"productId": theirs.id, "result": "invalid", "videoId": None, "productTitle": None,
                                  "reason": "Product not found."}
    assert results[999999]["result"] == "invalid"
    queued = [results[p.id] for p in fresh[:2]]
    assert all(r["result"] == "queued" and r["videoId"] for r in queued)
    assert results[fresh[2].id]["result"] == "over_quota"
    assert results[fresh[2].id]["reason"].startswith("Video generation limit reached. You have used 3/3")
    assert data["summary"] == {"queued": 2, "skippedExisting": 1, "overQuota": 1, "invalid": 3}
    assert quota.usage(workspace).used == 3
    assert api.get(f"/api/v1/videos/{queued[0]['videoId']}").get_json()["data"]["status"] == "pending"


def test_bulk_without_skipping_existing_makes_another(api, workspace, owner):
    product = make_product(workspace)
    completed_video(workspace, owner, product, "lifestyle")
    response = api.post("/api/v1/videos/bulk", json={"productIds": [product.id], "template": "lifestyle", "skipExisting": False})
    assert response.get_json()["data"]["results"][0]["result"] == "queued"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"productIds": [], "template": "lifestyle"}, "productIds"),
        ({"productIds": list(range(1, 10_002)), "template": "lifestyle"}, "productIds"),
        ({"productIds": "1,2", "template": "lifestyle"}, "productIds"),
        ({"productIds": ["1"], "template": "lifestyle"}, "productIds[0]"),
        ({"productIds": [1, -5], "template": "lifestyle"}, "productIds[1]"),
        ({"productIds": [1], "template": "nope"}, "template"),
        ({"productIds": [1], "template": "lifestyle", "skipExisting": "no"}, "skipExisting"),
        ({"productIds": [1], "template": "lifestyle", "options": {"duration": 2}}, "options.duration"),
        ({"template": "lifestyle"}, "productIds"),
    ],
)
def test_bad_bulk_input_is_refused(api, workspace, body, field):
    make_product(workspace)
    response = api.post("/api/v1/videos/bulk", json=body)
    assert response.status_code == 400
    assert error_of(response)["field"] == field
    assert video_count() == 0


# ------------------------------------------------------------ errors ----


def test_unknown_paths_and_methods_answer_json(api):
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    assert api.get("/api/v1/nothing-here", token=NO_TOKEN).status_code == 404
    wrong_method = api.open("PUT", "/api/v1/videos")
    assert wrong_method.status_code == 405
    assert error_of(wrong_method)["code"] == "method_not_allowed"
    assert set(wrong_method.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_an_unexpected_failure_answers_json_500(app, api, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(workspace):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(quota, "usage", broken)
    response = api.client.get("/api/v1/usage", headers={"Authorization": f"Bearer {api.token}"})
    assert response.status_code == 500
    assert response.get_json() == {"error": {
        "code": "internal_error", "message": "Something went wrong on our side. It has been logged; try again later."}}
    assert "fire" not in response.get_data(as_text=True)
