"""Mirroring a remote provider's result into our storage — a directory and a real S3 server
(SeaweedFS) — streamed: limits, types, private addresses, a download that breaks off (retried at
the next poll, leaving one copy), a thumbnail cut from the stored video, and a 1 GB result
mirrored with little memory."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.conftest import jpeg_bytes
from tests.integration.provider_fakes import Fault, TaskApiFake
from tests.integration.provider_support import Env, provider_settings, sample_mp4
from tests.storage_support import (
    PeakMemory,
    Served,
    left_on_disk,
    stored_keys,
    unfinished_uploads,
)
from webapp import media
from webapp.providers.base import ProviderResult
from webapp.providers.mirror import MirrorError, mirror_result, probe
from webapp.storage import current_storage


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


def stored(env: Env) -> list[str]:
    with env.app.app_context():
        return stored_keys(current_storage())


def read(env: Env, key: str) -> bytes:
    with env.app.app_context(), media.open_reader(key) as reader:
        return reader.read()


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
def test_a_result_that_cannot_be_copied_fails_the_video_and_leaves_no_file(
    app_factory, media_backend, fake, settings, fault, reason
):
    env = Env(app_factory(**provider_settings("taskapi", fake.url, **settings), **media_backend))
    if fault:
        fake.inject("video", fault)
    [video_id] = env.create()
    env.run_until(lambda: env.finished(video_id))
    video = env.video(video_id)
    assert video.status == "failed" and video.error.startswith("Could not copy the finished video:")
    assert reason in video.error
    assert env.media_files() == [] and env.used() == 0
    with env.app.app_context():
        assert unfinished_uploads(current_storage()) == []


def test_a_download_that_breaks_off_is_tried_again_and_leaves_one_copy(app_factory, media_backend, fake):
    env = Env(app_factory(**provider_settings("taskapi", fake.url), **media_backend))
    fake.inject("video", Fault(truncate=True))
    [video_id] = env.create()
    env.run_until(lambda: fake.hits["video"] >= 1)
    env.run_until(lambda: env.finished(video_id))
    video = env.video(video_id)
    assert video.status == "completed" and fake.hits["video"] == 2
    assert env.media_files() == [video.video_path]
    assert read(env, video.video_path) == sample_mp4()
    assert read(env, video.thumbnail_path) == jpeg_bytes()
    assert (video.width, video.height, video.size_bytes) == (320, 240, len(sample_mp4()))
    with env.app.app_context():
        assert unfinished_uploads(current_storage()) == []


def test_without_the_providers_thumbnail_one_is_cut_from_the_stored_video(app_factory, media_backend, fake, tmp_path):
    env = Env(app_factory(**provider_settings("taskapi", fake.url), **media_backend))
    fake.inject("thumbnail", Fault(status=404))
    [video_id] = env.create()
    env.run_until(lambda: env.finished(video_id))
    video = env.video(video_id)
    assert video.status == "completed" and video.thumbnail_path.endswith(".jpg")
    poster = tmp_path / "poster.jpg"
    poster.write_bytes(read(env, video.thumbnail_path))
    with Image.open(poster) as image:
        assert (image.format, image.size) == ("JPEG", (640, 480))  # a frame of the 4:3 video, 640 wide
    assert sorted(stored(env)) == sorted([video.video_path, video.thumbnail_path, *product_images(env)])
    with env.app.app_context():
        assert left_on_disk(current_storage()) == []
    if media_backend:  # S3: nothing of the video was ever written under MEDIA_DIR
        assert not [path for path in env.app.config["MEDIA_DIR"].rglob("*") if path.is_file()]


def product_images(env: Env) -> list[str]:
    return [key for key in stored(env) if key.startswith("products/")]


# ------------------------------------------------------------ 1 GB, streamed ----

MB = 1024 * 1024
GIGABYTE = 1024 * MB


def gigabyte_movie() -> Iterator[bytes]:
    """A 1 GB MP4 as a provider's CDN sends it: ftyp, a 1 GB media box, then the moov (no
    faststart), generated as it is sent."""
    ftyp = struct.pack(">I4s", 24, b"ftyp") + b"isom\0\0\0\1isomavc1"
    moov = sample_mp4()[sample_mp4().index(b"moov") - 4:]  # the small sample's moov: 320x240, 1 s
    moov = moov[: struct.unpack(">I", moov[:4])[0]]
    yield ftyp
    yield struct.pack(">I4sQ", 1, b"mdat", 16 + GIGABYTE)
    block = b"\x17" * MB
    for _ in range(GIGABYTE // MB):
        yield block
    yield moov


@pytest.mark.slow
def test_a_gigabyte_result_is_mirrored_with_little_memory(app_factory, media_backend, files_server):
    app = app_factory(MIRROR_MAX_BYTES=2 * GIGABYTE, **media_backend)
    length = sum(len(chunk) for chunk in gigabyte_movie())
    url = files_server("/result.mp4", Served("video/mp4", gigabyte_movie, length))
    thumbnail = files_server("/thumb.jpg", Served("image/jpeg", lambda: iter([jpeg_bytes()]), len(jpeg_bytes())))
    with app.app_context():
        with PeakMemory() as memory:
            result = mirror_result(ProviderResult(video_url=url, thumbnail_url=thumbnail), app.config, 4, 9)
        assert memory.growth < 64 * MB, f"memory grew by {memory.growth / MB:.0f} MB"
        storage = current_storage()
        assert result.size_bytes == length == storage.size(result.video_file)
        assert result.video_file.startswith("videos/4/9-") and result.video_file.endswith(".mp4")
        assert (result.width, result.height, result.duration) == (320, 240, pytest.approx(1.0, abs=0.05))
        with storage.open(result.video_file) as reader:
            assert reader.read(32)[4:8] == b"ftyp"
        storage.delete(result.video_file, result.thumbnail_file)
        assert unfinished_uploads(storage) == [] and left_on_disk(storage) == []
