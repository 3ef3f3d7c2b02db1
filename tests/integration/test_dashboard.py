"""The dashboard's rules beyond rendering: plans (setup honours the choice, owners change it),
the usage bar's colours and badges, the generate page at the limit, and the video list's
filters, sorting and bulk actions (delete, retry, a streamed ZIP)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, make_product, make_workspace, video_request
from tests.integration.engine_helpers import fresh
from webapp import accounts, media
from webapp.extensions import db
from webapp.generation import quota, service
from webapp.generation.lifecycle import transition
from webapp.models import Membership, UsagePeriod, User, Video, VideoStatus, Workspace

HTMX = {"HX-Request": "true"}


def set_used(workspace, used: int) -> None:
    row = db.session.scalar(select(UsagePeriod).filter_by(workspace_id=workspace.id, period=quota.current_period()))
    if row is None:
        db.session.add(UsagePeriod(workspace_id=workspace.id, period=quota.current_period(), used=used))
    else:
        row.used = used
    db.session.commit()


# ---------------------------------------------------------------- plans ----


def test_setup_honours_the_chosen_plan_when_the_demo_workspace_exists(app):
    with app.app_context():
        db.session.add(Workspace(name="Demo Store", plan="senior"))  # what `make run` seeds
        db.session.commit()
        client = app.test_client()
        page = client.get("/setup").get_data(as_text=True)
        assert 'value="Demo Store"' in page
        response = client.post("/setup", data={
            "name": "Ada", "email": "ada@example.com", "password": PASSWORD, "confirm": PASSWORD,
            "workspace": "Demo Store", "plan": "junior"})
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.scalar(select(Workspace.plan).filter_by(name="Demo Store")) == "junior"
        assert "0 / 30" in client.get("/videos").get_data(as_text=True)


def test_an_owner_changes_the_plan_the_limit_applies_at_once_and_usage_is_kept(client, workspace):
    set_used(workspace, 30)
    page = client.get("/settings").get_data(as_text=True)
    assert 'id="plan"' in page and "Change plan" in page
    assert page.count("<title>") == 1 and "Settings · Reelboard</title>" in page
    response = client.post("/settings/plan", data={"plan": "senior"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/settings#plan")
    page = client.get("/settings").get_data(as_text=True)
    assert "Plan changed to Senior: 100 videos a month. The 30 used this month still count; 70 remain." in page
    assert "30 / 100" in page
    db.session.expire_all()
    assert quota.usage(db.session.get(Workspace, workspace.id)).remaining == 70


def test_an_unknown_plan_is_refused_beside_the_field_and_changes_nothing(client, workspace):
    response = client.post("/settings/plan", data={"plan": "platinum"})
    assert response.status_code == 422
    assert 'id="plan-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Workspace, workspace.id).plan == "junior"


def test_a_member_sees_the_plan_but_cannot_change_it(app, workspace):
    member = User(email="member@example.com", name="Member")
    member.set_password(PASSWORD)
    db.session.add_all([member, Membership(user=member, workspace=workspace, role="member")])
    db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "member@example.com", "password": PASSWORD})
    page = client.get("/settings").get_data(as_text=True)
    assert "Only an owner of the workspace can change its plan." in page and "Change plan</button>" not in page
    response = client.post("/settings/plan", data={"plan": "executive"})
    assert response.status_code == 422
    assert "Only an owner of the workspace can change its plan." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Workspace, workspace.id).plan == "junior"
    with pytest.raises(accounts.AccountError):
        accounts.change_plan(member, db.session.get(Workspace, workspace.id), "executive")


# ---------------------------------------------------------------- usage ----


@pytest.mark.parametrize(("used", "level", "label"), [
    (0, "ok", "Available"), (74, "ok", "Available"), (75, "almost", "Almost full"), (90, "almost", "Almost full"),
    (91, "full", "Almost full"), (92, "full", "Almost full"), (99, "full", "Almost full"),
    (100, "full", "Limit reached"),
])
def test_usage_colours_and_badges_follow_the_seed(used, level, label):
    usage = quota.Usage(used, 100)
    assert (usage.level, usage.label) == (level, label)


def test_the_usage_bar_links_to_the_plan_when_the_limit_is_reached(client, workspace):
    set_used(workspace, 28)
    bar = client.get("/usage").get_data(as_text=True)
    assert "usage-full" in bar and "Almost full" in bar and "Limit reached" not in bar
    set_used(workspace, 30)
    bar = client.get("/usage").get_data(as_text=True)
    assert "Limit reached" in bar and 'href="/settings#plan"' in bar


# ---------------------------------------------------------- video list ----


def make_video(workspace, owner, product, template="unboxing", finish=None, payload: bytes | None = None) -> int:
    video, _ = service.create_video(workspace, owner, video_request(product_id=product.id, template=template))
    video_id = video.id
    if finish:
        transition(fresh(video_id), VideoStatus.GENERATING, "started")
        transition(fresh(video_id), VideoStatus(finish), "finished in a test")
    if payload is not None:
        video = db.session.get(Video, video_id)
        video.video_path = media.new_path(f"videos/{workspace.id}", ".mp4")
        media.write_atomically(video.video_path, payload)
        db.session.commit()
    return video_id


def row_ids(body: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr id="video-(\d+)"', body)]


def test_the_list_filters_by_template_and_product_and_sorts_by_any_column(client, workspace, owner):
    mug, lamp = make_product(workspace, "Mug"), make_product(workspace, "Lamp")
    a = make_video(workspace, owner, mug, "unboxing")
    b = make_video(workspace, owner, lamp, "lifestyle", finish="failed")
    c = make_video(workspace, owner, lamp, "unboxing", finish="completed")
    assert row_ids(client.get("/videos?template=unboxing", headers=HTMX).get_data(as_text=True)) == [c, a]
    assert row_ids(client.get(f"/videos?product={lamp.id}", headers=HTMX).get_data(as_text=True)) == [c, b]
    assert row_ids(client.get(f"/videos?product={lamp.id}&template=unboxing").get_data(as_text=True)) == [c]
    assert row_ids(client.get("/videos?sort=product&order=asc").get_data(as_text=True)) == [b, c, a]  # Lamp, Lamp, Mug
    assert row_ids(client.get("/videos?sort=status&order=asc").get_data(as_text=True)) == [c, b, a]  # completed, failed, pending
    assert row_ids(client.get("/videos?sort=template&order=desc").get_data(as_text=True))[0] in (a, c)  # Unboxing first
    page = client.get("/videos?sort=product&order=asc").get_data(as_text=True)
    assert 'aria-sort="ascending"' in page and 'data-sort-by="product" data-sort-order="desc"' in page
    # unknown values are no filter, never an error
    assert row_ids(client.get("/videos?template=nope&product=abc&sort=evil&order=up").get_data(as_text=True)) == [c, b, a]


def test_each_row_says_the_videos_format_so_two_of_one_product_tell_apart(client, workspace, owner):
    lamp = make_product(workspace, "Lamp")
    for aspect in ("16:9", "9:16"):
        service.create_video(workspace, owner, video_request(product_id=lamp.id, template="unboxing",
                                                             options={"aspect_ratio": aspect}))
    video = db.session.scalar(select(Video).where(Video.options["aspect_ratio"].as_string() == "9:16"))
    video.duration_s = 11.6  # as a finished render records it
    db.session.commit()
    formats = re.findall(r'<small class="video-format">([^<]*)</small>', client.get("/videos").get_data(as_text=True))
    assert sorted(formats) == ["16:9", "9:16 · 12 s"]


def test_bulk_delete_removes_the_selected_videos_of_this_workspace_only(client, workspace, owner):
    product = make_product(workspace)
    mine = [make_video(workspace, owner, product) for _ in range(3)]
    other, other_owner = make_workspace("Other", email="other@example.com")
    theirs = make_video(other, other_owner, make_product(other))
    response = client.post("/videos/bulk/delete?status=pending", data={"video_ids": [mine[0], mine[1], theirs]},
                           headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "usage-changed"
    assert "2 videos deleted." in body and row_ids(body) == [mine[2]]
    db.session.expire_all()
    assert set(db.session.scalars(select(Video.id))) == {mine[2], theirs}
    assert quota.usage(db.session.get(Workspace, workspace.id)).used == 1  # in flight: canceled and refunded


def test_bulk_actions_refuse_an_empty_or_bad_selection_and_change_nothing(client, workspace, owner):
    video = make_video(workspace, owner, make_product(workspace))
    for data in ({}, {"video_ids": ["x", "-1"]}, {"video_ids": [str(i) for i in range(1, 102)]}):
        for action in ("delete", "retry"):
            response = client.post(f"/videos/bulk/{action}", data=data, headers=HTMX)
            assert response.status_code == 200 and response.headers["HX-Retarget"] == "#flashes"
            assert "Select" in response.get_data(as_text=True)
    assert db.session.scalar(select(Video.id)) == video


def test_bulk_retry_queues_the_failed_and_canceled_as_far_as_the_quota_goes(client, workspace, owner):
    product = make_product(workspace)
    failed = [make_video(workspace, owner, product, finish="failed") for _ in range(3)]
    done = make_video(workspace, owner, product, finish="completed")
    set_used(workspace, 29)  # the failed were refunded: one retry fits
    body = client.post("/videos/bulk/retry", data={"video_ids": [*failed, done]}, headers=HTMX).get_data(as_text=True)
    assert "1 video queued again. 1 neither failed nor canceled, left as they are. 2 not retried: Video generation limit reached" in body
    db.session.expire_all()
    assert [db.session.get(Video, i).status for i in failed] == ["pending", "failed", "failed"]
    assert quota.usage(db.session.get(Workspace, workspace.id)).used == 30


def test_the_zip_holds_the_finished_videos_streamed(client, workspace, owner):
    product = make_product(workspace, "Zip Lamp")
    first = make_video(workspace, owner, product, finish="completed", payload=b"a" * 300_000)
    second = make_video(workspace, owner, product, "lifestyle", finish="completed", payload=b"b" * 200_000)
    pending = make_video(workspace, owner, product)
    response = client.get(f"/videos/download.zip?video_ids={first}&video_ids={second}&video_ids={pending}")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.is_streamed and "Content-Length" not in response.headers
    assert response.headers["Content-Disposition"].startswith('attachment; filename="reelboard-videos-')
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert archive.namelist() == [f"zip-lamp-unboxing-{first}.mp4", f"zip-lamp-lifestyle-{second}.mp4"]
    assert archive.read(f"zip-lamp-lifestyle-{second}.mp4") == b"b" * 200_000

    response = client.get(f"/videos/download.zip?video_ids={pending}")  # nothing finished: said, not a 500
    assert response.status_code == 302
    assert "only finished videos can be downloaded" in client.get("/videos").get_data(as_text=True)


# ------------------------------------------------------- products table ----


def test_the_products_table_shows_each_products_latest_video_live_after_a_reload(client, workspace, owner):
    lamp, mug, vase = make_product(workspace, "Lamp"), make_product(workspace, "Mug"), make_product(workspace, "Vase")
    make_video(workspace, owner, lamp, finish="completed")
    rendering = make_video(workspace, owner, lamp, "lifestyle")
    transition(fresh(rendering), VideoStatus.GENERATING, "started", progress=40, progress_message="Rendering 40%")
    queued = make_video(workspace, owner, mug)
    page = client.get("/products").get_data(as_text=True)
    cell = page.split(f'id="latest-video-{lamp.id}"')[1].split("</div>")[0]
    assert "Generating" in cell and "Lifestyle" in cell
    assert "Rendering 40%" in page.split(f'id="latest-video-{lamp.id}"')[1].split('id="latest-video-')[0]
    assert "Queued · position 1" in page.split(f'id="latest-video-{mug.id}"')[1].split('id="latest-video-')[0]
    assert "No video yet" in page.split(f'id="latest-video-{vase.id}"')[1].split("</div>")[0]
    assert f'href="/videos?product={lamp.id}">All 2 videos' in page
    watch = page.split("watch=")[1].split('"')[0]
    assert f"{rendering}:" in watch and f"{queued}:" in watch and "view=products" in page

    transition(fresh(rendering), VideoStatus.COMPLETED, "done")
    from urllib.parse import unquote

    body = client.get(f"/videos/poll?view=products&watch={unquote(watch.replace('&amp;', '&'))}", headers=HTMX).get_data(as_text=True)
    assert f'id="latest-video-{lamp.id}" class="latest-video" hx-swap-oob="true"' in body and "Completed" in body


def test_the_generate_page_at_the_limit_says_so_and_links_to_the_plan(client, workspace, owner):
    product = make_product(workspace)
    set_used(workspace, 30)
    page = client.get(f"/videos/new?product_id={product.id}").get_data(as_text=True)
    assert "remaining" not in page.split('class="quota-note')[1].split("</p>")[0]
    assert "limit" in page.split('class="quota-note')[1].split("</p>")[0]
    assert 'href="/settings#plan"' in page


def test_a_bulk_over_the_quota_says_the_reason_once_with_the_count(client, workspace, owner):
    products = [make_product(workspace, f"P{i}") for i in range(4)]
    set_used(workspace, 29)
    form = {"product_ids": [p.id for p in products], "template": "unboxing", "aspect_ratio": "16:9", "duration": "8",
            "skip_existing": "y"}
    confirm = client.post("/products/bulk/confirm", data=form, headers=HTMX).get_data(as_text=True)
    assert "Generate 1 video?" in confirm and ">Generate 1 video</button>" in confirm
    assert "Only 1 of the 4 fit this month" in confirm
    result = client.post("/products/bulk", data=form, headers=HTMX).get_data(as_text=True)
    assert result.count("Video generation limit reached") == 1
    assert "3 products were not queued: Video generation limit reached" in result


def test_a_bulk_with_bad_choices_names_each_field_by_its_label(client, workspace):
    products = [make_product(workspace, f"P{i}") for i in range(2)]
    form = {"product_ids": [p.id for p in products], "template": "unboxing", "aspect_ratio": "4:3", "duration": "40"}
    answer = client.post("/products/bulk/confirm", data=form, headers=HTMX).get_data(as_text=True)
    assert "Length (seconds): Must be between 5 and 30 seconds." in answer
    assert "Aspect ratio: Must be one of" in answer
    assert "options.duration" not in answer  # the API's name for it, which the bar does not show
    assert db.session.scalar(select(func.count(Video.id))) == 0


def test_retrying_a_selection_without_a_failed_video_says_so_and_changes_nothing(client, workspace, owner):
    product = make_product(workspace)
    done = make_video(workspace, owner, product, finish="completed")
    body = client.post("/videos/bulk/retry", data={"video_ids": [done]}, headers=HTMX).get_data(as_text=True)
    assert "None of the selected videos failed or was canceled: there is nothing to retry." in body
    assert "queued again" not in body
    assert quota.usage(db.session.get(Workspace, workspace.id)).used == 1
