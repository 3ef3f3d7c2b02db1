"""The template picker's clips: a fresh install serves at once, and its worker renders the
missing clips in the background, in every aspect ratio, leaving the ones already there alone."""

from __future__ import annotations

from datetime import timedelta

import imageio_ffmpeg
import pytest
from PIL import Image

from tests.conftest import wait_for
from webapp.extensions import db
from webapp.generation.previews import preview_keys, render_template_previews
from webapp.generation.templates import all_templates, template_by_key
from webapp.jobs import start_scheduler
from webapp.limits import ASPECT_RATIOS
from webapp.models import utcnow
from webapp.render.renderer import PREVIEW_SIZES
from webapp.storage import current_storage

MISSING = "product_showcase"
KEPT = b"a clip made before"


def keep_all_previews_but(missing: str) -> None:
    """Every other template already has its clips (stand-ins, which must stay as they are)."""
    storage = current_storage()
    for template in all_templates():
        if template.key == missing:
            continue
        files = {}
        for aspect in ASPECT_RATIOS:
            video, poster = preview_keys(template.key, aspect)
            storage.put_bytes(video, KEPT)
            storage.put_bytes(poster, KEPT)
            files[aspect] = {"preview": video, "poster": poster}
        template.preview_files = files
        template.preview_video_path, template.preview_thumbnail_path = preview_keys(template.key, "16:9")
    db.session.commit()


def shapes_made() -> list[str]:
    """The aspect ratios of MISSING's clips, read in a transaction that ends at once (on SQLite
    an open one would keep the worker from writing)."""
    shapes = list(template_by_key(MISSING).preview_files or {})
    db.session.commit()
    return shapes


@pytest.mark.slow
def test_the_worker_renders_the_missing_previews_as_it_starts(app, client):
    keep_all_previews_but(MISSING)  # the client's fixtures keep an app context open
    picker = client.get("/templates/picker?aspect=9:16").get_data(as_text=True)
    assert "No preview yet" in picker  # served before the clips exist

    app.config["TEMPLATE_PREVIEWS"] = True
    start_scheduler(app)
    wait_for(lambda: len(shapes_made()) == len(ASPECT_RATIOS), 120, 0.2)
    made = template_by_key(MISSING).preview_files or {}
    assert sorted(made) == sorted(ASPECT_RATIOS)
    storage = current_storage()
    for aspect, files in made.items():
        with storage.local_copy(files["preview"]) as clip:
            reader = imageio_ffmpeg.read_frames(str(clip))
            size = tuple(next(reader)["size"])
            reader.close()
        assert size == PREVIEW_SIZES[aspect]
        with storage.local_copy(files["poster"]) as poster, Image.open(poster) as im:
            assert im.size == PREVIEW_SIZES[aspect]
    for template in all_templates():
        if template.key != MISSING:
            with storage.open(preview_keys(template.key, "1:1")[0]) as kept:
                assert kept.read() == KEPT
    picker = client.get("/templates/picker?aspect=9:16").get_data(as_text=True)
    assert f"/media/templates/{MISSING}/preview" in picker and "No preview yet" not in picker


def test_a_preview_that_failed_before_is_not_tried_again(app, workspace):
    keep_all_previews_but(MISSING)
    skipped = {f"{MISSING} {aspect}" for aspect in ASPECT_RATIOS}
    assert list(render_template_previews(skip=skipped)) == []
    assert list(render_template_previews(skip=skipped - {f"{MISSING} 1:1"})) == [(f"{MISSING} 1:1", "rendered")]


def test_a_preview_another_worker_made_meanwhile_is_recorded_not_made_again(app, workspace):
    keep_all_previews_but(MISSING)
    video, poster = preview_keys(MISSING, "1:1")
    storage = current_storage()
    storage.put_bytes(video, KEPT)  # written by another worker, which has not recorded it yet
    storage.put_bytes(poster, KEPT)
    skipped = {f"{MISSING} {aspect}" for aspect in ("16:9", "9:16")}
    assert list(render_template_previews(skip=skipped)) == [(f"{MISSING} 1:1", "recorded (made by another worker)")]
    assert template_by_key(MISSING).preview_files == {"1:1": {"preview": video, "poster": poster}}
    with storage.open(video) as clip:
        assert clip.read() == KEPT


def test_a_clip_of_an_older_look_is_made_again_and_its_files_removed(app, workspace):
    """An install upgraded to a renderer whose look changed (PREVIEW_VERSION) gets new clips;
    the picker shows the old one until the new one is recorded."""
    keep_all_previews_but(MISSING)
    storage = current_storage()
    old = {"preview": "previews/product_showcase-1x1.mp4", "poster": "previews/product_showcase-1x1.jpg"}
    for key in old.values():
        storage.put_bytes(key, KEPT)
    template = template_by_key(MISSING)
    template.preview_files = {"1:1": old}
    db.session.commit()
    skipped = {f"{MISSING} {aspect}" for aspect in ("16:9", "9:16")}

    assert list(render_template_previews(skip=skipped)) == [(f"{MISSING} 1:1", "rendered")]
    video, poster = preview_keys(MISSING, "1:1")
    assert template_by_key(MISSING).preview_files == {"1:1": {"preview": video, "poster": poster}}
    with storage.local_copy(video) as clip:
        assert imageio_ffmpeg.count_frames_and_secs(str(clip))[0] > 0
    assert not storage.exists(old["preview"]) and not storage.exists(old["poster"])
    assert list(render_template_previews(skip=skipped)) == []  # the current version is kept


def test_a_template_another_worker_is_rendering_is_left_to_it_until_its_lease_runs_out(app, workspace):
    """Workers starting together (a fresh install, an upgrade) share the clips instead of each
    making every one."""
    keep_all_previews_but(MISSING)
    template = template_by_key(MISSING)
    template.lease_owner, template.lease_expires_at = "other-worker", utcnow() + timedelta(minutes=5)
    db.session.commit()
    skipped = {f"{MISSING} {aspect}" for aspect in ("16:9", "9:16")}

    assert list(render_template_previews(skip=skipped, owner="this-worker")) == [
        (f"{MISSING} 1:1", "left to another worker, which is rendering it")]
    assert not current_storage().exists(preview_keys(MISSING, "1:1")[0])
    assert template_by_key(MISSING).preview_files is None

    template = template_by_key(MISSING)
    template.lease_expires_at = utcnow() - timedelta(seconds=1)  # that worker died
    db.session.commit()
    assert list(render_template_previews(skip=skipped, owner="this-worker")) == [(f"{MISSING} 1:1", "rendered")]
    template = template_by_key(MISSING)
    assert template.lease_owner is None and template.lease_expires_at is None  # handed back once recorded
