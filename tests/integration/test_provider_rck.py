"""The RCK Description Server provider (seeds/002): its template catalog in the picker, the
seed's submit, completion by signed callbacks to the legacy URLs, polling as the fallback."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import jpeg_bytes, video_request
from tests.integration.provider_fakes import Fault, RckFake
from tests.integration.provider_support import (
    SECRET,
    Env,
    provider_settings,
    sample_mp4,
    served,
)
from webapp.extensions import db
from webapp.generation import service
from webapp.generation.templates import picker_templates
from webapp.models import Workspace
from webapp.providers.base import ProviderError, ProviderNotConfigured

TEMPLATES = [
    {"template_name": "product_showcase", "title": "Product showcase", "description": "RCK's showcase",
     "youtube_url": "https://www.youtube.com/watch?v=aaaaaaaaaaa"},
    {"template_name": "spring_sale", "title": "Spring sale", "description": "Blossoms and a price tag",
     "youtube_id": "bbbbbbbbbbb"},
    "flash_deal",
]


@pytest.fixture
def fake():
    server = RckFake(templates=TEMPLATES, video=sample_mp4(), thumbnail=jpeg_bytes(size=(320, 240)))
    server.secret = SECRET
    server.start()
    yield server
    server.stop()


@pytest.fixture
def env(app_factory, fake):
    app = app_factory(**provider_settings("rck", fake.url))
    # RCK calls back: the app is served over HTTP
    with served(app):
        yield Env(app)


def test_the_picker_offers_rcks_templates_cached_and_they_can_be_generated(env, fake):
    with env.app.app_context():
        offered = picker_templates()
        again = picker_templates()
        assert [t.key for t in offered] == ["product_showcase", "spring_sale", "flash_deal"]
        assert [t.key for t in again] == [t.key for t in offered] and fake.hits["templates"] == 1
        spring = offered[1]
        assert (spring.name, spring.description, spring.provider) == ("Spring sale", "Blossoms and a price tag", "rck")
        assert spring.preview_url == "https://www.youtube.com/watch?v=bbbbbbbbbbb"
        assert offered[0].name == "Product showcase" and offered[0].provider == "local"  # seed rows keep theirs
        workspace = db.session.get(Workspace, env.workspace_id)
        video, _ = service.create_video(workspace, None, video_request(product_id=env.product_id, template="spring_sale"))
        assert video.template_key == "spring_sale" and video.title.endswith("Spring sale")


def test_the_picker_says_when_rck_is_not_configured(app_factory):
    app = app_factory(**provider_settings("rck", ""))
    with app.app_context(), pytest.raises(ProviderNotConfigured) as raised:
        picker_templates()
    assert str(raised.value) == (
        "Failed to load video templates. The provider may be offline. RCK Description Server is not configured"
    )


def test_the_picker_says_when_rck_is_unreachable_or_refuses(env, fake):
    fake.inject("templates", Fault(status=400, body=b'{"success": false, "message": "Template service disabled"}'))
    with env.app.app_context():
        with pytest.raises(ProviderError) as refused:
            picker_templates()
        fake.stop()
        with pytest.raises(ProviderError) as unreachable:
            picker_templates()
    assert str(refused.value) == "Failed to load video templates. The provider may be offline. Template service disabled"
    assert str(unreachable.value).startswith(
        "Failed to load video templates. The provider may be offline. RCK Description Server is unreachable"
    )


def test_a_video_is_completed_by_rcks_signed_success_callback(env, fake):
    [video_id] = env.create()
    env.run_until(lambda: env.status(video_id) == "generating", sync=False)
    [sent] = fake.bodies("create")
    assert sent == {
        "id_product": str(env.product_id), "title": "Trail Mug", "img_url": sent["img_url"], "user_id": str(env.user_id),
        "sku": "SKU-1", "template_name": "product_showcase", "video_id": str(video_id),
        "callback_url": f"{env.app.config['PUBLIC_BASE_URL']}/internal/videos/success",
        # the seed's fields, and what the video says (written from the product: no instructions)
        "custom_instructions": "", "script": ["Meet the Trail Mug.", "Sturdy enamel mug.", "Holds 350 ml.",
                                              "Just $19.", "Shop now."],
    }
    image = requests.get(sent["img_url"], timeout=5)  # RCK can fetch the product photo we point it at
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"

    [job_id] = fake.jobs
    answer = fake.call_back(job_id)
    assert answer.status_code == 200 and answer.json()["outcome"] == "applied"
    video = env.video(video_id)
    assert video.status == "completed" and video.external_job_id == job_id
    assert (env.app.config["MEDIA_DIR"] / video.video_path).read_bytes() == sample_mp4()
    assert video.thumbnail_path  # cut from the video: RCK sends no thumbnail
    assert any(e.kind == "webhook" for e in video.events)
    assert fake.hits["status"] == 0 and env.used() == 1


def test_rcks_failure_callback_fails_the_video_with_its_error_and_refunds(env, fake):
    [video_id] = env.create()
    env.run_until(lambda: env.status(video_id) == "generating", sync=False)
    [job_id] = fake.jobs
    assert fake.call_back(job_id, "failure").status_code == 200
    video = env.video(video_id)
    assert (video.status, video.error) == ("failed", "Failed to process video: Invalid image format")
    assert env.used() == 0


def test_without_a_callback_polling_finds_the_finished_job(app_factory, fake):
    env = Env(app_factory(**provider_settings("rck", fake.url)))
    fake.duration = 0.3
    [video_id] = env.create()
    env.run_until(lambda: env.finished(video_id))
    assert env.status(video_id) == "completed" and fake.hits["status"] >= 1 and not fake.callbacks


def test_a_submit_whose_answer_is_lost_waits_for_the_callback_instead_of_sending_it_again(env, fake):
    fake.inject("create", Fault(hang=5, process=True))
    [video_id] = env.create()
    env.tick(sync=False)
    assert env.status(video_id) == "pending" and len(fake.jobs) == 1
    waiting = "Waiting for the RCK Description Server to report back"
    env.run_until(lambda: env.video(video_id).progress_message == waiting)
    assert env.status(video_id) == "generating"
    [job_id] = fake.jobs  # not sent twice
    assert fake.call_back(job_id).status_code == 200
    assert env.status(video_id) == "completed" and len(fake.jobs) == 1 and env.used() == 1


def test_a_callback_that_comes_before_the_submit_answer_starts_and_completes_the_video(env, fake):
    fake.inject("create", Fault(hang=5, process=True))
    [video_id] = env.create()
    env.tick(sync=False)  # the answer is lost; the video waits to reconcile
    [job_id] = fake.jobs
    assert fake.call_back(job_id).status_code == 200
    video = env.video(video_id)
    assert video.status == "completed"
    assert [e.to_status for e in video.events if e.to_status] == ["pending", "generating", "completed"]
    env.tick()
    assert len(fake.jobs) == 1
