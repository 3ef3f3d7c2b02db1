"""Mirroring a remote provider's result into MEDIA_DIR: limits, types, private addresses, and a
download that breaks off (retried at the next poll, leaving one copy)."""

from __future__ import annotations

import pytest

from tests.conftest import jpeg_bytes
from tests.integration.provider_fakes import Fault, TaskApiFake
from tests.integration.provider_support import Env, provider_settings, sample_mp4
from webapp.providers.mirror import MirrorError, probe


@pytest.fixture
def fake():
    server = TaskApiFake(video=sample_mp4(), thumbnail=jpeg_bytes(), duration=0.2).start()
    yield server
    server.stop()


def test_the_mp4_header_gives_duration_and_size_wherever_the_moov_box_is():
    for data in (sample_mp4(), sample_mp4(faststart=False)):
        info = probe(data)
        assert (info.suffix, info.width, info.height) == (".mp4", 320, 240)
        assert info.duration == pytest.approx(1.0, abs=0.05)
    assert probe(b"\x1a\x45\xdf\xa3" + b"\x00" * 64).suffix == ".webm"
    with pytest.raises(MirrorError, match="not a video"):
        probe(b"<html>An error page</html>")


@pytest.mark.parametrize(
    ("settings", "fault", "reason"),
    [
        ({"MIRROR_MAX_BYTES": 1000}, None, "larger than"),
        ({}, Fault(body=b"<html>Sign in</html>", content_type="text/html"), "but got text/html"),
        ({}, Fault(body=b"\x00" * 4000, content_type="video/mp4"), "is not a video"),
        ({}, Fault(status=404), "answered 404"),
        ({"ALLOW_PRIVATE_MEDIA_HOSTS": False}, None, "is a private address"),
    ],
    ids=["too-large", "wrong-type", "not-a-video", "expired-link", "private-address"],
)
def test_a_result_that_cannot_be_copied_fails_the_video_and_leaves_no_file(app_factory, fake, settings, fault, reason):
    env = Env(app_factory(**provider_settings("taskapi", fake.url, **settings)))
    if fault:
        fake.inject("video", fault)
    [video_id] = env.create()
    env.run_until(lambda: env.finished(video_id))
    video = env.video(video_id)
    assert video.status == "failed" and video.error.startswith("Could not copy the finished video:")
    assert reason in video.error
    assert env.media_files() == [] and env.used() == 0


def test_a_download_that_breaks_off_is_tried_again_and_leaves_one_copy(app_factory, fake):
    env = Env(app_factory(**provider_settings("taskapi", fake.url)))
    fake.inject("video", Fault(truncate=True))
    [video_id] = env.create()
    env.run_until(lambda: fake.hits["video"] >= 1)
    env.run_until(lambda: env.finished(video_id))
    video = env.video(video_id)
    assert video.status == "completed" and fake.hits["video"] == 2
    assert env.media_files() == [env.app.config["MEDIA_DIR"] / video.video_path]
    assert (env.app.config["MEDIA_DIR"] / video.video_path).read_bytes() == sample_mp4()
