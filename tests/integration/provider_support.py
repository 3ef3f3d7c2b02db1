"""Helpers for the remote-provider tests: settings that point the app at a fake provider with
short timeouts, the background ticks driven by hand, the app served over real HTTP (so fakes
can call back), and a real small MP4 made once per session."""

from __future__ import annotations

import functools
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.serving import make_server

from tests.conftest import make_product, make_workspace, video_request
from tests.storage_support import stored_keys
from webapp.extensions import db
from webapp.generation import quota, service
from webapp.generation.worker import Worker
from webapp.models import UsagePeriod, Video, Workspace
from webapp.storage import current_storage

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # conftest's WEBHOOK_SECRET
KIE_HMAC_KEY = "kie-webhook-hmac-key-for-tests"


@functools.cache
def sample_mp4(faststart: bool = True) -> bytes:
    """A real 1 s 320x240 H.264 MP4 (ffmpeg's test pattern)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "sample.mp4"
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
                   "-t", "1", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast"]
        command += ["-movflags", "+faststart"] if faststart else []
        subprocess.run([*command, "-y", str(out)], check=True, capture_output=True, timeout=60)
        return out.read_bytes()


def provider_settings(provider: str, url: str, **overrides: Any) -> dict[str, Any]:
    settings = {
        "VIDEO_PROVIDER": provider,
        "TASKAPI_BASE_URL": url, "TASKAPI_TOKEN": "test-token",
        "RCK_BASE_URL": url,
        "KIE_BASE_URL": url, "KIE_UPLOAD_URL": url, "KIE_API_KEY": "kie-test-key", "KIE_MODEL": "kling-2.6/image-to-video",
        "KIE_WEBHOOK_HMAC_KEY": KIE_HMAC_KEY,
        "PROVIDER_CONNECT_TIMEOUT_S": 0.5, "PROVIDER_READ_TIMEOUT_S": 0.5, "PROVIDER_RETRIES": 2,
        "PROVIDER_BACKOFF_S": 0.01, "PROVIDER_BACKOFF_CAP_S": 0.05,
        "TASKAPI_POLL_S": "0.05,0.2", "RCK_POLL_S": "0.05,0.2", "KIE_POLL_S": "0.05,0.2",
        "CIRCUIT_FAILURE_THRESHOLD": 3, "CIRCUIT_COOL_OFF_S": 0.5,
        "SYNC_THREADS": 4, "PLAN_LIMITS": {"junior": 30, "senior": 100, "executive": 500},
    }
    settings.update(overrides)
    return settings


class Env:
    """An app pointed at a fake provider, with a workspace and a product with two photos."""

    def __init__(self, app) -> None:
        self.app = app
        self.worker = Worker(app)
        with app.app_context():
            workspace, user = make_workspace(plan="senior")
            product = make_product(workspace, title="Trail Mug", images=2)
            self.workspace_id, self.user_id, self.product_id = workspace.id, user.id, product.id

    def create(self, count: int = 1, **kwargs: Any) -> list[int]:
        kwargs.setdefault("template", "product_showcase")
        kwargs.setdefault("options", {"duration": 5})
        with self.app.app_context():
            workspace = db.session.get(Workspace, self.workspace_id)
            user = workspace.memberships[0].user
            return [
                service.create_video(workspace, user, video_request(product_id=self.product_id, **kwargs))[0].id for _ in range(count)
            ]

    def tick(self, *, dispatch: bool = True, sync: bool = True, reap: bool = False) -> None:
        with self.app.app_context():
            if dispatch:
                self.worker.dispatch()
            if sync:
                self.worker.sync()
            if reap:
                self.worker.reap()
            db.session.remove()

    def run_until(self, predicate: Callable[[], bool], timeout: float = 15, **tick: bool) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.tick(**tick)
            if predicate():
                return
            time.sleep(0.03)
        raise AssertionError(f"not done within {timeout} s: {[(v.id, v.status, v.error) for v in self.videos()]}")

    def video(self, video_id: int) -> Video:
        """The video as it is now, with its events, detached (holds no transaction open)."""
        with self.app.app_context():
            video = db.session.scalar(select(Video).options(selectinload(Video.events)).where(Video.id == video_id))
            db.session.expunge_all()
            db.session.rollback()
            return video

    def videos(self) -> list[Video]:
        with self.app.app_context():
            videos = db.session.scalars(select(Video).order_by(Video.id)).all()
            db.session.expunge_all()
            return list(videos)

    def finished(self, *video_ids: int) -> bool:
        return all(self.video(v).status in ("completed", "failed", "canceled") for v in video_ids)

    def status(self, video_id: int) -> str:
        return self.video(video_id).status

    def used(self) -> int:
        with self.app.app_context():
            used = db.session.scalar(
                select(func.coalesce(func.sum(UsagePeriod.used), 0)).where(
                    UsagePeriod.workspace_id == self.workspace_id, UsagePeriod.period == quota.current_period()
                )
            )
            db.session.rollback()
            return used

    def media_files(self, suffix: str = ".mp4") -> list[str]:
        """The keys of the stored video files (on either storage backend)."""
        with self.app.app_context():
            keys = stored_keys(current_storage())
        return [key for key in keys if key.startswith("videos/") and key.endswith(suffix)]


@contextmanager
def served(app) -> Iterator[str]:
    """Serves ``app`` over HTTP on 127.0.0.1 and points PUBLIC_BASE_URL at it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = url
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
