"""The task API provider (seeds/004) against a fake that speaks its contract over real HTTP,
end to end through the background ticks, and with the faults a remote service has."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from tests.conftest import PASSWORD, jpeg_bytes
from tests.integration.provider_fakes import Fault, TaskApiFake
from tests.integration.provider_support import Env, provider_settings, sample_mp4
from webapp.extensions import db
from webapp.generation import health, service
from webapp.models import VideoStatus, Workspace
from webapp.providers.base import ProviderState
from webapp.providers.registry import get_provider


@pytest.fixture
def fake():
    server = TaskApiFake(video=sample_mp4(), thumbnail=jpeg_bytes(size=(320, 240)), duration=0.25).start()
    yield server
    server.stop()


@pytest.fixture
def env(app_factory, fake):
    return Env(app_factory(**provider_settings("taskapi", fake.url)))


def test_a_video_deleted_while_it_is_being_submitted_is_dropped_quietly(app_factory, fake, caplog):
    env = Env(app_factory(**provider_settings("taskapi", fake.url, PROVIDER_READ_TIMEOUT_S=5)))
    [video_id] = env.create()
    fake.inject("create", Fault(hang=1.5, process=True))  # the task is made; its answer takes a while
    submitting = threading.Thread(target=env.tick, kwargs={"sync": False})
    submitting.start()
    deadline = time.monotonic() + 10
    while fake.hits["create"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    with env.app.app_context():
        service.delete_video(db.session.get(Workspace, env.workspace_id), video_id)
    submitting.join(timeout=20)

    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert env.videos() == [] and env.used() == 0
    env.tick()  # the orphaned task is not polled: nothing knows it any more
    assert fake.hits["status"] == 0


def test_a_video_goes_from_the_catalog_to_a_mirrored_mp4(env, fake):
    [video_id] = env.create(
        custom_instructions="Show it steaming on a camp table.",
        options={"duration": 6, "music": True, "captions": [{"start": 0, "end": 2.5, "text": "Hot coffee anywhere"}]},
    )
    env.run_until(lambda: env.finished(video_id))

    video = env.video(video_id)
    assert video.status == "completed", video.error
    path = env.app.config["MEDIA_DIR"] / video.video_path
    assert video.video_path.startswith(f"videos/{env.workspace_id}/") and path.read_bytes() == sample_mp4()
    assert (video.width, video.height, video.size_bytes) == (320, 240, len(sample_mp4()))
    assert video.duration_s == pytest.approx(1.0, abs=0.05)
    assert (env.app.config["MEDIA_DIR"] / video.thumbnail_path).read_bytes()[:2] == b"\xff\xd8"
    assert video.remote_video_url == f"{fake.url}/files/video.mp4" and video.progress == 100
    assert [e.to_status for e in video.events if e.to_status] == ["pending", "generating", "completed"]
    assert env.used() == 1

    [sent] = fake.bodies("create")
    assert sent["front_image"] != sent["tail_image"]  # first and last of the product's two photos
    assert "Trail Mug" in sent["prompt"] and "Show it steaming on a camp table." in sent["prompt"]
    assert sent | {"front_image": None, "tail_image": None, "prompt": None} == {
        "front_image": None, "tail_image": None, "prompt": None, "duration": 6, "transition_type": "ENERGETIC",
        "enable_subtitles": True, "subtitle_style": "default", "subtitle_position": "bottom",
        "subtitles": [{"startTime": 0.0, "endTime": 2.5, "text": "Hot coffee anywhere"}],
        "enable_music": True, "music_type": "ambient", "enable_voiceover": True,  # it speaks the script
    }
    # the merchant's sentence is the script, and the task API is told it word for word
    assert "The video says: Show it steaming on a camp table." in sent["prompt"]
    [(_, request, _)] = [r for r in fake.requests if r[0] == "create"]
    assert request.headers["Authorization"] == "Token test-token"


def test_without_captions_the_script_is_the_subtitles_spread_over_the_video(env, fake):
    [video_id] = env.create(custom_instructions="Desk at night. USB-C charging.", options={"duration": 8})
    env.run_until(lambda: env.finished(video_id))
    [sent] = fake.bodies("create")
    assert [s["text"] for s in sent["subtitles"]] == ["Desk at night.", "USB-C charging.", "Shop now."]
    assert [(s["startTime"], s["endTime"]) for s in sent["subtitles"]] == [(0.0, 2.667), (2.667, 5.333), (5.333, 8.0)]


def test_states_map_onto_ours_with_progress_and_stage_names(env, fake):
    with env.app.app_context():
        provider = get_provider("taskapi")
        task_id = provider.submit(_request(env))
        fake.jobs[task_id].duration = 1000  # created just now: in its first fifth, queued
        queued = provider.status(task_id)
        fake.jobs[task_id].created -= 500  # halfway
        running = provider.status(task_id)
        fake.finish_now(task_id, "failure")
        failed = provider.status(task_id)
    assert (queued.state, queued.message) == (ProviderState.QUEUED, "Waiting in the task API's queue")
    assert (running.state, running.progress, running.message) == (ProviderState.RUNNING, 50, "Processing frames...")
    assert (failed.state, failed.error) == (ProviderState.FAILED, "Failed to process video: Invalid image format")


def _request(env):
    from webapp.generation.requests import build_request
    from webapp.models import Video

    [video_id] = env.create()
    return build_request(db.session.get(Video, video_id))


def test_5xx_answers_are_retried_within_the_call_without_a_second_task(env, fake):
    fake.inject("create", Fault(status=500), Fault(status=503))
    fake.inject("status", Fault(status=502), Fault(status=500))
    [video_id] = env.create()
    env.run_until(lambda: env.finished(video_id))
    assert env.status(video_id) == "completed"
    assert fake.hits["create"] == 3 and len(fake.jobs) == 1
    assert env.video(video_id).attempts == 1


def test_more_5xx_than_the_call_retries_wait_in_the_worker_and_then_go_through(env, fake):
    fake.inject("create", *[Fault(status=500)] * 3)  # one more than PROVIDER_RETRIES allows in a call
    [video_id] = env.create()
    env.tick(sync=False)
    video = env.video(video_id)
    assert video.status == "pending" and video.progress_message.startswith("Waiting to retry: Task API answered 500")
    env.run_until(lambda: env.finished(video_id))
    video = env.video(video_id)
    assert video.status == "completed" and video.attempts == 2 and len(fake.jobs) == 1
    assert any("retrying in" in e.message for e in video.events)


def test_a_long_retry_after_is_left_to_the_worker_and_honoured(env, fake):
    [video_id] = env.create()
    env.run_until(lambda: env.status(video_id) == "generating", sync=False)
    fake.inject("status", Fault(status=429, headers={"Retry-After": "1"}))
    env.run_until(lambda: fake.hits["status"] == 1, dispatch=False)
    limited_at = fake.hit_times["status"][0]
    env.run_until(lambda: env.finished(video_id))
    assert fake.hit_times["status"][1] - limited_at >= 0.9  # no call before the second it asked for
    assert env.status(video_id) == "completed"


def test_a_provider_hanging_past_the_read_timeout_is_given_up_on_and_retried(env, fake):
    [video_id] = env.create()
    env.run_until(lambda: env.status(video_id) == "generating", sync=False)
    fake.inject("status", Fault(hang=5))
    started = time.monotonic()
    env.run_until(lambda: fake.hits["status"] >= 2, dispatch=False)
    assert time.monotonic() - started < 2  # 0.5 s read timeout, then a retry that answers
    env.run_until(lambda: env.finished(video_id))
    assert env.status(video_id) == "completed"


def test_a_submit_whose_answer_is_lost_is_sent_again_once_and_charged_once(env, fake):
    fake.inject("create", Fault(hang=5, process=True))  # the task is made, the answer never comes
    [video_id] = env.create()
    env.tick(sync=False)
    video = env.video(video_id)
    assert video.status == "pending" and video.submit_started_at is not None and len(fake.jobs) == 1
    env.run_until(lambda: env.finished(video_id))
    video = env.video(video_id)
    assert video.status == "completed" and video.attempts == 2
    assert len(fake.jobs) == 2  # the documented cost: the API cannot be asked about the lost one
    assert env.used() == 1


@pytest.mark.parametrize(
    "fault",
    [Fault(truncate=True), Fault(body=b"<html>Bad gateway</html>", content_type="text/html"), Fault(body=b"{}")],
    ids=["truncated", "not-json", "no-state"],
)
def test_unreadable_status_answers_are_retried(env, fake, fault):
    [video_id] = env.create()
    env.run_until(lambda: env.status(video_id) == "generating", sync=False)
    fake.inject("status", fault, fault, fault, fault)  # more than one call's retries: the worker retries too
    env.run_until(lambda: env.finished(video_id))
    assert env.status(video_id) == "completed" and env.used() == 1


def test_an_accepted_submit_without_a_task_id_is_not_taken_as_started(env, fake):
    fake.inject("create", Fault(body=b'{"status": "pending"}'))
    [video_id] = env.create()
    env.run_until(lambda: env.finished(video_id))
    video = env.video(video_id)
    assert video.status == "completed" and video.attempts == 2
    assert any("no task_id" in e.message for e in video.events)


def test_success_without_a_video_url_fails_the_video_with_the_reason(env, fake):
    [video_id] = env.create()
    env.run_until(lambda: env.status(video_id) == "generating", sync=False)
    fake.inject("status", Fault(body=b'{"state": "SUCCESS", "ready": true, "result": {"duration": 5}}'))
    env.run_until(lambda: env.finished(video_id), dispatch=False)
    video = env.video(video_id)
    assert video.status == "failed" and video.error == "The task API reported success but sent no video_url."
    assert env.used() == 0


def test_a_failure_fails_the_video_with_the_providers_message_and_refunds_once(env, fake):
    fake.outcomes.extend(["failure", "success"])
    [failing] = env.create()
    env.tick(sync=False)  # submitted first: the fake's first task fails
    [succeeding] = env.create()
    env.run_until(lambda: env.finished(failing, succeeding))
    video = env.video(failing)
    assert (video.status, video.error) == ("failed", "Failed to process video: Invalid image format")
    assert video.quota_refunded and env.used() == 1
    assert env.status(succeeding) == "completed"


def test_a_refusal_is_not_retried_and_fails_the_video_with_the_providers_message(env, fake):
    fake.inject("create", Fault(status=400, body=b'{"error": "prompt must be at most 1000 characters"}'))
    [video_id] = env.create()
    env.run_until(lambda: env.finished(video_id))
    video = env.video(video_id)
    assert video.status == "failed" and fake.hits["create"] == 1
    assert video.error == "taskapi refused the video: Task API answered 400: prompt must be at most 1000 characters"
    assert env.used() == 0


def test_a_task_that_never_finishes_is_timed_out_by_the_reaper_and_no_longer_polled(app_factory, fake):
    env = Env(app_factory(**provider_settings("taskapi", fake.url, GENERATION_TIMEOUT_S=1)))
    fake.outcomes.append("never")
    [video_id] = env.create()
    env.run_until(lambda: fake.hits["status"] >= 2)
    time.sleep(1.1)
    env.tick(dispatch=False, sync=False, reap=True)
    video = env.video(video_id)
    assert video.status == "failed" and video.error == "Timed out: not finished after 1 seconds."
    assert env.used() == 0
    polls = fake.hits["status"]
    for _ in range(5):
        env.tick()
    assert fake.hits["status"] == polls


def test_a_provider_that_goes_down_mid_flight_loses_no_video_and_refunds_each_failure_once(app_factory, fake):
    env = Env(app_factory(**provider_settings("taskapi", fake.url, PROVIDER_SUBMIT_BATCH=3)))
    fake.duration = 0.6
    fake.outcomes.extend(["success", "failure", "success", "success", "failure", "success"])
    video_ids = env.create(6)
    env.tick(sync=False)  # three are submitted
    fake.stop()
    for _ in range(4):  # the rest cannot be submitted, the first three cannot be polled
        env.tick()
        time.sleep(0.05)
    with env.app.app_context():
        assert health.snapshot("taskapi").state == "open"
        db.session.rollback()
    assert [env.status(v) for v in video_ids] == ["generating"] * 3 + ["pending"] * 3
    fake.restart()
    env.run_until(lambda: env.finished(*video_ids), timeout=20)

    videos = [env.video(v) for v in video_ids]
    assert sorted(v.status for v in videos) == ["completed"] * 4 + ["failed"] * 2
    assert all(v.error == "Failed to process video: Invalid image format" for v in videos if v.status == "failed")
    assert len(fake.jobs) == 6  # each submitted exactly once
    assert env.used() == 4  # one charge per completed video: each failure refunded once
    assert len(env.media_files()) == 4


def test_the_circuit_opens_after_repeated_failures_and_a_probe_closes_it(env, fake):
    video_ids = env.create(4)
    env.run_until(lambda: all(env.status(v) == "generating" for v in video_ids), sync=False)
    fake.inject("status", *[Fault(status=500)] * 1000)
    env.run_until(lambda: _circuit(env) == "open", dispatch=False)
    calls = fake.hits["status"]
    assert calls <= (3 + 3) * 3  # the threshold and the polls already in flight (4 threads), each tried 3 times
    env.tick(dispatch=False)
    assert fake.hits["status"] == calls  # open: no calls during the cool-off
    with env.app.app_context():
        env.worker.heartbeat()
    client = env.app.test_client()
    assert client.get("/readyz").get_json()["checks"]["provider"] == {"name": "taskapi", "circuit": "open"}
    client.post("/login", data={"email": "owner@example.com", "password": PASSWORD})
    settings = client.get("/settings").get_data(as_text=True)
    assert "Unreachable" in settings and "Task API answered 500" in settings

    time.sleep(0.5)  # the cool-off
    fake.faults["status"].clear()
    env.tick(dispatch=False)
    assert _circuit(env) == "closed"
    env.run_until(lambda: env.finished(*video_ids), dispatch=False)
    assert all(env.status(v) == "completed" for v in video_ids)


def test_while_the_circuit_is_open_one_probe_is_made_and_a_failed_probe_reopens_it(env, fake):
    [video_id] = env.create()
    env.run_until(lambda: env.status(video_id) == "generating", sync=False)
    fake.inject("status", *[Fault(status=500)] * 1000)
    env.run_until(lambda: _circuit(env) == "open", dispatch=False)
    time.sleep(0.5)
    calls = fake.hits["status"]
    env.tick(dispatch=False)
    assert fake.hits["status"] - calls == 3  # the probe: one call (with its in-call retries)
    assert _circuit(env) == "open"
    assert env.status(video_id) == VideoStatus.GENERATING.value


def _circuit(env) -> str:
    with env.app.app_context():
        row = health.snapshot("taskapi")
        state = row.state if row else "closed"
        db.session.rollback()
        return state


def test_a_provider_failing_during_a_dispatch_tick_is_not_called_for_every_video(app_factory, fake):
    env = Env(app_factory(**provider_settings("taskapi", fake.url, PROVIDER_RETRIES=0, PROVIDER_SUBMIT_BATCH=10)))
    fake.inject("create", *[Fault(status=503)] * 100)
    video_ids = env.create(10)
    env.tick(sync=False)
    assert fake.hits["create"] <= 3 + 1  # the threshold, and at most one more already in flight (2 submit threads)
    assert _circuit(env) == "open"
    videos = [env.video(v) for v in video_ids]
    assert all(v.status == "pending" and v.lease_owner is None for v in videos)
    assert sum(v.attempts for v in videos) == fake.hits["create"]  # a skipped video used no attempt
