"""Scaled out with STORAGE_URL on a real S3 server (SeaweedFS): `make run`'s setup (seed-demo:
the demo catalog and the template previews), then a video made by a separate `flask worker`
process, played and downloaded through the app — and not one file under MEDIA_DIR, nor left in
the scratch folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.integration.test_worker_process import ROOT, wait_until
from tests.storage_support import browser_get, files_under, stored_keys
from webapp.extensions import db
from webapp.generation.previews import preview_keys
from webapp.limits import ASPECT_RATIOS
from webapp.models import Product, Video
from webapp.storage import current_storage
from webapp.video_templates import SEED_KEYS


@pytest.mark.slow
def test_make_run_and_a_worker_process_keep_every_file_in_the_bucket(app_factory, seaweedfs, tmp_path):
    settings = {**seaweedfs.app_config(f"run-{uuid.uuid4().hex[:12]}"), "STORAGE_SCRATCH_DIR": str(tmp_path / "web")}
    app = app_factory(**settings)
    media_dir = app.config["MEDIA_DIR"]
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    setup = client.post("/setup", data={"name": "Owner", "email": "owner@example.com", "password": PASSWORD,
                                         "confirm": PASSWORD, "workspace": "Demo Store", "plan": "senior"})
    assert setup.status_code == 302, setup.get_data(as_text=True)
    with app.app_context():
        keys = stored_keys(current_storage())
        product = db.session.scalars(select(Product).order_by(Product.id)).first()
        product_id, image_id = product.id, product.images[0].id
        db.session.rollback()
    assert {preview_keys(key, shape)[0] for key in SEED_KEYS for shape in ASPECT_RATIOS} <= set(keys)
    assert any(key.startswith("products/") for key in keys)

    created = client.post("/videos", data={"product_id": product_id, "template": "product_showcase",
                                           "aspect_ratio": "16:9", "duration": "5"})
    assert created.status_code == 302, created.get_data(as_text=True)
    video_id = int(created.headers["Location"].rsplit("/", 1)[1])
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "wb"),  # noqa: SIM115 - closed with the process
        env={**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
             "MEDIA_DIR": str(media_dir), "INSTANCE_DIR": str(tmp_path / "instance"), "EMBEDDED_WORKER": "0",
             "RENDER_SLOTS": "1", "STORAGE_URL": settings["STORAGE_URL"], "S3_ENDPOINT_URL": settings["S3_ENDPOINT_URL"],
             "STORAGE_SCRATCH_DIR": str(tmp_path / "worker")},
    )
    try:
        with app.app_context():
            def finished() -> bool:
                status = db.session.scalar(select(Video.status).where(Video.id == video_id))
                db.session.rollback()
                return status in ("completed", "failed")

            wait_until(finished, 240, "the worker process to render the video")
            video = db.session.get(Video, video_id)
            assert video.status == "completed", video.error
            size = video.size_bytes
            db.session.rollback()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)

    page = client.get(f"/videos/{video_id}")
    assert page.status_code == 200 and f"/media/videos/{video_id}/video" in page.get_data(as_text=True)
    play = browser_get(client, f"/media/videos/{video_id}/video", {"Range": "bytes=0-99"})
    assert play.redirected and play.status == 206 and play.body[4:8] == b"ftyp"
    assert play.headers["Content-Range"] == f"bytes 0-99/{size}"
    download = browser_get(client, f"/media/videos/{video_id}/video?download=1")
    assert download.status == 200 and len(download.body) == size
    assert download.headers["Content-Disposition"].startswith("attachment")
    for path in (f"/media/videos/{video_id}/poster", f"/media/images/{image_id}",
                 "/media/templates/product_showcase/preview"):
        assert browser_get(client, path).status == 200, path
    assert files_under(media_dir) == []
    assert files_under(tmp_path / "web") == [] and files_under(tmp_path / "worker") == []
