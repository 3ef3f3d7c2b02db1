"""For the queue tests (tests/integration/test_queue.py): a provider whose renders finish when the test says so, so the order in
which videos start is seen without render times, and a thousand queued products made in a few
statements."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select

from tests.conftest import bulk_request
from webapp.extensions import db
from webapp.generation import service
from webapp.models import ImageStatus, Product, ProductImage, User, Workspace, utcnow
from webapp.providers.base import (
    BaseProvider,
    Capabilities,
    GenerationRequest,
    JobNotFound,
    ProviderResult,
    ProviderState,
    ProviderStatus,
    Reporter,
    TemplateInfo,
)

HELD = "tests.held:HeldProvider"  # VIDEO_PROVIDER (the provider column holds 32 characters)


class HeldProvider(BaseProvider):
    """RENDER_SLOTS render slots, like the local renderer, whose jobs run until ``finish``."""

    name = HELD
    label = "The held renderer"
    capabilities = Capabilities(cancel=True, in_process=True)
    poll_interval = (0.05, 0.1)

    def __init__(self, config: Mapping[str, Any], reporter: Reporter | None = None) -> None:
        self.slots = int(config["RENDER_SLOTS"])
        self.started: list[int] = []  # video ids, in the order their renders started
        self._running: dict[str, int] = {}  # job id -> video id
        self._done: dict[str, ProviderStatus] = {}
        self._lock = threading.Lock()
        self.reporter = reporter

    def templates(self) -> list[TemplateInfo]:
        return []

    def capacity(self) -> int:
        with self._lock:
            return max(0, self.slots - len(self._running))

    def submit(self, request: GenerationRequest) -> str:
        job = f"held-{request.reference}"
        with self._lock:
            self._running[job] = request.video_id
            self.started.append(request.video_id)
        return job

    def running(self) -> list[int]:
        with self._lock:
            return sorted(self._running.values())

    def finish(self, video_id: int, *, report: bool = False) -> None:
        """The render of ``video_id`` ends now: the next sync completes its video, or at once
        with ``report``, the way the local renderer tells its worker."""
        with self._lock:
            job = next(job for job, running in self._running.items() if running == video_id)
            del self._running[job]
            status = self._done[job] = ProviderStatus(
                ProviderState.SUCCEEDED, 100, "Rendered", ProviderResult(video_file=f"videos/held/{video_id}.mp4")
            )
        if report and self.reporter is not None:
            self.reporter(job, status)

    def status(self, external_id: str) -> ProviderStatus:
        with self._lock:
            if external_id in self._running:
                return ProviderStatus(ProviderState.RUNNING, 50, "Rendering")
            if external_id in self._done:
                return self._done[external_id]
        raise JobNotFound("Not running here.")

    def cancel(self, external_id: str) -> None:
        with self._lock:
            self._running.pop(external_id, None)

    def active_jobs(self) -> list[str]:
        with self._lock:
            return list(self._running)


def queue_bulk(workspace: Workspace, user: User, count: int) -> list[int]:
    """``count`` products with an image each (inserted in bulk), queued as one bulk; the video ids."""
    now = utcnow()
    first = db.session.scalar(select(Product.id).order_by(Product.id.desc()).limit(1)) or 0
    db.session.execute(insert(Product), [
        {"workspace_id": workspace.id, "external_key": f"bulk-{first + n}", "title": f"Product {first + n}", "sku": "",
         "description": "A product.", "vendor": "", "marketplace": "", "created_at": now, "updated_at": now}
        for n in range(count)
    ])
    ids = list(db.session.scalars(select(Product.id).where(Product.workspace_id == workspace.id, Product.id > first)))
    db.session.execute(insert(ProductImage), [
        {"product_id": product_id, "position": 0, "file_path": f"products/{workspace.id}/{product_id}.jpg",
         "status": ImageStatus.OK.value, "created_at": now}
        for product_id in ids
    ])
    db.session.commit()
    outcomes = service.create_bulk(workspace, user, bulk_request(product_ids=ids, template="unboxing"))
    assert all(outcome.result == "queued" for outcome in outcomes)
    return [outcome.video_id for outcome in outcomes]
