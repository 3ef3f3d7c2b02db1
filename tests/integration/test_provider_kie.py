"""The Kie.ai provider: product images uploaded first (and again when their 3-day copies run
out), createTask, recordInfo, callbacks, and insufficient credits said plainly; its models side
by side (Kling 2.6, Sora 2, Veo 3.1 on its own endpoints), each sent its own input and held to
its own lengths and shapes."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from tests.conftest import jpeg_bytes
from tests.integration.provider_fakes import KieFake, kie_signature, sign_delivery
from tests.integration.provider_support import (
    KIE_HMAC_KEY,
    SECRET,
    Env,
    provider_settings,
    sample_mp4,
    served,
)
from webapp.extensions import db
from webapp.generation.errors import GenerationError
from webapp.models import ProductImage, utcnow
from webapp.providers.base import ProviderState
from webapp.providers.registry import get_provider

KLING, SORA, VEO_FAST, VEO = "kling-2.6/image-to-video", "sora-2-image-to-video", "veo3_fast", "veo3"
ALL_MODELS = f"{KLING},{SORA},{VEO_FAST},{VEO}"


@pytest.fixture
def fake():
    server = KieFake(video=sample_mp4(), thumbnail=jpeg_bytes(), duration=0.25)
    server.hmac_key = KIE_HMAC_KEY
    server.start()
    yield server
    server.stop()


@pytest.fixture
def env(app_factory, fake):
    """The app against the fake, its client waiting 5 s for an answer: these tests count requests,
    and a read that outlives a short timeout on a busy machine is rightly sent again."""
    app = app_factory(**provider_settings("kie", fake.url, KIE_MODELS=ALL_MODELS, PROVIDER_READ_TIMEOUT_S=5))
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
    assert len(fake.uploads) == 2  # each image once, as a file (a stalled upload may be sent again)
    assert all(image.provider_file_url.startswith(f"{fake.url}/tempfile/") for image in uploaded)
    for image in uploaded:  # recorded as Kie.ai keeps them: three days from the upload
        assert abs(image.provider_file_expires_at - (utcnow() + timedelta(days=3))) < timedelta(minutes=1)
    [task] = fake.bodies("create")
    assert task["model"] == KLING  # the installation's default (KIE_MODEL)
    assert task["callBackUrl"] == f"{env.app.config['PUBLIC_BASE_URL']}/webhooks/kie"
    # Kling 2.6 takes one photo and no aspect ratio (the video has the photo's shape)
    assert set(task["input"]) == {"prompt", "image_urls", "duration", "sound"}
    assert task["input"]["image_urls"] == [uploaded[0].provider_file_url]
    assert task["input"]["duration"] == "5" and task["input"]["sound"] is False
    assert "Trail Mug" in task["input"]["prompt"]


def test_uploads_are_reused_while_they_last_and_made_again_when_they_run_out(env, fake):
    first = env.create()
    env.run_until(lambda: env.finished(*first))
    # counted as requests: an upload that stalls past the read timeout is sent again (it is
    # idempotent), so the count after the first video is what the others are set against
    uploaded_for_first = fake.hits["upload"]
    second = env.create()
    env.run_until(lambda: env.finished(*second))
    assert fake.hits["upload"] == uploaded_for_first  # the second video reused the first one's copies
    assert len({url for task in fake.bodies("create") for url in task["input"]["image_urls"]}) == 1
    with env.app.app_context():  # one copy is about to expire: less than the margin left
        image = db.session.scalars(select(ProductImage).where(ProductImage.product_id == env.product_id)).first()
        image.provider_file_expires_at = utcnow() + timedelta(hours=1)
        stale_id = image.id
        db.session.commit()
    third = env.create()
    env.run_until(lambda: env.finished(*third))
    assert fake.hits["upload"] > uploaded_for_first
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
    # each verified callback made us ask Kie.ai for the task's record: its body is not believed
    assert env.status(done) == "completed" and fake.hits["status"] == 2
    failed = env.video(broken)
    assert (failed.status, failed.error) == ("failed", "Kie.ai: Failed to process video: Invalid image format")
    assert env.used() == 1


def test_a_callbacks_body_is_never_believed_only_its_signed_task_id(env, fake):
    """Kie.ai signs the task id and the time, nothing else: a body that says "success" while
    the task still generates at Kie.ai changes nothing but the timeline."""
    fake.duration = 1000
    [video_id] = env.create()
    env.run_until(lambda: env.status(video_id) == "generating", sync=False)
    task_id = env.video(video_id).external_job_id
    assert fake.call_back(task_id, finish=False).status_code == 200
    assert env.status(video_id) == "generating" and fake.hits["status"] == 1


@pytest.mark.parametrize("case", ["standard-webhooks", "wrong-key", "other-task", "stale", "no-headers"])
def test_a_callback_signed_any_other_way_is_refused(env, fake, case):
    fake.duration = 1000
    [video_id] = env.create()
    env.run_until(lambda: env.status(video_id) == "generating", sync=False)
    task_id = env.video(video_id).external_job_id
    raw = json.dumps({"code": 200, "msg": "ok", "data": {"taskId": task_id, "state": "success"}}).encode()
    headers = {
        "standard-webhooks": sign_delivery(SECRET, raw),
        "wrong-key": kie_signature("not-the-key", task_id),
        "other-task": kie_signature(KIE_HMAC_KEY, "task_other"),
        "stale": kie_signature(KIE_HMAC_KEY, task_id, timestamp=int(time.time()) - 400),
        "no-headers": {"Content-Type": "application/json"},
    }[case]
    response = env.app.test_client().post("/webhooks/kie", data=raw, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_signature"
    assert env.status(video_id) == "generating" and fake.hits["status"] == 0


def test_a_callback_naming_an_unknown_task_is_refused(env, fake):
    raw = json.dumps({"code": 200, "msg": "ok", "data": {"taskId": "task_nobody", "state": "success"}}).encode()
    response = env.app.test_client().post("/webhooks/kie", data=raw, headers=kie_signature(KIE_HMAC_KEY, "task_nobody"))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


# ------------------------------------------------------------- models ----


def test_each_model_is_sent_its_own_input_and_its_video_completes(env, fake):
    kling = env.create(model=KLING, options={"duration": 10, "music": True})
    sora = env.create(model=SORA, options={"aspectRatio": "9:16"})
    veo = env.create(model=VEO_FAST, options={"aspectRatio": "9:16", "duration": 8})
    env.run_until(lambda: env.finished(*kling, *sora, *veo))
    videos = {video.id: video for video in env.videos()}
    assert all(video.status == "completed" for video in videos.values()), [v.error for v in videos.values()]
    assert [videos[i].model for i in (*kling, *sora, *veo)] == [KLING, SORA, VEO_FAST]
    staged = [image.provider_file_url for image in images(env)]

    # the worker submits concurrently, so the market's two tasks may arrive in either order
    tasks = {task["model"]: task for task in fake.bodies("create")}
    assert set(tasks) == {KLING, SORA}
    kling_task, sora_task = tasks[KLING], tasks[SORA]
    assert kling_task["input"]["duration"] == "10" and kling_task["input"]["sound"] is True
    assert sora_task["input"] == {"prompt": sora_task["input"]["prompt"], "image_urls": staged[:1],
                                  "aspect_ratio": "portrait", "n_frames": "10", "remove_watermark": True}
    [veo_task] = fake.bodies("veo_create")  # Veo 3.1 has its own endpoint at Kie.ai
    assert veo_task["model"] == VEO_FAST and veo_task["aspect_ratio"] == "9:16"
    assert veo_task["generationType"] == "FIRST_AND_LAST_FRAMES_2_VIDEO"
    assert veo_task["imageUrls"] == staged[:2]  # the first photo moves to the second
    assert veo_task["callBackUrl"] == f"{env.app.config['PUBLIC_BASE_URL']}/webhooks/kie"
    # the Veo video was polled at Veo's record-info, the others at the market's
    assert videos[veo[0]].external_job_id.startswith("veo:") and fake.hits["veo_status"] >= 1
    assert fake.hits["status"] >= 2


@pytest.mark.parametrize(("model", "options", "field", "words"), [
    (KLING, {"duration": 7}, "options.duration", "Kling 2.6 makes videos of 5 s or 10 s, not 7 s"),
    (VEO, {"aspectRatio": "1:1"}, "options.aspectRatio", "Veo 3.1 Quality makes 16:9 or 9:16 videos, not 1:1"),
    (VEO_FAST, {"duration": 10}, "options.duration", "Veo 3.1 Fast makes videos of 8 s, not 10 s"),
    (SORA, {"aspectRatio": "1:1"}, "options.aspectRatio", "Sora 2 makes 16:9 or 9:16 videos, not 1:1"),
    (SORA, {"duration": 5}, "options.duration", "Sora 2 makes videos of 10 s or 15 s, not 5 s"),
    ("kling-9/image-to-video", {}, "model", "Kie.ai offers the models kling-2.6/image-to-video, sora-2-image-to-video"),
    (KLING, {"resolution": "1080p"}, "options.resolution", "Kie.ai makes its videos at its own size"),
], ids=["kling-7s", "veo-1:1", "veo-fast-10s", "sora-1:1", "sora-5s", "unknown-model", "kling-1080p"])
def test_a_request_a_model_cannot_make_is_refused_before_anything_is_charged(env, fake, model, options, field, words):
    with pytest.raises(GenerationError) as refused:
        env.create(model=model, options=options)
    assert refused.value.field == field and words in refused.value.message
    assert env.videos() == [] and env.used() == 0
    assert fake.hits["create"] == fake.hits["veo_create"] == 0


def test_a_video_without_a_length_gets_its_models_default(env, fake):
    first, second = env.create(model=SORA, options={}) + env.create(model=VEO, options={})
    env.run_until(lambda: env.finished(first, second))
    assert fake.bodies("create")[0]["input"]["n_frames"] == "10"
    assert fake.bodies("veo_create")[0]["model"] == VEO
    assert env.status(first) == env.status(second) == "completed"


def test_a_signed_veo_callback_finishes_its_video_from_veos_own_record(env, fake):
    fake.duration = 1000
    done, broken = env.create(2, model=VEO_FAST, options={})
    env.run_until(lambda: env.status(done) == "generating" and env.status(broken) == "generating", sync=False)
    by_video = {v.id: v.external_job_id.removeprefix("veo:") for v in env.videos()}
    assert fake.call_back(by_video[done]).status_code == 200
    assert fake.call_back(by_video[broken], "failure").status_code == 200
    assert env.status(done) == "completed" and fake.hits["veo_status"] == 2 and fake.hits["status"] == 0
    failed = env.video(broken)
    assert (failed.status, failed.error) == ("failed", "Kie.ai: Failed to process video: Invalid image format")


def test_the_models_offered_are_the_enabled_ones_the_default_first(app_factory, fake, caplog):
    app = app_factory(**provider_settings("kie", fake.url, KIE_MODEL=VEO_FAST,
                                          KIE_MODELS=f"{SORA}, {VEO_FAST},no-such-model,{SORA}"))
    with app.app_context():
        models = get_provider("kie").models()
    assert [model.key for model in models] == [VEO_FAST, SORA]
    assert "no-such-model" in caplog.text
    assert models[0].rules() == "8 s, 16:9 or 9:16, 2 photos, always with sound"


def test_the_served_description_states_each_models_lengths_and_shapes(env):
    document = env.app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    body = schemas["CreateVideo"]
    assert body["properties"]["model"]["anyOf"][0]["enum"] == [KLING, SORA, VEO_FAST, VEO]
    assert "veo3 (Veo 3.1 Quality): 8 s, 16:9 or 9:16, 2 photos" in body["properties"]["model"]["description"]
    local = json.loads(json.dumps(schemas).replace("#/components/schemas/", "#/$defs/"))
    validator = Draft202012Validator({**local["CreateVideo"], "$defs": local})
    valid = {"productId": 1, "template": "product_showcase", "model": KLING, "options": {"duration": 10}}
    assert not list(validator.iter_errors(valid))
    assert list(validator.iter_errors({**valid, "options": {"duration": 7}}))  # the description refuses it too
    assert list(validator.iter_errors({**valid, "model": VEO, "options": {"aspectRatio": "1:1"}}))
