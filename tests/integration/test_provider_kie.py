"""The Kie.ai provider: product images uploaded first (and again when their 3-day copies run
out), createTask, recordInfo, callbacks, and insufficient credits said plainly."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import jpeg_bytes
from tests.integration.provider_fakes import KieFake, sign_delivery
from tests.integration.provider_support import (
    SECRET,
    Env,
    provider_settings,
    sample_mp4,
    served,
)
from webapp.extensions import db
from webapp.models import ProductImage, utcnow
from webapp.providers.base import ProviderState
from webapp.providers.registry import get_provider


@pytest.fixture
def fake():
    server = KieFake(video=sample_mp4(), thumbnail=jpeg_bytes(), duration=0.25)
    server.secret = SECRET
    server.start()
    yield server
    server.stop()


@pytest.fixture
def env(app_factory, fake):
    app = app_factory(**provider_settings("kie", fake.url))
    with served(app):
        yield Env(app)


def images(env) -> list[ProductImage]:
    with env.app.app_context():
        rows = db.session.scalars(
            select(ProductImage).where(ProductImage.product_id == env.product_id).order_by(ProductImage.position)
        ).all()
        db.session.expunge_all()
        return list(rows)


def test_images_are_uploaded_once_the_task_is_created_and_the_result_mirrored(env, fake):
    [video_id] = env.create(options={"duration": 5, "aspectRatio": "9:16"})
    env.run_until(lambda: env.finished(video_id))
    video = env.video(video_id)
    assert video.status == "completed", video.error
    assert (env.app.config["MEDIA_DIR"] / video.video_path).read_bytes() == sample_mp4()
    thumbnail = (env.app.config["MEDIA_DIR"] / video.thumbnail_path).read_bytes()
    assert thumbnail[:2] == b"\xff\xd8"  # cut from the video: Kie.ai sends none

    uploaded = images(env)
    assert fake.hits["upload"] == 2 and len(fake.uploads) == 2
    assert all(image.provider_file_url.startswith(f"{fake.url}/tempfile/") for image in uploaded)
    for image in uploaded:  # recorded as Kie.ai keeps them: three days from the upload
        assert abs(image.provider_file_expires_at - (utcnow() + timedelta(days=3))) < timedelta(minutes=1)
    [task] = fake.bodies("create")
    assert task["model"] == "kling-2.6/image-to-video"
    assert task["callBackUrl"] == f"{env.app.config['PUBLIC_BASE_URL']}/webhooks/kie"
    assert task["input"]["image_urls"] == [image.provider_file_url for image in uploaded]
    assert task["input"]["duration"] == "5" and task["input"]["aspect_ratio"] == "9:16"
    assert "Trail Mug" in task["input"]["prompt"]


def test_uploads_are_reused_while_they_last_and_made_again_when_they_run_out(env, fake):
    first = env.create()
    env.run_until(lambda: env.finished(*first))
    second = env.create()
    env.run_until(lambda: env.finished(*second))
    assert fake.hits["upload"] == 2  # the second video reused the first one's copies
    assert len({url for task in fake.bodies("create") for url in task["input"]["image_urls"]}) == 2
    with env.app.app_context():  # one copy is about to expire: less than the margin left
        image = db.session.scalars(select(ProductImage).where(ProductImage.product_id == env.product_id)).first()
        image.provider_file_expires_at = utcnow() + timedelta(hours=1)
        stale_id = image.id
        db.session.commit()
    third = env.create()
    env.run_until(lambda: env.finished(*third))
    assert fake.hits["upload"] == 3
    refreshed = next(image for image in images(env) if image.id == stale_id)
    assert refreshed.provider_file_expires_at > utcnow() + timedelta(days=2)
    assert env.status(third[0]) == "completed"


@pytest.mark.parametrize("as_http_status", [False, True], ids=["code-in-body", "http-402"])
def test_insufficient_credits_fail_the_video_saying_so_and_are_not_retried(env, fake, as_http_status):
    fake.credits, fake.credits_error_as_http = 0, as_http_status
    [video_id] = env.create()
    env.run_until(lambda: env.finished(video_id))
    video = env.video(video_id)
    assert video.status == "failed" and fake.hits["create"] == 1
    assert video.error.startswith("kie refused the video: Kie.ai has insufficient credits for the video: top up")
    assert "Credits insufficient" in video.error and env.used() == 0


def test_states_map_onto_ours_with_stage_names(env, fake):
    fake.duration = 1000
    [video_id] = env.create()
    env.run_until(lambda: env.status(video_id) == "generating", sync=False)
    [task_id] = fake.jobs
    with env.app.app_context():
        provider = get_provider("kie")
        waiting = provider.status(task_id)
        fake.jobs[task_id].created -= 500
        generating = provider.status(task_id)
        fake.finish_now(task_id, "failure")
        failed = provider.status(task_id)
    assert (waiting.state, waiting.message) == (ProviderState.QUEUED, "Waiting at Kie.ai")
    assert (generating.state, generating.progress, generating.message) == (ProviderState.RUNNING, None, "Generating at Kie.ai")
    assert (failed.state, failed.error) == (ProviderState.FAILED, "Kie.ai: Failed to process video: Invalid image format")


def test_a_signed_callback_completes_the_video_and_a_failed_one_fails_it(env, fake):
    fake.duration = 1000
    done, broken = env.create(2)
    env.run_until(lambda: env.status(done) == "generating" and env.status(broken) == "generating", sync=False)
    by_video = {v.id: v.external_job_id for v in env.videos()}
    assert set(by_video.values()) == set(fake.jobs)
    assert fake.call_back(by_video[done]).status_code == 200
    assert fake.call_back(by_video[broken], "failure").status_code == 200
    assert env.status(done) == "completed" and fake.hits["status"] == 0
    failed = env.video(broken)
    assert (failed.status, failed.error) == ("failed", "Kie.ai: Failed to process video: Invalid image format")
    assert env.used() == 1


def test_a_callback_naming_an_unknown_task_is_refused(env, fake):
    raw = json.dumps({"code": 200, "msg": "ok", "data": {"taskId": "task_nobody", "state": "success"}}).encode()
    response = env.app.test_client().post("/webhooks/kie", data=raw, headers=sign_delivery(SECRET, raw))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
