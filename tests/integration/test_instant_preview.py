"""Instant previews: a 3.5 s, 360p clip of the video the generate form (or POST /api/v1/previews)
describes, with the product and the brand, free of quota, made once for the same inputs, and
out of reach of other workspaces."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

import imageio_ffmpeg
import pytest

from tests.conftest import make_product
from tests.integration.api_support import api_fixture, error_of, other_api_fixture  # noqa: F401
from webapp.extensions import db
from webapp.generation import quota
from webapp.models import Video


def clip_facts(data: bytes, folder: Path) -> tuple[tuple[int, int], float]:
    """The clip's size in pixels and its length in seconds."""
    path = folder / "clip.mp4"
    path.write_bytes(data)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    reader.close()
    _frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    return tuple(meta["size"]), seconds


def test_the_api_answers_a_short_small_clip_that_costs_no_quota(api, workspace, tmp_path):
    product = make_product(workspace)
    used = quota.usage(workspace).used
    response = api.post("/api/v1/previews", json={"productId": product.id, "template": "product_showcase",
                                                   "options": {"aspectRatio": "9:16"},
                                                   "customInstructions": "Desk at night. USB-C charging."})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()["data"]
    clip = api.get(body["videoUrl"].removeprefix("http://localhost"))
    assert clip.status_code == 200 and clip.mimetype == "video/mp4"
    size, seconds = clip_facts(clip.data, tmp_path)
    assert size == (360, 640) and 3.0 <= seconds <= 4.0
    poster = api.get(body["posterUrl"].removeprefix("http://localhost"))
    assert poster.status_code == 200 and poster.mimetype == "image/jpeg"
    assert quota.usage(workspace).used == used
    assert db.session.query(Video).count() == 0


def test_the_same_request_answers_the_same_clip_and_a_change_makes_another(api, workspace):
    product = make_product(workspace)
    body = {"productId": product.id, "template": "lifestyle", "options": {"aspectRatio": "1:1"}}
    first = api.post("/api/v1/previews", json=body).get_json()["data"]
    again = api.post("/api/v1/previews", json=body).get_json()["data"]
    assert again == first
    other = api.post("/api/v1/previews", json={**body, "customInstructions": "Warm light for slow evenings."})
    assert other.get_json()["data"]["id"] != first["id"]


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"template": "product_showcase"}, 400, "productId"),
    ({"productId": 1, "template": "no_such_template"}, 400, "template"),
    ({"productId": 1, "template": "product_showcase", "options": {"aspectRatio": "4:3"}}, 400, "options.aspectRatio"),
    ({"productId": 999999, "template": "product_showcase"}, 404, None),
])
def test_bad_preview_requests_are_refused_naming_the_field(api, workspace, body, status, field):
    product = make_product(workspace)
    body = {**body, "productId": product.id} if body.get("productId") == 1 else body
    response = api.post("/api/v1/previews", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    if field:
        assert error_of(response)["field"] == field


def test_a_product_without_images_has_no_preview(api, workspace):
    product = make_product(workspace, images=0)
    response = api.post("/api/v1/previews", json={"productId": product.id, "template": "product_showcase"})
    assert response.status_code == 400 and error_of(response)["field"] == "productId"


def test_another_workspace_can_neither_preview_the_product_nor_read_the_clip(api, other_api, workspace):
    product = make_product(workspace)
    made = api.post("/api/v1/previews", json={"productId": product.id, "template": "unboxing"}).get_json()["data"]
    assert other_api.post("/api/v1/previews", json={"productId": product.id, "template": "unboxing"}).status_code == 404
    assert other_api.get(made["videoUrl"].removeprefix("http://localhost")).status_code == 404
    assert api.get("/api/v1/media/previews/" + "0" * 40 + "/video").status_code == 404
    assert api.get("/api/v1/media/previews/..%2f..%2fsecret/video").status_code == 404


def _clip_text(api, body: dict, folder: Path) -> str:
    """What tesseract reads, lower-cased, on the frames of the preview ``body`` asks for, every
    half second."""
    from tests.unit.test_speaking_video import frame_at, ocr

    answer = api.post("/api/v1/previews", json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    path = folder / "preview.mp4"
    path.write_bytes(api.get(answer.get_json()["data"]["videoUrl"].removeprefix("http://localhost")).data)
    return " ".join(ocr(frame_at(path, t, (640, 360)), folder) for t in (0.6, 1.1, 1.6, 2.1, 2.6)).lower()


@pytest.mark.skipif(not shutil.which("tesseract"), reason="needs Debian's tesseract-ocr")
def test_a_preview_with_a_voiceover_captions_the_script_as_the_video_will(api, workspace, tmp_path):
    product = make_product(workspace)
    body = {"productId": product.id, "template": "product_showcase",
            "options": {"script": ["Glow softly tonight.", "Pure beeswax candle."]}}
    spoken = _clip_text(api, body, tmp_path)
    assert "glow" in spoken and "softly" in spoken, spoken
    silent = _clip_text(api, {**body, "options": {**body["options"], "voiceover": False}}, tmp_path)
    assert "glow" not in silent and "softly" not in silent, silent


def test_the_generate_form_shows_the_preview_beside_its_button(client, workspace, tmp_path):
    product = make_product(workspace)
    page = client.get(f"/videos/new?product={product.id}").get_data(as_text=True)
    assert 'hx-post="/videos/preview"' in page and 'id="instant-preview"' in page
    form = {"product_id": str(product.id), "template": "technical_demo", "aspect_ratio": "16:9",
            "custom_instructions": "Three brightness levels.", "voiceover": "y", "music": "y"}
    answer = client.post("/videos/preview", data=form, headers={"HX-Request": "true"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'id="instant-preview"' in html and "<video" in html
    src = html.split('src="', 1)[1].split('"', 1)[0]
    clip = client.get(src)
    assert clip.status_code == 200
    assert clip_facts(clip.data, tmp_path)[0] == (640, 360)
    refused = client.post("/videos/preview", data={**form, "template": ""}, headers={"HX-Request": "true"})
    assert "field-error" in refused.get_data(as_text=True) and "<video" not in refused.get_data(as_text=True)
    refused = client.post("/videos/preview", data={**form, "duration": "60", "script": "word " * 130},
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    errors = [unescape(e) for e in re.findall(r'<small class="field-error"[^>]*>(.*?)</small>', refused)]
    # every problem at once, each named by its label, none by the contract's field path
    assert errors[0].startswith("Length (seconds): Must be between 5 and 30 seconds"), errors
    assert errors[1].startswith("Script: what the voiceover says, line by line: "), errors
    assert len(errors) == 2 and "options." not in refused


def test_the_template_picker_shows_previews_in_the_chosen_shape(client, api, workspace):
    from webapp import media
    from webapp.generation.templates import all_templates

    template = next(t for t in all_templates() if t.key == "store_display")
    media.write_atomically("previews/store_display-16x9.mp4", b"wide clip")
    media.write_atomically("previews/store_display-9x16.mp4", b"tall clip")
    template.preview_video_path = "previews/store_display-16x9.mp4"
    template.preview_files = {"9:16": {"preview": "previews/store_display-9x16.mp4", "poster": "previews/none.jpg"}}
    db.session.commit()
    picker = client.get("/templates/picker?aspect_ratio=9:16").get_data(as_text=True)
    assert "/media/templates/store_display/preview?aspect=9:16" in picker.replace("%3A", ":")
    assert client.get("/media/templates/store_display/preview?aspect=9:16").data == b"tall clip"
    assert client.get("/media/templates/store_display/preview?aspect=1:1").data == b"wide clip"
    assert client.get("/media/templates/store_display/preview").data == b"wide clip"
    assert api.get("/api/v1/media/templates/store_display/preview?aspect=9:16").data == b"tall clip"
    assert api.get("/api/v1/media/templates/store_display/preview?aspect=4:3").status_code == 400
