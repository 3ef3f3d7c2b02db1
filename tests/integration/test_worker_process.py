"""A real `flask worker` process killed with SIGKILL mid-render loses nothing: after its lease
expires another worker renders the video again, the quota was charged once, and the half-written
files it left are removed by the sweep of partial files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_product, make_workspace, video_request
from tests.integration.engine_helpers import fresh
from tests.storage_support import files_under
from webapp.extensions import db
from webapp.generation import quota, service
from webapp.generation.worker import Worker
from webapp.jobs import JOBS, PARTIALS_KEPT_S
from webapp.storage import current_storage

ROOT = Path(__file__).resolve().parents[2]


def start_worker(app, tmp_path, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "MEDIA_DIR": str(app.config["MEDIA_DIR"]),
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "LEASE_S": "3",
        "RENDER_SLOTS": "1",
        "EMBEDDED_WORKER": "0",
        "TEMPLATE_PREVIEWS": "0",
    }
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env, stdout=log, stderr=log
    )


def processes_using(folder: Path) -> list[str]:
    """Command lines of the running processes that name ``folder`` (ffmpeg writing into it)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(folder) in cmdline and "ffmpeg" in cmdline:
            found.append(cmdline)
    return found


def partial_files(folder: Path) -> list[Path]:
    """Half-written files: hidden, as storage and the renderer name them while writing."""
    return [path for path in files_under(folder) if path.name.startswith(".")]


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_a_worker_killed_mid_render_loses_nothing(app, tmp_path):
    with app.app_context():
        workspace, owner = make_workspace()
        product = make_product(workspace, images=3)
        video, _ = service.create_video(
            workspace, owner, video_request(product_id=product.id, template="store_display",
            # silent: ffmpeg writes the video straight into the media folder (a voiced render
            # draws into a temporary folder first)
            options={"duration": 30, "aspectRatio": "1:1", "voiceover": False},))
        video_id = video.id
        db.session.rollback()

        first = start_worker(app, tmp_path, "first")
        try:
            wait_until(lambda: fresh(video_id).status == "generating" and fresh(video_id).progress > 0, 120,
                       "the first worker to start rendering")
            assert processes_using(app.config["MEDIA_DIR"]), "ffmpeg should be rendering"
            wait_until(lambda: partial_files(app.config["MEDIA_DIR"]), 60, "ffmpeg to write the first frames")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        assert fresh(video_id).status == "generating"
        # its ffmpeg child dies with it (parent-death signal), instead of rendering on unowned
        wait_until(lambda: not processes_using(app.config["MEDIA_DIR"]), 5, "the orphaned ffmpeg to die")
        partials = partial_files(app.config["MEDIA_DIR"])
        assert partials, "the killed render leaves its half-written files"

        second = start_worker(app, tmp_path, "second")
        try:
            wait_until(lambda: fresh(video_id).status in ("completed", "failed"), 240, "the second worker to finish")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)

        finished = fresh(video_id)
        assert finished.status == "completed", finished.error
        assert finished.attempts == 2
        assert any("restarted" in event.message for event in finished.events)
        db.session.rollback()
        assert quota.usage(workspace).used == 1
        db.session.rollback()

        # a day later, the hourly sweep removes what the killed render left, and nothing else
        stale = time.time() - PARTIALS_KEPT_S - 60
        for path in partials:
            os.utime(path, (stale, stale))
        next(job for job in JOBS if job.id == "partials").run(Worker(app))
        assert not any(path.exists() for path in partials)
        assert current_storage().exists(finished.video_path)
