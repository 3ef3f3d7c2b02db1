"""The built-in provider: renders videos on this machine with ffmpeg (``webapp.render``).

Renders run in a bounded pool of render slots in the process that claimed the video. The job
table is this process's own: when the process dies its jobs are gone, ``status`` answers
JobNotFound, and the generation core restarts the render elsewhere.

ffmpeg reads and writes local files; the media lives in ``webapp.storage``. The product images
are local copies while the render runs (the files themselves on the filesystem), and the video,
poster and captions are written where the storage takes them when the render succeeds (in
place on the filesystem; uploaded from a scratch directory, then removed, on S3).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import render
from ..storage import NotStored, Storage, StorageError, storage_for
from ..video_templates import SEED_TEMPLATES
from .base import (
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

log = logging.getLogger(__name__)

FINISHED_JOBS_KEPT_S = 600
PROGRESS_REPORT_EVERY_S = 0.5  # at most two progress writes a second per render



def render_spec(request: GenerationRequest) -> render.RenderSpec:
    """What the renderer is asked for (its images and logo are local copies, added when the
    render starts): the request's words, options and brand kit, and the end card's link — the
    product's page, else the brand's call to action."""
    kit = request.brand
    brand = render.DEFAULT_BRAND
    if kit is not None:
        try:
            brand = render.Brand(primary=kit.primary, accent=kit.accent, font=kit.font, cta_text=kit.cta_text,
                                 cta_url=kit.cta_url, watermark=kit.watermark)
        except ValueError:  # checked when it was saved: a kit that no longer passes is not the video's fault
            log.warning("video %s: the brand kit is not usable, rendering with the default one", request.video_id,
                        exc_info=True)
    return render.RenderSpec(
        recipe=request.template,
        images=(),  # local copies of request.image_files, made when the render starts
        title=request.title,
        price=request.price,
        compare_at_price=request.compare_at_price,
        description=request.description,
        custom_instructions=request.custom_instructions,
        aspect_ratio=request.aspect_ratio,
        resolution=request.resolution,
        duration=float(request.duration) if request.duration else None,  # none: the voice's length
        captions=request.captions,  # untimed ones are spread over the video before its end card
        music=request.music,
        script=tuple(request.script),
        voiceover=request.voiceover,
        brand=brand,
        link=request.shop_link,
    )


def with_logo(brand: render.Brand, logo_file: str | None, storage: Storage, files: ExitStack) -> render.Brand:
    """The brand with a local copy of its logo for the render; without it when the logo is gone
    from storage (the video is still made, with the brand's name and colours)."""
    if not logo_file:
        return brand
    try:
        return replace(brand, logo=files.enter_context(storage.local_copy(logo_file)))
    except NotStored:
        log.warning("the brand's logo %s is not in storage: rendering without it", logo_file)
        return brand


class StoredLooks:
    """The renderer's looks at product photos (analysis, cut-outs), kept in the media storage
    under ``looks/`` by the image's bytes: a product's next video, preview or aspect ratio
    reuses them. Failing to keep one costs only the time to cut it out again."""

    FOLDER = "looks"

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def load(self, name: str, dest: Path) -> bool:
        try:
            with self.storage.open(f"{self.FOLDER}/{name}") as source, open(dest, "wb") as out:
                shutil.copyfileobj(source, out)
        except NotStored:
            return False
        except StorageError:
            log.warning("could not read the cached look %s", name, exc_info=True)
            return False
        return True

    def save(self, name: str, src: Path) -> None:
        try:
            self.storage.put_file(f"{self.FOLDER}/{name}", src)
        except StorageError:
            log.warning("could not keep the look %s", name, exc_info=True)


@dataclass
class _RenderJob:
    external_id: str
    status: ProviderStatus = field(default_factory=lambda: ProviderStatus(ProviderState.QUEUED, 0, "Waiting for a render slot"))
    cancel: threading.Event = field(default_factory=threading.Event)
    finished_at: float | None = None


class LocalProvider(BaseProvider):
    name = "local"
    label = "Reelboard's renderer"
    capabilities = Capabilities(cancel=True, in_process=True, voiceover=True, resolutions=render.RESOLUTIONS)
    poll_interval = (1.0, 2.0)

    def __init__(self, config: Mapping[str, Any], reporter: Reporter | None = None) -> None:
        self.storage = storage_for(config)
        self.slots = max(1, int(config["RENDER_SLOTS"]))
        self.ffmpeg_exe = config.get("FFMPEG_EXE")
        self.reporter = reporter
        self._jobs: dict[str, _RenderJob] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="render")

    def templates(self) -> list[TemplateInfo]:
        return [TemplateInfo(t.key, t.name, t.description) for t in SEED_TEMPLATES]

    def capacity(self) -> int:
        with self._lock:
            busy = sum(1 for job in self._jobs.values() if job.finished_at is None)
        return max(0, self.slots - busy)

    def submit(self, request: GenerationRequest) -> str:
        spec = render_spec(request)
        token = uuid.uuid4().hex[:12]
        folder = f"videos/{request.workspace_id}"
        video_file, thumbnail_file = f"{folder}/{request.video_id}-{token}.mp4", f"{folder}/{request.video_id}-{token}.jpg"
        job = _RenderJob(external_id=f"local-{request.video_id}-{token}")
        with self._lock:
            self._forget_old_jobs()
            self._jobs[job.external_id] = job
        logo = request.brand.logo_key if request.brand else None
        self._pool.submit(self._run, job, spec, request.image_files, logo, video_file, thumbnail_file)
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

    def _run(
        self, job: _RenderJob, spec: render.RenderSpec, image_files: Sequence[str], logo_file: str | None,
        video_file: str, thumbnail_file: str,
    ) -> None:
        captions_file = video_file.removesuffix(".mp4") + ".vtt"
        render.lower_thread_priority()  # render threads only ever render
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
            with ExitStack() as files:
                images = tuple(files.enter_context(self.storage.local_copy(key)) for key in image_files)
                spec = replace(spec, images=images, brand=with_logo(spec.brand, logo_file, self.storage, files))
                # stored in this order when the render succeeds (the block exits last to first)
                captions = files.enter_context(self.storage.local_output(captions_file, optional=True))
                thumbnail = files.enter_context(self.storage.local_output(thumbnail_file))
                video = files.enter_context(self.storage.local_output(video_file))
                result = render.render(
                    spec,
                    video,
                    thumbnail,
                    captions_path=captions,
                    on_progress=on_progress,
                    cancel=job.cancel,
                    ffmpeg_exe=self.ffmpeg_exe,
                    looks=StoredLooks(self.storage),
                )
        except render.RenderCanceled:
            job.status = ProviderStatus(ProviderState.CANCELED, message="Render canceled")
        except (render.RenderError, ValueError) as error:
            job.status = ProviderStatus(ProviderState.FAILED, error=str(error))
        except NotStored as error:
            job.status = ProviderStatus(ProviderState.FAILED, error=f"A product image is missing. {error}")
        except StorageError as error:
            self._discard(video_file, thumbnail_file, captions_file)
            job.status = ProviderStatus(ProviderState.FAILED, error=f"The render could not be stored: {error}")
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
                    captions_file=captions_file if result.captions_path else None,
                ),
            )
        job.finished_at = time.monotonic()
        self._report(job)

    def _discard(self, *keys: str) -> None:
        """Removes what a render whose storing failed halfway did store."""
        try:
            self.storage.delete(*keys)
        except StorageError:
            log.warning("could not remove the files of a failed render: %s", keys, exc_info=True)

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
