"""The brand kit: Settings → Brand and /api/v1/brand change it, the logo keeps its transparency,
bad input changes nothing, another workspace's brand is out of reach, and every video's request
carries it (with the call to action the script ends on)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.conftest import make_product, video_request
from tests.integration.api_support import api_fixture, error_of, other_api_fixture  # noqa: F401
from webapp import media
from webapp.extensions import db
from webapp.generation import brand, service
from webapp.generation.requests import build_request, load_for_request
from webapp.models import BrandKit


def png(size=(64, 32), alpha=0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (200, 30, 60, alpha)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_new_workspace_wears_the_default_brand(api):
    body = api.get("/api/v1/brand").get_json()["data"]
    assert body | {"fonts": None} == {
        "primaryColor": "#1E2A44", "accentColor": "#F2B33D", "font": "manrope", "fonts": None, "logoUrl": None,
        "ctaText": "Shop now", "ctaUrl": None, "watermark": False,
    }
    assert {"manrope", "lato"} <= {font["key"] for font in body["fonts"]}


def test_a_put_changes_only_what_it_sends(api, workspace):
    first = api.put("/api/v1/brand", json={"primaryColor": "#112233", "ctaUrl": "https://shop.example.com/lamps"})
    assert first.status_code == 200
    second = api.put("/api/v1/brand", json={"ctaText": "Order today", "font": "lato"}).get_json()["data"]
    assert (second["primaryColor"], second["ctaUrl"], second["ctaText"], second["font"]) == (
        "#112233", "https://shop.example.com/lamps", "Order today", "lato")
    removed = api.put("/api/v1/brand", json={"ctaUrl": None}).get_json()["data"]
    assert removed["ctaUrl"] is None and removed["ctaText"] == "Order today"


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"primaryColor": "red"}, "primaryColor", "a colour like #1E2A44"),
    ({"font": "comic-sans"}, "font", "must be one of"),
    ({"ctaText": ""}, "ctaText", "must not be empty"),
    ({"ctaText": None}, "ctaText", "must be text"),
    ({"ctaUrl": "javascript:alert(1)"}, "ctaUrl", "http(s) URL"),
    ({"watermark": "yes"}, "watermark", "true or false"),
    ({"logo": "x"}, "logo", "not a field"),
])
def test_bad_brand_input_is_refused_naming_the_field_and_changes_nothing(api, workspace, body, field, words):
    response = api.put("/api/v1/brand", json=body)
    assert response.status_code == 400
    assert error_of(response)["field"] == field and words in error_of(response)["message"]
    assert db.session.get(BrandKit, workspace.id) is None


def test_a_transparent_logo_stays_transparent_and_can_be_removed(api, workspace):
    response = api.post("/api/v1/brand/logo", data={"logo": (io.BytesIO(png()), "logo.png")},
                        content_type="multipart/form-data")
    assert response.status_code == 200
    logo_url = response.get_json()["data"]["logoUrl"]
    served = api.get(logo_url.split("localhost", 1)[1])
    assert served.status_code == 200
    with Image.open(io.BytesIO(served.data)) as image:
        assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0
    key = db.session.get(BrandKit, workspace.id).logo_path
    assert api.delete("/api/v1/brand/logo").get_json()["data"]["logoUrl"] is None
    with pytest.raises(Exception):  # noqa: B017 - gone from storage, whichever backend
        media.open_reader(key).read()


@pytest.mark.parametrize(("data", "words"), [
    (b"", "Choose a PNG or JPEG"), (b"GIF89a\x01\x00", "not a readable"), (b"\x89PNG\r\n\x1a\n" + b"0" * 40, "not a readable"),
])
def test_a_file_that_is_not_a_png_or_jpeg_logo_is_refused(api, workspace, data, words):
    response = api.post("/api/v1/brand/logo", data={"logo": (io.BytesIO(data), "logo.png")},
                        content_type="multipart/form-data")
    assert response.status_code == 400 and words in error_of(response)["message"]
    assert error_of(response)["field"] == "logo"
    assert db.session.get(BrandKit, workspace.id) is None


def test_another_workspaces_brand_is_out_of_reach(api, other_api, workspace):
    api.post("/api/v1/brand/logo", data={"logo": (io.BytesIO(png()), "logo.png")}, content_type="multipart/form-data")
    api.put("/api/v1/brand", json={"ctaText": "Ours only"})
    assert other_api.get("/api/v1/brand").get_json()["data"]["ctaText"] == "Shop now"
    assert other_api.get("/api/v1/media/brand/logo").status_code == 404


def test_the_settings_page_saves_the_brand_and_shows_errors_beside_the_fields(client, workspace):
    page = client.get("/settings").get_data(as_text=True)
    assert 'id="brand-heading"' in page and 'type="color"' in page
    bad = client.post("/settings/brand", data={"primary_color": "#123", "accent_color": "#F2B33D", "font": "lato",
                                               "cta_text": "Buy"}, headers={"HX-Request": "true"})
    assert "Must be a colour like #1E2A44" in bad.get_data(as_text=True)
    assert db.session.get(BrandKit, workspace.id) is None
    good = client.post("/settings/brand", data={"primary_color": "#0E7490", "accent_color": "#F97316", "font": "lato",
                                                "cta_text": "Order today", "cta_url": "https://shop.example.com",
                                                "watermark": "y"}, headers={"HX-Request": "true"})
    assert "Brand saved" in good.get_data(as_text=True)
    kit = db.session.get(BrandKit, workspace.id)
    assert (kit.primary_color, kit.font, kit.cta_text, kit.watermark) == ("#0E7490", "lato", "Order today", True)


def test_the_brand_link_may_be_typed_without_https_in_settings(client, workspace):
    page = client.get("/settings").get_data(as_text=True)
    assert 'name="cta_text"' in page and 'maxlength="40"' in page  # the browser stops at the button's length
    saved = client.post("/settings/brand", data={"primary_color": "#0E7490", "accent_color": "#F97316", "font": "lato",
                                                 "cta_text": "Shop Mara's", "cta_url": "marasgoods.example.com/shop"},
                        headers={"HX-Request": "true"})
    assert "Brand saved" in saved.get_data(as_text=True)
    assert db.session.get(BrandKit, workspace.id).cta_url == "https://marasgoods.example.com/shop"


def test_the_brand_link_may_be_sent_without_https_to_the_api(api):
    answer = api.put("/api/v1/brand", json={"ctaUrl": "shop.example.com"}).get_json()["data"]
    assert answer["ctaUrl"] == "https://shop.example.com/"


@pytest.mark.parametrize(("data", "field", "words"), [
    ({"accent_color": "red"}, "accent_color", "Must be a colour like #1E2A44"),
    ({"primary_color": "#12"}, "primary_color", "Must be a colour like #1E2A44"),
    ({"cta_url": "ftp://shop"}, "cta_url", "Must be an http(s) URL"),
    ({"cta_url": "mailto:shop@example.com"}, "cta_url", "Must be an http(s) URL"),
])
def test_a_bad_brand_value_is_named_beside_its_own_field(client, workspace, data, field, words):
    form = {"primary_color": "#0E7490", "accent_color": "#F97316", "font": "lato", "cta_text": "Buy", **data}
    page = client.post("/settings/brand", data=form, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'<small class="field-error" id="{field}-error">{words}' in page
    assert page.count('aria-invalid="true"') == 1 and f'aria-describedby="{field}-error"' in page
    assert db.session.get(BrandKit, workspace.id) is None


def test_every_bad_brand_value_is_shown_beside_its_field_in_one_answer(client, workspace):
    form = {"primary_color": "#12", "accent_color": "red", "font": "comic-sans", "cta_text": "B" * 41,
            "cta_url": "ftp://shop"}
    page = client.post("/settings/brand", data=form, headers={"HX-Request": "true"}).get_data(as_text=True)
    for field, words in [("primary_color", "Must be a colour like #1E2A44"), ("accent_color", "Must be a colour like"),
                         ("font", "Must be one of"), ("cta_text", "Must be at most 40 characters"),
                         ("cta_url", "Must be an http(s) URL")]:
        assert f'<small class="field-error" id="{field}-error">{words}' in page, field
    assert page.count('aria-invalid="true"') == 5
    assert db.session.get(BrandKit, workspace.id) is None


def test_a_logo_picked_in_settings_is_uploaded_alone_and_swaps_only_the_logo(client, workspace):
    page = client.get("/settings").get_data(as_text=True)
    assert 'hx-trigger="change, submit"' in page and 'hx-target="#brand-logo"' in page
    answer = client.post("/settings/brand/logo", data={"logo": (io.BytesIO(png()), "logo.png")},
                         content_type="multipart/form-data", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert answer.lstrip().startswith("<div") and 'id="brand-logo"' in answer and "Logo saved" in answer
    assert 'id="brand-heading"' not in answer  # the colours' form, with what was typed, stays as it is
    assert db.session.get(BrandKit, workspace.id).logo_path
    refused = client.post("/settings/brand/logo", data={"logo": (io.BytesIO(b"GIF89a"), "logo.gif")},
                          content_type="multipart/form-data", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'id="logo-error"' in refused and "not a readable" in refused


def test_every_video_request_carries_the_brand_and_the_script_ends_on_its_call_to_action(app, workspace, owner):
    brand.update_brand(workspace, __import__("webapp.generation.contract", fromlist=["x"]).parse(
        __import__("webapp.generation.contract", fromlist=["x"]).BrandUpdate,
        {"ctaText": "Order today", "ctaUrl": "https://shop.example.com"}))
    product = make_product(workspace)
    video, _ = service.create_video(workspace, owner, video_request(product_id=product.id, template="lifestyle"))
    assert video.script[-1] == "Order today."
    request = build_request(load_for_request(video.id))
    assert (request.brand.cta_text, request.brand.cta_url, request.brand.font) == (
        "Order today", "https://shop.example.com/", "manrope")
