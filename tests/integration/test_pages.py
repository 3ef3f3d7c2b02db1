"""The HTML pages and fragments: full page without HX-Request, the region with it; the one-poll
live status; row actions over htmx."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.conftest import make_product, video_request
from tests.integration.engine_helpers import fresh
from tests.integration.test_catalog import field_error
from webapp.extensions import db
from webapp.generation import quota, service
from webapp.generation.lifecycle import record_progress, transition
from webapp.models import ImageStatus, ProductImage, Video, VideoStatus

HTMX = {"HX-Request": "true"}


def queue(workspace, owner, product, **kwargs):
    video, _ = service.create_video(workspace, owner, video_request(product_id=product.id, template="unboxing", **kwargs))
    return fresh(video.id)


def test_the_same_url_gives_the_page_or_the_fragment(client, workspace, owner):
    queue(workspace, owner, make_product(workspace))
    page = client.get("/videos?status=pending")
    fragment = client.get("/videos?status=pending", headers=HTMX)
    assert "<html" in page.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="video-list"')
    for response in (page, fragment):
        assert "HX-Request" in response.headers["Vary"]


def test_the_poller_exists_only_while_something_is_in_flight(client, workspace, owner):
    video = queue(workspace, owner, make_product(workspace))
    assert 'hx-trigger="every 2s, rb-visible"' in client.get("/videos").get_data(as_text=True)
    service.cancel_video(workspace, video.id)
    assert 'hx-trigger="every 2s, rb-visible"' not in client.get("/videos").get_data(as_text=True)


def test_one_poll_answers_only_the_rows_that_changed(client, workspace, owner):
    product = make_product(workspace)
    first, second, third = (queue(workspace, owner, product) for _ in range(3))
    page = client.get("/videos").get_data(as_text=True)
    watch = page.split("watch=")[1].split('"')[0].replace("&amp;", "&")
    from urllib.parse import unquote

    watch = unquote(watch)
    assert client.get(f"/videos/poll?view=list&watch={watch}", headers=HTMX).status_code == 204

    transition(fresh(first.id), VideoStatus.GENERATING, "started")
    record_progress(first.id, 40, "Rendering 40%")
    response = client.get(f"/videos/poll?view=list&watch={watch}", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="video-{first.id}"' in body and "Rendering 40%" in body
    # the others moved up the queue, so their rows changed too; the poller comes back with new stamps
    assert body.count('hx-swap-oob="true"') == body.count("<tr ") + 1
    new_watch = unquote(body.split("watch=")[1].split('"')[0].replace("&amp;", "&"))
    assert client.get(f"/videos/poll?view=list&watch={new_watch}", headers=HTMX).status_code == 204

    for video in (first, second, third):
        service.cancel_video(workspace, video.id)
    response = client.get(f"/videos/poll?view=list&watch={new_watch}", headers=HTMX)
    body = response.get_data(as_text=True)
    assert 'id="poller"' in body and "every 2s" not in body  # nothing in flight: polling stops
    assert response.headers["HX-Trigger"] == "usage-changed, videos-finished"


def test_another_workspaces_videos_are_not_polled(client, workspace, owner):
    from tests.conftest import make_workspace

    other, other_owner = make_workspace("Other", email="other@example.com")
    theirs = queue(other, other_owner, make_product(other))
    response = client.get(f"/videos/poll?view=list&watch={theirs.id}:0.0", headers=HTMX)
    assert f"video-{theirs.id}" not in response.get_data(as_text=True)


def test_deleting_from_a_row_removes_it_and_refreshes_the_usage_bar(client, workspace, owner):
    video = queue(workspace, owner, make_product(workspace))
    response = client.post(f"/videos/{video.id}/delete", headers=HTMX)
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert response.headers["HX-Trigger"] == "usage-changed"
    db.session.rollback()
    assert db.session.scalar(select(func.count(Video.id))) == 0
    assert "0 / 30" in client.get("/usage").get_data(as_text=True)


def test_cancel_and_retry_from_a_row_answer_the_new_row(client, workspace, owner):
    video = queue(workspace, owner, make_product(workspace))
    body = client.post(f"/videos/{video.id}/cancel", data={"view": "list"}, headers=HTMX).get_data(as_text=True)
    assert f'id="video-{video.id}"' in body and "Canceled" in body and "Retry" in body
    body = client.post(f"/videos/{video.id}/retry", data={"view": "list"}, headers=HTMX).get_data(as_text=True)
    assert "Pending" in body


def test_choosing_a_product_on_the_generate_page_shows_its_photos(client, workspace):
    product = make_product(workspace, "Photo Lamp", images=3)
    page = client.get("/videos/new").get_data(as_text=True)
    assert "Choose a product…" in page and 'hx-get="/videos/new"' in page
    page = client.get(f"/videos/new?product_id={product.id}", headers=HTMX).get_data(as_text=True)
    assert page.count("Photo Lamp, photo") == 3
    assert f'name="product_id" value="{product.id}"' in page


def test_huge_and_foreign_ids_are_not_found(client):
    for path in ("/videos/2147483648", "/products/99999999999", "/videos/0"):
        assert client.get(path).status_code == 404


def test_the_template_picker_shows_the_templates_with_their_previews(client):
    body = client.get("/templates/picker?template=lifestyle", headers=HTMX).get_data(as_text=True)
    assert body.count('class="template-card') == 6
    assert 'data-template-key="lifestyle"' in body and 'aria-pressed="true"' in body


def test_the_template_picker_offers_a_retry_when_the_provider_cannot_be_reached(app_factory):
    from tests.conftest import PASSWORD, make_workspace

    app = app_factory(VIDEO_PROVIDER="rck", RCK_BASE_URL="")
    with app.app_context():
        make_workspace()
    client = app.test_client()
    client.post("/login", data={"email": "owner@example.com", "password": PASSWORD})
    response = client.get("/templates/picker", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Failed to load video templates. The provider may be offline." in body
    assert "RCK Description Server is not configured" in body
    assert ">Retry</button>" in body and 'hx-get="/templates/picker' in body


def test_errors_of_the_generate_form_on_a_product_page_show_on_that_page(client, workspace):
    product = make_product(workspace, "Error Lamp")
    response = client.post(
        "/videos",
        data={"product_id": product.id, "from_page": "product", "template": "product_showcase",
              "custom_instructions": "z" * 501, "aspect_ratio": "16:9", "duration": "8"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<h1>Error Lamp</h1>" in page and "at most 500 characters" in page
    assert '<details class="generate-panel" open>' in page
    assert '<a href="/products" aria-current="page">Products</a>' in page  # where the merchant still is


def test_the_generate_form_sent_twice_makes_one_video_and_charges_once(client, workspace):
    product = make_product(workspace, "Twice Lamp")
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    token = re.search(r'name="submission" type="hidden" value="([0-9a-f]{32})"', page).group(1)
    form = {"product_id": product.id, "from_page": "product", "template": "product_showcase",
            "aspect_ratio": "16:9", "submission": token}
    first, second = client.post("/videos", data=form), client.post("/videos", data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    shown = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "You sent this form twice: it made one video, Twice Lamp · Product showcase, counted once." in shown
    assert db.session.scalar(select(func.count(Video.id))) == 1 and quota.usage(workspace).used == 1
    # the same form with an answer changed since (back, edit, send): the video asked for now
    changed = client.post("/videos", data={**form, "aspect_ratio": "9:16"})
    assert changed.headers["Location"] != first.headers["Location"]
    assert db.session.scalar(select(func.count(Video.id))) == 2 and quota.usage(workspace).used == 2
    # a fresh page draws a fresh token
    assert token not in client.get(f"/products/{product.id}").get_data(as_text=True)


def test_every_wrong_field_of_the_generate_form_is_shown_beside_it_at_once(client, workspace):
    product = make_product(workspace, "Error Lamp")
    response = client.post("/videos", data={
        "product_id": product.id, "template": "product_showcase", "custom_instructions": "z" * 501,
        "aspect_ratio": "4:3", "duration": "31", "captions": "fine\n" + "y" * 121,
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(page, "custom_instructions") == "Must be at most 500 characters."
    assert field_error(page, "duration") == "Must be between 5 and 30 seconds."
    assert field_error(page, "aspect_ratio").startswith("Must be one of")
    assert "120 characters" in field_error(page, "captions")
    assert page.count('aria-invalid="true"') == 4
    # and listed at the top of the form, which takes the focus: on a phone the fields are far below
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert "autofocus" in summary and "No video was made and nothing was counted. 4 things to fix:" in summary
    assert '<a href="#duration">Length (seconds): Must be between 5 and 30 seconds.</a>' in summary
    assert summary.count("<li>") == 4
    assert db.session.scalar(select(func.count(Video.id))) == 0


def test_the_script_follows_the_chosen_length_and_one_that_cannot_be_said_in_it_is_refused_there(client, workspace):
    product = make_product(workspace, "Fit Lamp")
    args = {"product_id": product.id, "voiceover": "y"}
    full = client.get("/videos/script", query_string=args, headers=HTMX).get_data(as_text=True)
    short = client.get("/videos/script", query_string={**args, "duration": "5"}, headers=HTMX).get_data(as_text=True)
    assert "Meet the Fit Lamp." in full and "Holds 350 ml." in full
    assert "Meet the Fit Lamp." in short and "Holds 350 ml." not in short
    # the full script, kept as typed, in a 5 s video: refused beside the length, nothing queued
    response = client.post("/videos", data={
        "product_id": product.id, "template": "product_showcase", "aspect_ratio": "9:16", "duration": "5",
        "voiceover": "y", "script_edited": "yes", "script": service.draft_script(product, ""),
    })
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="duration-error"' in page and "a 5 s video has room for 2.6 s of speech" in page
    assert db.session.scalar(select(func.count()).select_from(Video)) == 0


def test_a_finished_video_page_offers_its_captions_as_a_track_and_a_download(client, workspace, owner):
    from tests.integration.api_support import completed_video

    video = completed_video(workspace, owner, make_product(workspace),
                            captions=b"WEBVTT\n\n00:00.500 --> 00:01.500\nDesk at night\n")
    page = client.get(f"/videos/{video.id}").get_data(as_text=True)
    assert "<dt>Provider</dt><dd>Reelboard&#39;s renderer</dd>" in page  # its name, not its key
    link = f"/media/videos/{video.id}/captions"
    assert f'<track kind="captions" src="{link}"' in page
    assert f'href="{link}?download=1">Download captions (.vtt)' in page
    download = client.get(f"{link}?download=1")
    assert download.status_code == 200 and b"Desk at night" in download.data
    assert "attachment" in download.headers["Content-Disposition"]


def test_a_product_page_shows_the_was_price_its_videos_show(client, workspace):
    from decimal import Decimal

    product = make_product(workspace, "Sale Lamp")
    product.price, product.compare_at_price = Decimal(89), Decimal(119)
    db.session.commit()
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert '$89.00 <del aria-label="was $119.00">$119.00</del>' in page


def test_a_product_page_says_what_its_key_is_for(client, workspace):
    product = make_product(workspace, "Key Lamp")
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert f"Key <code>{product.external_key}</code>" in page
    assert "Importing your catalog again updates the product with this key" in page


def test_a_product_whose_photos_failed_to_download_says_so_and_leads_to_the_retry(client, workspace):
    product = make_product(workspace, "Merino Wool Beanie", images=0)
    product.images.append(ProductImage(position=0, source_url="https://cdn.example.com/beanie.jpg",
                                       status=ImageStatus.FAILED.value, error="The host could not be found."))
    db.session.commit()
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "photos could not be downloaded" in page and "has no photos yet" not in page
    assert f'href="/products/{product.id}/edit#images">Retry the downloads or add photos</a>' in page
    product.images[0].status = ImageStatus.PENDING.value
    db.session.commit()
    assert "still downloading" in client.get(f"/products/{product.id}").get_data(as_text=True)
