"""Several providers at once, chosen per video: one provider being down never stalls another's
videos. Its circuit opens, its videos wait (unfailed, not charged twice), and the other
provider's videos are submitted, polled and finished meanwhile; when it comes back, its videos
go on. The generate form's template picker offers the chosen provider's templates."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, jpeg_bytes, make_workspace
from tests.integration.provider_fakes import KieFake, RckFake, TaskApiFake
from tests.integration.provider_support import (
    KIE_HMAC_KEY,
    Env,
    provider_settings,
    sample_mp4,
    served,
)
from webapp.generation import health
from webapp.video_templates import SEED_TEMPLATES


@pytest.fixture
def fakes():
    taskapi = TaskApiFake(video=sample_mp4(), thumbnail=jpeg_bytes(), duration=0.3).start()
    kie = KieFake(video=sample_mp4(), thumbnail=jpeg_bytes(), duration=0.3)
    kie.hmac_key = KIE_HMAC_KEY
    kie.start()
    yield taskapi, kie
    taskapi.stop()
    kie.stop()


@pytest.fixture
def env(app_factory, fakes):
    taskapi, kie = fakes
    app = app_factory(**provider_settings("taskapi", taskapi.url, KIE_BASE_URL=kie.url, KIE_UPLOAD_URL=kie.url,
                                          RCK_BASE_URL=""))
    with served(app):
        yield Env(app)


def circuit(env, provider: str) -> str:
    with env.app.app_context():
        row = health.snapshot(provider)
        return row.state if row is not None else health.CLOSED


def test_a_provider_down_before_submitting_never_holds_up_the_others_videos(env, fakes):
    taskapi, kie = fakes
    taskapi.stop()
    waiting = env.create(3, provider="taskapi")  # as many as the failures that open its circuit
    made = env.create(2, provider="kie", model="kling-2.6/image-to-video")
    env.run_until(lambda: env.finished(*made) and circuit(env, "taskapi") == health.OPEN)
    assert [env.status(v) for v in made] == ["completed", "completed"] and kie.hits["create"] == 2
    assert [env.status(v) for v in waiting] == ["pending"] * 3 and circuit(env, "kie") == health.CLOSED
    assert all(env.video(v).attempts == 0 for v in waiting)  # calls that never reached it are not attempts

    taskapi.restart()
    env.run_until(lambda: env.finished(*waiting))
    assert [env.status(v) for v in waiting] == ["completed"] * 3
    assert circuit(env, "taskapi") == health.CLOSED and env.used() == 5


def test_a_provider_down_while_its_videos_generate_never_holds_up_the_others_polls(env, fakes):
    taskapi, kie = fakes
    taskapi.duration = kie.duration = 1000  # nothing finishes until the test says so
    generating = env.create(2, provider="taskapi")
    env.run_until(lambda: all(env.status(v) == "generating" for v in generating), sync=False)
    taskapi.stop()
    made = env.create(2, provider="kie", model="kling-2.6/image-to-video")
    env.run_until(lambda: all(env.status(v) == "generating" for v in made))
    for job_id in list(kie.jobs):
        kie.finish_now(job_id)
    env.run_until(lambda: env.finished(*made) and circuit(env, "taskapi") == health.OPEN)
    assert [env.status(v) for v in made] == ["completed", "completed"] and circuit(env, "kie") == health.CLOSED
    assert [env.status(v) for v in generating] == ["generating", "generating"]  # waiting, not failed

    taskapi.restart()
    for job_id in list(taskapi.jobs):
        taskapi.finish_now(job_id)
    env.run_until(lambda: env.finished(*generating))
    assert [env.status(v) for v in generating] == ["completed", "completed"]


# ------------------------------------------------------------------ picker ----


@pytest.fixture
def rck():
    server = RckFake(templates=[{"template_name": "spring_sale", "title": "Spring sale"}]).start()
    yield server
    server.stop()


def test_the_picker_offers_the_chosen_providers_templates_and_names_their_makers(app_factory, fakes, rck):
    taskapi, kie = fakes
    app = app_factory(**provider_settings("local", taskapi.url, KIE_BASE_URL=kie.url, KIE_UPLOAD_URL=kie.url,
                                          RCK_BASE_URL=rck.url))
    with app.app_context():
        make_workspace()
    client = app.test_client()
    client.post("/login", data={"email": "owner@example.com", "password": PASSWORD})

    def cards(query: str) -> list[str]:
        body = client.get(f"/templates/picker{query}", headers={"HX-Request": "true"}).get_data(as_text=True)
        return re.findall(r'data-template-key="([^"]+)"', body), body

    seeds = [t.key for t in SEED_TEMPLATES]
    keys, body = cards("?provider=kie")
    assert keys == seeds
    assert body.count("Made by Reelboard&#39;s renderer, Task API, RCK Description Server, Kie.ai") == 6
    assert cards("?provider=rck")[0] == ["spring_sale"]  # RCK's own catalog, asked of it
    assert "Made by RCK Description Server<" in cards("?provider=rck")[1]
    assert cards("?provider=nobody")[0] == cards("")[0] == seeds  # the default's (the built-in renderer)

    form = client.get("/videos/new").get_data(as_text=True)
    assert 'hx-include="#template-input, #aspect_ratio, #provider"' in form and 'id="provider"' in form
    assert "Kie.ai: Kling 2.6 (5 or 10 s, the photo&#39;s shape, 1 photo, sound on request)" in form
