"""A real `flask worker` process killed with SIGKILL mid-render loses nothing: after its lease
expires another worker renders the video again, and the quota was charged once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import make_product, make_workspace
from tests.integration.engine_helpers import fresh
from webapp.extensions import db
from webapp.generation import quota, service

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
    }
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env, stdout=log, stderr=log
    )


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
            workspace, owner, product_id=product.id, template="store_display",
            options={"duration": 30, "aspectRatio": "1:1"},
        )
        video_id = video.id
        db.session.rollback()

        first = start_worker(app, tmp_path, "first")
        try:
            wait_until(lambda: fresh(video_id).status == "generating" and fresh(video_id).progress > 0, 120,
                       "the first worker to start rendering")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
        assert fresh(video_id).status == "generating"

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
