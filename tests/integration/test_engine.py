"""The generation engine: lifecycle, quota, idempotency, bad input, and the local renderer
making real MP4 files through the background ticks."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.conftest import bulk_request, make_product, make_workspace, video_request
from tests.integration.engine_helpers import fresh, run_worker_until
from tests.storage_support import browser_get, files_under, left_on_disk, stored_keys
from webapp import media
from webapp.extensions import db
from webapp.generation import queue, quota, service
from webapp.generation.errors import (
    GenerationError,
    IdempotencyConflict,
    NotFound,
    QuotaExceeded,
)
from webapp.generation.lifecycle import transition
from webapp.generation.reports import apply_status
from webapp.generation.worker import Worker
from webapp.models import UsagePeriod, Video, VideoEvent, VideoStatus, utcnow
from webapp.providers.base import ProviderResult, ProviderState, ProviderStatus
from webapp.providers.registry import get_provider
from webapp.storage import current_storage


def used(workspace) -> int:
    db.session.rollback()
    count = quota.usage(workspace).used
    db.session.rollback()
    return count


def create(workspace, owner, product, **kwargs) -> Video:
    """Queues a video; returns a detached snapshot so the test holds no transaction open."""
    kwargs.setdefault("template", "product_showcase")
    kwargs.setdefault("options", {"duration": 5})
    video, _ = service.create_video(workspace, owner, video_request(product_id=product.id, **kwargs))
    return fresh(video.id)


# ---------------------------------------------------------------- lifecycle --


def test_every_status_change_is_recorded_and_illegal_ones_are_refused(app, workspace, owner):
    video = create(workspace, owner, make_product(workspace))
    assert transition(video, VideoStatus.GENERATING, "started")
    assert transition(video, VideoStatus.COMPLETED, "done")
    assert not transition(video, VideoStatus.PENDING, "retry a completed video")
    assert not transition(video, VideoStatus.FAILED, "late failure")
    video = fresh(video.id)
    assert video.status == "completed" and video.started_at and video.completed_at
    events = db.session.scalars(select(VideoEvent).filter_by(video_id=video.id).order_by(VideoEvent.id)).all()
    assert [(e.from_status, e.to_status) for e in events] == [(None, "pending"), ("pending", "generating"), ("generating", "completed")]


def test_a_late_or_repeated_report_never_moves_a_video_backwards(app, workspace, owner):
    video = create(workspace, owner, make_product(workspace))
    transition(video, VideoStatus.GENERATING, "started")
    provider = get_provider("local")
    done = ProviderStatus(ProviderState.SUCCEEDED, 100, "ok", ProviderResult(video_file="videos/1/x.mp4", duration=5.0))
    assert apply_status(fresh(video.id), done, provider)
    assert not apply_status(fresh(video.id), ProviderStatus(ProviderState.RUNNING, 40, "late progress"), provider)
    assert not apply_status(fresh(video.id), ProviderStatus(ProviderState.FAILED, error="late failure"), provider)
    assert not apply_status(fresh(video.id), done, provider)
    video = fresh(video.id)
    assert (video.status, video.progress, video.error) == ("completed", 100, None)
    assert used(workspace) == 1


def test_failed_and_canceled_videos_are_refunded_exactly_once(app, workspace, owner):
    product = make_product(workspace)
    first, second = create(workspace, owner, product), create(workspace, owner, product)
    assert used(workspace) == 2
    transition(first, VideoStatus.GENERATING, "started")
    assert transition(fresh(first.id), VideoStatus.FAILED, "the provider failed")
    assert not transition(fresh(first.id), VideoStatus.FAILED, "and again")
    assert used(workspace) == 1
    service.cancel_video(workspace, second.id)
    with pytest.raises(GenerationError):
        service.cancel_video(workspace, second.id)
    assert used(workspace) == 0
    assert fresh(first.id).error == "the provider failed"


def test_retry_charges_again_and_starts_over(app, workspace, owner):
    video = create(workspace, owner, make_product(workspace))
    service.cancel_video(workspace, video.id)
    assert used(workspace) == 0
    service.retry_video(workspace, video.id)
    video = fresh(video.id)
    assert (video.status, video.quota_refunded, video.progress) == ("pending", False, 0)
    assert used(workspace) == 1
    with pytest.raises(GenerationError, match="Only a failed or canceled"):
        service.retry_video(workspace, video.id)


# -------------------------------------------------------------------- quota --


def test_the_limit_message_is_the_seeds(app_factory):
    app = app_factory(PLAN_LIMITS={"junior": 2, "senior": 100, "executive": 500})
    with app.app_context():
        workspace, owner = make_workspace()
        product = make_product(workspace)
        create(workspace, owner, product)
        create(workspace, owner, product)
        with pytest.raises(QuotaExceeded) as error:
            create(workspace, owner, product)
        assert str(error.value).startswith("Video generation limit reached. You have used 2/2 videos for this billing period")
        assert db.session.scalar(select(func.count(Video.id))) == 2


def test_fifty_concurrent_creates_against_ten_remaining_accept_exactly_ten(app_factory):
    app = app_factory(PLAN_LIMITS={"junior": 30, "senior": 100, "executive": 500})
    with app.app_context():
        workspace, owner = make_workspace()
        product = make_product(workspace)
        db.session.add(UsagePeriod(workspace_id=workspace.id, period=quota.current_period(), used=20))
        db.session.commit()
        workspace_id, owner_id, product_id = workspace.id, owner.id, product.id
    start = threading.Barrier(50)

    def attempt(_):
        with app.app_context():
            from webapp.models import User, Workspace

            ws, user = db.session.get(Workspace, workspace_id), db.session.get(User, owner_id)
            db.session.commit()  # hold no transaction (on SQLite, a lock) while waiting for the others
            start.wait(timeout=60)
            try:
                service.create_video(ws, user, video_request(product_id=product_id, template="unboxing"))
                return "accepted"
            except QuotaExceeded:
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(attempt, range(50)))
    assert outcomes.count("accepted") == 10 and outcomes.count("refused") == 40
    with app.app_context():
        assert db.session.scalar(select(func.count(Video.id))) == 10
        assert db.session.scalar(select(UsagePeriod.used)) == 30


def test_bulk_queues_what_fits_and_reports_the_rest(app_factory):
    app = app_factory(PLAN_LIMITS={"junior": 3, "senior": 100, "executive": 500})
    with app.app_context():
        workspace, owner = make_workspace()
        done, *fresh_products = [make_product(workspace, f"Product {i}") for i in range(5)]
        bare = make_product(workspace, "No Photos", images=0)
        other, _ = make_workspace("Other", email="o@example.com")
        foreign = make_product(other, "Foreign")
        finished = create(workspace, owner, done, template="lifestyle")
        transition(finished, VideoStatus.GENERATING, "s")
        transition(fresh(finished.id), VideoStatus.COMPLETED, "d")
        ids = [done.id, *[p.id for p in fresh_products], bare.id, foreign.id, 999999, done.id]
        outcomes = service.create_bulk(workspace, owner, bulk_request(product_ids=ids, template="lifestyle"))
        results = [(o.product_id, o.result) for o in outcomes]
        assert results[0] == (done.id, "skipped_existing")
        assert [r for _, r in results[1:5]] == ["queued", "queued", "over_quota", "over_quota"]
        assert results[5] == (bare.id, "invalid") and "no images" in outcomes[5].reason
        assert results[6] == (foreign.id, "invalid") and results[7] == (999999, "invalid")
        assert len(outcomes) == 8  # the repeated id counts once
        assert "Video generation limit reached" in outcomes[3].reason
        assert used(workspace) == 3


# ------------------------------------------------------------- idempotency --


def test_same_idempotency_key_and_input_returns_the_first_video(app, workspace, owner):
    product = make_product(workspace)
    first, created = service.create_video(workspace, owner, video_request(product_id=product.id, template="unboxing"), idempotency_key="k1")
    again, created_again = service.create_video(workspace, owner, video_request(product_id=product.id, template="unboxing"), idempotency_key="k1")
    assert created and not created_again and again.id == first.id
    assert used(workspace) == 1
    with pytest.raises(IdempotencyConflict):
        service.create_video(workspace, owner, video_request(product_id=product.id, template="lifestyle"), idempotency_key="k1")
    assert used(workspace) == 1
    # keys are scoped to the workspace
    other, other_owner = make_workspace("Other", email="o@example.com")
    theirs, created = service.create_video(
        other, other_owner, video_request(product_id=make_product(other).id, template="unboxing"), idempotency_key="k1")
    assert created and theirs.id != first.id


# --------------------------------------------------------------- bad input --


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"template": "cartoon"}, "template", "Unknown template"),
        ({"custom_instructions": "x" * 501}, "customInstructions", "at most 500"),
        ({"options": {"duration": 31}}, "options.duration", "between 5 and 30 seconds"),
        ({"options": {"duration": 4}}, "options.duration", "between 5 and 30 seconds"),
        ({"options": {"duration": "long"}}, "options.duration", "whole number"),
        ({"options": {"aspectRatio": "4:3"}}, "options.aspectRatio", "16:9, 9:16 or 1:1"),
        ({"options": {"captions": [{"start": 3, "end": 1, "text": "x"}]}}, "options.captions[0]", "start before it ends"),
        ({"options": {"duration": 8, "captions": [{"start": 3, "end": 9, "text": "x"}]}}, "options.captions[0]",
         "within the video (0–8 s)"),
        ({"provider": "kie"}, "provider", "cannot be made by 'kie'"),
        ({"model": "veo3"}, "model", "no models to choose from"),
        ({"options": {"script": ["x" * 201]}}, "options.script[0]", "at most 200 characters"),
        ({"options": {"music": "loud"}}, "options.music", "true or false"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(app, workspace, owner, changes, field, message):
    product = make_product(workspace)
    arguments = {"template": "product_showcase", **changes}
    with pytest.raises(GenerationError) as error:
        service.create_video(workspace, owner, video_request(product_id=product.id, **arguments))
    assert error.value.field == field and message in error.value.message
    assert db.session.scalar(select(func.count(Video.id))) == 0
    assert used(workspace) == 0


def test_a_product_of_another_workspace_or_without_images_is_refused(app, workspace, owner):
    other, _ = make_workspace("Other", email="o@example.com")
    with pytest.raises(NotFound):
        service.create_video(workspace, owner, video_request(product_id=make_product(other).id, template="unboxing"))
    with pytest.raises(GenerationError, match="no images"):
        service.create_video(workspace, owner, video_request(product_id=make_product(workspace, images=0).id, template="unboxing"))
    assert db.session.scalar(select(func.count(Video.id))) == 0 and used(workspace) == 0


def test_the_generate_form_shows_errors_beside_the_fields(app, client, workspace):
    product = make_product(workspace)
    response = client.post(
        "/videos",
        data={"product_id": product.id, "template": "product_showcase", "custom_instructions": "y" * 501,
              "aspect_ratio": "16:9", "duration": "8"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="custom_instructions-error"' in page and "at most 500 characters" in page
    response = client.post(
        "/videos", data={"product_id": product.id, "template": "product_showcase", "aspect_ratio": "16:9", "duration": "99"}
    )
    assert response.status_code == 422 and "between 5 and 30 seconds" in response.get_data(as_text=True)
    # no product chosen: the select is required in the browser, and said to be beside it
    response = client.post("/videos", data={"product_id": "", "template": "product_showcase", "aspect_ratio": "16:9"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and re.search(r'<select[^>]*id="product_id"[^>]*required', page)
    assert re.search(r'<small class="field-error"[^>]*>Choose a product.</small>', page)
    preview = client.post("/videos/preview", data={"product_id": "", "template": "product_showcase"},
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Choose a product." in preview and "whole number" not in preview
    assert db.session.scalar(select(func.count(Video.id))) == 0


def test_a_script_over_its_limits_is_marked_with_every_reason_beside_it(app, client, workspace):
    product = make_product(workspace)
    # as a browser sends it (CRLF), with a blank line: two lines too long, and too long in all
    script = "\r\n".join(["Hook", "", "z" * 300, "w" * 500])
    response = client.post("/videos", data={"product_id": product.id, "template": "product_showcase",
                                            "aspect_ratio": "16:9", "voiceover": "y", "script": script})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # the counter counts what the limit counts (the lines' characters), as the error does
    assert 'id="script-hint" class="counter over"' in page and "<span data-count>804</span> / 520" in page
    error = re.search(r'<small class="field-error" id="script-error">([^<]*)</small>', page).group(1)
    assert error == ("Lines 3, 4 have more than 200 characters: split them; "  # numbered as on the screen
                     "the script has 804 characters, at most 520 (about 27 seconds of speech).")
    assert db.session.scalar(select(func.count(Video.id))) == 0


# ---------------------------------------------------------- local renderer --


def test_a_full_hd_video_is_rendered_at_1080p_and_listed_as_such(app, client, workspace):
    product = make_product(workspace, images=2)
    response = client.post("/videos", data={"product_id": product.id, "template": "lifestyle", "aspect_ratio": "9:16",
                                            "resolution": "1080p", "duration": "5", "voiceover": ""})
    assert response.status_code == 302
    video_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert fresh(video_id).options["resolution"] == "1080p"
    run_worker_until(app, lambda: fresh(video_id).status in ("completed", "failed"))
    video = fresh(video_id)
    assert video.status == "completed", video.error
    assert (video.width, video.height) == (1080, 1920)
    page = client.get("/videos").get_data(as_text=True)
    assert "9:16 1080p" in page


def test_a_video_generated_from_the_product_page_is_a_real_mp4(app, client, workspace, media_backend):
    product = make_product(workspace, images=3)
    response = client.post(
        "/videos",
        data={"product_id": product.id, "template": "product_showcase", "aspect_ratio": "16:9", "duration": "5",
              "music": "y", "captions": "Hello\nWorld"},
    )
    assert response.status_code == 302
    video_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert used(workspace) == 1
    run_worker_until(app, lambda: fresh(video_id).status in ("completed", "failed"))
    video = fresh(video_id)
    assert video.status == "completed", video.error
    assert (video.width, video.height) == (1280, 720)
    assert abs(video.duration_s - 5) < 0.2 and video.size_bytes > 10_000
    with media.open_reader(video.video_path) as reader:
        data = reader.read()
    assert data[4:8] == b"ftyp" and len(data) == video.size_bytes
    with media.open_reader(video.thumbnail_path) as reader:
        assert reader.read(3) == b"\xff\xd8\xff"
    assert video.captions_path == video.video_path.removesuffix(".mp4") + ".vtt"
    served = browser_get(client, f"/media/videos/{video_id}/video", {"Range": "bytes=0-7"})
    assert served.status == 206 and served.headers["Content-Type"] == "video/mp4" and served.body == data[:8]
    assert served.redirected is bool(media_backend)  # S3: the store serves it, after a presigned redirect
    captions = browser_get(client, f"/media/videos/{video_id}/captions")
    assert captions.status == 200 and captions.body.startswith(b"WEBVTT")
    storage = current_storage()
    assert sorted(key for key in stored_keys(storage) if key.startswith("videos/")) == sorted(
        [video.video_path, video.thumbnail_path, video.captions_path])
    if media_backend:  # nothing of it on this machine's disk
        assert files_under(app.config["MEDIA_DIR"]) == [] and left_on_disk(storage) == []
    page = client.get(f"/videos/{video_id}").get_data(as_text=True)
    assert "<video" in page and "Download MP4" in page
    events = [e.to_status for e in video.events if e.to_status]
    assert events == ["pending", "generating", "completed"]
    assert used(workspace) == 1


def test_an_image_that_cannot_be_decoded_fails_the_video_naming_it_and_refunds(app, workspace, owner, media_backend):
    product = make_product(workspace, images=2)
    media.write_atomically(product.images[1].file_path, b"this is not a jpeg")
    video = create(workspace, owner, product)
    run_worker_until(app, lambda: fresh(video.id).status in ("completed", "failed"))
    video = fresh(video.id)
    assert video.status == "failed"
    assert "image 2" in video.error.lower() and ".jpg" in video.error
    assert used(workspace) == 0


def test_ffmpeg_exiting_nonzero_fails_the_video_with_its_last_stderr_lines(app_factory, tmp_path, media_backend):
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho 'frame=1 fps=0.0' >&2\necho 'Error: codec exploded at frame 42' >&2\nexit 1\n")
    fake.chmod(0o755)
    app = app_factory(FFMPEG_EXE=str(fake), **media_backend)
    with app.app_context():
        workspace, owner = make_workspace()
        video = create(workspace, owner, make_product(workspace), options={})  # as long as its voice
        run_worker_until(app, lambda: fresh(video.id).status in ("completed", "failed"))
        video = fresh(video.id)
        assert video.status == "failed" and "codec exploded at frame 42" in video.error
        assert used(workspace) == 0
        storage = current_storage()
        assert not [key for key in stored_keys(storage) if key.startswith("videos/")]
        assert left_on_disk(storage) == []


def test_canceling_a_render_stops_it_and_refunds(app, workspace, owner, media_backend):
    video = create(workspace, owner, make_product(workspace), options={"duration": 30, "aspectRatio": "1:1"})
    worker = run_worker_until(app, lambda: fresh(video.id).status == "generating")
    service.cancel_video(workspace, video.id)
    provider = get_provider("local")
    run_worker_until(app, lambda: not provider.active_jobs(), worker=worker, timeout=30)
    video = fresh(video.id)
    assert video.status == "canceled" and used(workspace) == 0
    storage = current_storage()
    assert not [key for key in stored_keys(storage) if key.startswith("videos/")]
    assert left_on_disk(storage) == []


def test_the_reaper_fails_generations_past_the_timeout_and_refunds(app_factory):
    app = app_factory(GENERATION_TIMEOUT_S=1)
    with app.app_context():
        workspace, owner = make_workspace()
        video = create(workspace, owner, make_product(workspace), options={"duration": 30, "aspectRatio": "1:1"})
        worker = run_worker_until(app, lambda: fresh(video.id).status == "generating")
        db.session.execute(
            Video.__table__.update().where(Video.id == video.id).values(started_at=utcnow().replace(year=2020))
        )
        db.session.commit()
        assert worker.reap() == 1
        video = fresh(video.id)
        assert video.status == "failed" and video.error.startswith("Timed out")
        assert used(workspace) == 0
        run_worker_until(app, lambda: not get_provider("local").active_jobs(), worker=worker, timeout=30)


def test_queue_positions_count_only_the_viewers_workspace_singles_first(app, workspace, owner):
    other, other_owner = make_workspace("Busy Co", email="busy@example.com")
    theirs = make_product(other)
    for _ in range(5):
        create(other, other_owner, theirs)  # queued before ours: they must not show in our positions
    mine = make_product(workspace)
    bulk = service.create_bulk(workspace, owner, bulk_request(product_ids=[mine.id], template="lifestyle"))
    single = create(workspace, owner, mine)
    bulk_video = fresh(bulk[0].video_id)
    assert queue.queue_positions([bulk_video, fresh(single.id)]) == {single.id: 1, bulk_video.id: 2}


def test_render_slots_bound_concurrent_renders_and_the_rest_wait_with_a_position(app, workspace, owner):
    product = make_product(workspace)
    videos = [create(workspace, owner, product, options={"duration": 20, "aspectRatio": "1:1"}) for _ in range(3)]
    worker = Worker(app)
    worker.dispatch()
    statuses = [fresh(v.id).status for v in videos]
    assert statuses == ["generating", "pending", "pending"]  # RENDER_SLOTS=1 in tests
    positions = queue.queue_positions([fresh(v.id) for v in videos])
    assert positions == {videos[1].id: 1, videos[2].id: 2}
    for video in videos:
        service.cancel_video(workspace, video.id)
    run_worker_until(app, lambda: not get_provider("local").active_jobs(), worker=worker, timeout=30)
