"""GET /api/video-generations/all: the storefront widget's listing, in the shape of seeds/000."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from tests.conftest import make_product
from tests.integration.api_support import (
    NO_TOKEN,
    api_fixture,  # noqa: F401 (fixture)
    completed_video,
    error_of,
    other_api_fixture,  # noqa: F401 (fixture)
    queue_video,
)
from webapp.extensions import db
from webapp.models import Video

URL = "/api/video-generations/all"


def test_the_shape_of_seeds_000_field_by_field(api, workspace, owner):
    product = make_product(workspace, "Linen Shirt", key="12345")
    video = completed_video(workspace, owner, product, "human_usage")

    response = api.get(f"{URL}?page=1&limit=1000&orderBy=createdAt&orderDirection=DESC")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"status", "data"}
    assert body["status"] == "success"
    assert set(body["data"]) == {"records", "pagination"}
    assert body["data"]["pagination"] == {
        "total": 1, "page": 1, "limit": 1000, "totalPages": 1, "hasNext": False, "hasPrev": False,
    }
    (record,) = body["data"]["records"]
    assert set(record) == {"id", "clothingKey", "productId", "status", "template", "videoUrl", "thumbnailUrl",
                           "createdAt", "updatedAt"}
    assert record["id"] == str(video.id)
    assert record["clothingKey"] == "12345"  # the product's external key, as a string
    assert record["productId"] == str(product.id)
    assert record["status"] == "completed"
    assert record["template"] == "human_usage"
    assert record["videoUrl"].endswith(f"/api/v1/media/videos/{video.id}/video")
    assert record["thumbnailUrl"].endswith(f"/api/v1/media/videos/{video.id}/poster")
    db.session.refresh(video)
    for moment, stored in ((record["createdAt"], video.created_at), (record["updatedAt"], video.updated_at)):
        assert moment.endswith("Z")  # stored times are naive UTC
        assert abs((datetime.fromisoformat(moment.removesuffix("Z")) - stored).total_seconds()) < 0.001


def test_what_the_widget_does_with_it(api, workspace, owner):
    """seeds/000: the set of clothing keys whose video is completed."""
    shirt, hat, scarf = (make_product(workspace, title, key=key) for title, key in
                         [("Shirt", "101"), ("Hat", "102"), ("Scarf", "103")])
    completed_video(workspace, owner, shirt)
    queue_video(workspace, owner, hat)
    queue_video(workspace, owner, scarf)
    records = api.get(f"{URL}?page=1&limit=1000").get_json()["data"]["records"]
    assert {r["clothingKey"] for r in records if r["status"] == "completed"} == {"101"}
    assert {r["clothingKey"] for r in records} == {"101", "102", "103"}


def test_defaults_and_pages(api, workspace, owner):
    product = make_product(workspace)
    videos = [queue_video(workspace, owner, product) for _ in range(3)]
    default = api.get(URL).get_json()["data"]
    assert default["pagination"] == {"total": 3, "page": 1, "limit": 50, "totalPages": 1, "hasNext": False, "hasPrev": False}
    assert [r["id"] for r in default["records"]] == [str(v.id) for v in reversed(videos)]  # created_at DESC

    second = api.get(f"{URL}?limit=2&page=2").get_json()["data"]
    assert [r["id"] for r in second["records"]] == [str(videos[0].id)]
    assert second["pagination"] == {"total": 3, "page": 2, "limit": 2, "totalPages": 2, "hasNext": False, "hasPrev": True}
    past = api.get(f"{URL}?page=5").get_json()["data"]
    assert past["records"] == [] and past["pagination"]["hasPrev"] is True


@pytest.mark.parametrize("direction", ["ASC", "asc", "Asc"])
def test_order_direction_is_case_insensitive(api, workspace, owner, direction):
    product = make_product(workspace)
    videos = [queue_video(workspace, owner, product) for _ in range(2)]
    for order_by in ("createdAt", "created_at"):
        records = api.get(f"{URL}?orderBy={order_by}&orderDirection={direction}").get_json()["data"]["records"]
        assert [r["id"] for r in records] == [str(v.id) for v in videos]


def test_order_by_updated_at(api, workspace, owner):
    product = make_product(workspace)
    older, newer = queue_video(workspace, owner, product), queue_video(workspace, owner, product)
    db.session.execute(update(Video).where(Video.id == older.id).values(updated_at=newer.updated_at + timedelta(minutes=5)))
    db.session.commit()
    for order_by in ("updatedAt", "updated_at"):
        records = api.get(f"{URL}?orderBy={order_by}&orderDirection=desc").get_json()["data"]["records"]
        assert [r["id"] for r in records] == [str(older.id), str(newer.id)]


def test_status_filter_with_processing_meaning_in_flight(api, workspace, owner):
    product = make_product(workspace)
    done = completed_video(workspace, owner, product)
    waiting = queue_video(workspace, owner, product)

    def ids(status):
        return [r["id"] for r in api.get(f"{URL}?status={status}").get_json()["data"]["records"]]

    assert ids("completed") == [str(done.id)]
    assert ids("processing") == [str(waiting.id)]
    assert ids("pending") == [str(waiting.id)]
    assert ids("failed") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=1001", "limit"), ("limit=0", "limit"), ("limit=lots", "limit"), ("page=0", "page"),
        ("page=-3", "page"), ("orderBy=title", "orderBy"), ("orderDirection=sideways", "orderDirection"),
        ("status=rendering", "status"), ("page=1e3", "page"),
    ],
)
def test_bad_parameters_are_refused(api, query, field):
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert error_of(response)["field"] == field
    assert field in error_of(response)["message"]


def test_only_the_tokens_workspace_is_listed(api, other_api, workspace, owner):
    queue_video(workspace, owner, make_product(workspace, key="mine"))
    queue_video(other_api.workspace, None, make_product(other_api.workspace, key="theirs"))
    assert [r["clothingKey"] for r in api.get(URL).get_json()["data"]["records"]] == ["mine"]
    assert [r["clothingKey"] for r in other_api.get(URL).get_json()["data"]["records"]] == ["theirs"]
    assert api.get(URL, token=NO_TOKEN).status_code == 401
