"""The built-in provider: renders videos on this machine with ffmpeg (``webapp.render``).

Renders run in a bounded pool of render slots in the process that claimed the video. The job
table is this process's own: when the process dies its jobs are gone, ``status`` answers
JobNotFound, and the generation core restarts the render elsewhere.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import render
from .base import (
    GenerationRequest,
    JobNotFound,
    ProviderError,
    ProviderResult,
    ProviderState,
    ProviderStatus,
    Reporter,
    TemplateInfo,
    WebhookReport,
)

log = logging.getLogger(__name__)

FINISHED_JOBS_KEPT_S = 600
PROGRESS_REPORT_EVERY_S = 0.5  # at most two progress writes a second per render

# key, name, description — the six templates of seeds/002, in the order the picker shows them.
TEMPLATE_CATALOG = [
    ("product_showcase", "Product showcase",
     "A slow zoom over each photo with soft crossfades, and the title and price in a lower third."),
    ("human_usage", "Human usage",
     "Big, bold captions from your instructions tell how people use the product."),
    ("store_display", "Store display",
     "A mosaic of every photo, revealed tile by tile, then the hero shot, like a shop window."),
    ("lifestyle", "Lifestyle",
     "Gentle pans in a warm grade, with a tagline from the description."),
    ("technical_demo", "Technical demo",
     "Spec call-outs taken from the description appear one by one beside the photos."),
    ("unboxing", "Unboxing",
     "Wipe and slide reveals, as if the product comes out of its box."),
]


@dataclass
class _RenderJob:
    external_id: str
    status: ProviderStatus = field(default_factory=lambda: ProviderStatus(ProviderState.QUEUED, 0, "Waiting for a render slot"))
    cancel: threading.Event = field(default_factory=threading.Event)
    finished_at: float | None = None


class LocalProvider:
    name = "local"
    poll_interval = (1.0, 2.0)

    def __init__(self, config: Mapping[str, Any], reporter: Reporter | None = None) -> None:
        self.media_dir = Path(config["MEDIA_DIR"])
        self.slots = max(1, int(config["RENDER_SLOTS"]))
        self.ffmpeg_exe = config.get("FFMPEG_EXE")
        self.reporter = reporter
        self._jobs: dict[str, _RenderJob] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="render")

    def templates(self) -> list[TemplateInfo]:
        return [TemplateInfo(key, name, description) for key, name, description in TEMPLATE_CATALOG]

    def capacity(self) -> int:
        with self._lock:
            busy = sum(1 for job in self._jobs.values() if job.finished_at is None)
        return max(0, self.slots - busy)

    def submit(self, request: GenerationRequest) -> str:
        spec = render.RenderSpec(
            recipe=request.template,
            images=tuple(request.image_files),
            title=request.title,
            price=request.price,
            description=request.description,
            custom_instructions=request.custom_instructions,
            aspect_ratio=request.aspect_ratio,
            duration=float(request.duration),
            captions=tuple(render.Caption(c.start, c.end, c.text) for c in request.captions),
            music=request.music,
        )
        token = uuid.uuid4().hex[:12]
        folder = f"videos/{request.workspace_id}"
        (self.media_dir / folder).mkdir(parents=True, exist_ok=True)
        video_file, thumbnail_file = f"{folder}/{request.video_id}-{token}.mp4", f"{folder}/{request.video_id}-{token}.jpg"
        job = _RenderJob(external_id=f"local-{request.video_id}-{token}")
        with self._lock:
            self._forget_old_jobs()
            self._jobs[job.external_id] = job
        self._pool.submit(self._run, job, spec, video_file, thumbnail_file)
        return job.external_id

    def status(self, external_id: str) -> ProviderStatus:
        with self._lock:
            job = self._jobs.get(external_id)
        if job is None:
            raise JobNotFound("The render is not running in this worker (it may have been restarted).")
        return job.status

    def cancel(self, external_id: str) -> None:
        with self._lock:
            job = self._jobs.get(external_id)
        if job is not None:
            job.cancel.set()

    def active_jobs(self) -> list[str]:
        with self._lock:
            return [job.external_id for job in self._jobs.values() if job.finished_at is None]

    def shutdown(self) -> None:
        """Stops every render of this process and waits for the render threads to end."""
        for external_id in self.active_jobs():
            self.cancel(external_id)
        self._pool.shutdown(wait=True)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookReport:
        raise ProviderError("The local renderer does not send webhooks.")

    def find_submitted(self, request: GenerationRequest) -> str | None:
        return None  # a lost local submit rendered nothing: submitting again is safe

    def _run(self, job: _RenderJob, spec: render.RenderSpec, video_file: str, thumbnail_file: str) -> None:
        started = time.monotonic()
        last_report = 0.0

        def on_progress(percent: int, stage: str) -> None:
            nonlocal last_report
            job.status = ProviderStatus(ProviderState.RUNNING, percent, stage)
            now = time.monotonic()
            if now - last_report >= PROGRESS_REPORT_EVERY_S:
                last_report = now
                self._report(job)

        job.status = ProviderStatus(ProviderState.RUNNING, 0, "Preparing images")
        self._report(job)
        try:
            result = render.render(
                spec,
                self.media_dir / video_file,
                self.media_dir / thumbnail_file,
                on_progress=on_progress,
                cancel=job.cancel,
                ffmpeg_exe=self.ffmpeg_exe,
            )
        except render.RenderCanceled:
            job.status = ProviderStatus(ProviderState.CANCELED, message="Render canceled")
        except (render.RenderError, ValueError) as error:
            job.status = ProviderStatus(ProviderState.FAILED, error=str(error))
        except Exception as error:  # a bug must fail the video with a reason, not hang it
            log.exception("render %s crashed", job.external_id)
            job.status = ProviderStatus(ProviderState.FAILED, error=f"The renderer crashed: {error}")
        else:
            job.status = ProviderStatus(
                ProviderState.SUCCEEDED,
                100,
                f"Rendered in {time.monotonic() - started:.1f} s",
                ProviderResult(
                    video_file=video_file,
                    thumbnail_file=thumbnail_file,
                    duration=result.duration,
                    width=result.width,
                    height=result.height,
                    size_bytes=result.size_bytes,
                ),
            )
        job.finished_at = time.monotonic()
        self._report(job)

    def _report(self, job: _RenderJob) -> None:
        if self.reporter is None:
            return
        try:
            self.reporter(job.external_id, job.status)
        except Exception:  # the poller applies the same status later
            log.exception("reporting render %s failed", job.external_id)

    def _forget_old_jobs(self) -> None:
        cutoff = time.monotonic() - FINISHED_JOBS_KEPT_S
        for external_id in [k for k, job in self._jobs.items() if job.finished_at and job.finished_at < cutoff]:
            del self._jobs[external_id]
