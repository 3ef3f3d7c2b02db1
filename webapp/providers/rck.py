"""The RCK Description Server of seeds/002.

- templates: POST /api/v1/templates → {success, message, templates[], error}; cached 5 minutes
  in the process. Errors use the seed's words: "RCK Description Server is not configured",
  "RCK Description Server is unreachable", or the server's own message.
- submit: POST /api/v1/create-images-batch with id_product, title, img_url, user_id, sku,
  template_name, video_id, callback_url → {job_id}.
- completion: RCK calls back POST /internal/videos/success {videoId, youtubeVideoId,
  localFilename, video_url, id_product} or /internal/videos/failure {videoId, error, id_product}
  (or /webhooks/rck with either payload). GET /api/jobs/{job_id} is the fallback when no
  callback comes; its status maps queued|pending|waiting → queued, processing|running|
  generating|started → running (with its progress), completed|success|succeeded|done →
  succeeded (video_url), failed|failure|error → failed (error), canceled → canceled.

RCK carries our video id: a submit whose answer was lost is not sent again; the video waits
for the callback that names it (the reaper ends the wait at the generation timeout).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..numbers import parse_id
from .base import (
    Capabilities,
    GenerationRequest,
    JobNotFound,
    ProviderError,
    ProviderNotConfigured,
    ProviderResult,
    ProviderState,
    ProviderStatus,
    Reporter,
    TemplateInfo,
    WebhookReport,
)
from .http import OutcomeUnknown, RemoteProvider, Unreachable, json_object

TEMPLATES_TTL_S = 300
AWAITING_CALLBACK = "awaiting-callback:"  # the external id of a video whose submit answer was lost
NOT_CONFIGURED = "RCK Description Server is not configured"
UNREACHABLE = "RCK Description Server is unreachable"

STATES = {
    ProviderState.QUEUED: {"queued", "pending", "waiting"},
    ProviderState.RUNNING: {"processing", "running", "generating", "started", "in_progress"},
    ProviderState.SUCCEEDED: {"completed", "complete", "success", "succeeded", "done"},
    ProviderState.FAILED: {"failed", "failure", "error"},
    ProviderState.CANCELED: {"canceled", "cancelled"},
}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _template(item: Any) -> TemplateInfo | None:
    """One entry of RCK's template list: a name, or an object describing it."""
    if isinstance(item, str):
        return TemplateInfo(item, item.replace("_", " ").capitalize()) if item.strip() else None
    if not isinstance(item, dict):
        return None
    key = next((_text(item.get(k)) for k in ("template_name", "key", "name", "id") if _text(item.get(k))), None)
    if key is None:
        return None
    name = next((_text(item.get(k)) for k in ("title", "display_name", "label", "name") if _text(item.get(k))), key)
    preview = next((_text(item.get(k)) for k in ("preview_url", "youtube_url", "sample_url") if _text(item.get(k))), None)
    youtube_id = _text(item.get("youtube_id")) or _text(item.get("youtubeVideoId"))
    if preview is None and youtube_id:
        preview = f"https://www.youtube.com/watch?v={youtube_id}"
    return TemplateInfo(key, name, _text(item.get("description")) or "", preview)


class RckProvider(RemoteProvider):
    name = "rck"
    label = "RCK Description Server"
    capabilities = Capabilities(own_templates=True, callbacks=True)
    default_poll_interval = (15.0, 60.0)

    def __init__(self, config: Mapping[str, Any], reporter: Reporter | None = None) -> None:
        self.base_url = config["RCK_BASE_URL"].rstrip("/")
        super().__init__(config)
        self.configured = bool(self.base_url)
        self._templates: tuple[float, list[TemplateInfo]] | None = None
        self._templates_lock = threading.Lock()

    def _require_settings(self) -> None:
        if not self.configured:
            raise ProviderNotConfigured(NOT_CONFIGURED)

    def _call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any):
        self._require_settings()
        try:
            return self.http.call(method, f"{self.base_url}{path}", idempotent=idempotent, **kwargs)
        except Unreachable as error:
            raise Unreachable(f"{UNREACHABLE}.") from error

    # ----------------------------------------------------------- templates --

    def templates(self) -> list[TemplateInfo]:
        with self._templates_lock:
            if self._templates and self._templates[0] > time.monotonic():
                return list(self._templates[1])
        try:
            answer = self._call("POST", "/api/v1/templates", idempotent=True, json={})
        except OutcomeUnknown as error:  # for a read, a lost answer is just no answer
            raise ProviderError(f"{UNREACHABLE}: {error}", retryable=True) from error
        if not answer.ok or answer.field("success") is False:
            raise ProviderError(answer.message() if answer.data else f"RCK Description Service error: HTTP {answer.status}")
        raw = answer.field("templates")
        if not isinstance(raw, list):
            raise ProviderError("RCK Description Service error: the answer has no template list.", retryable=True)
        offered = [info for info in map(_template, raw) if info is not None]
        with self._templates_lock:
            self._templates = (time.monotonic() + TEMPLATES_TTL_S, offered)
        return list(offered)

    # -------------------------------------------------------------- jobs --

    def submit(self, request: GenerationRequest) -> str:
        if not request.image_urls:
            raise ProviderError("RCK needs at least one product image.")
        body = {
            "id_product": str(request.product_id),
            "title": request.title,
            "img_url": request.image_urls[0],
            "user_id": str(request.user_id or ""),
            "sku": request.sku,
            "template_name": request.template,
            "video_id": str(request.video_id),
            "callback_url": f"{self.public_base_url}/internal/videos/success",
            # beyond the seed's fields: the merchant's words, so RCK says what they asked
            "custom_instructions": request.custom_instructions,
            "script": list(request.script),
        }
        answer = self._call("POST", "/api/v1/create-images-batch", idempotent=False, json=body)
        if not answer.ok or answer.field("success") is False:
            raise self.refused(answer)
        job_id = answer.field("job_id") or answer.field("data", "job_id")
        if not isinstance(job_id, str | int) or isinstance(job_id, bool) or not str(job_id).strip():
            raise OutcomeUnknown("RCK accepted the video but its answer has no job_id.")
        return str(job_id)

    def status(self, external_id: str) -> ProviderStatus:
        if external_id.startswith(AWAITING_CALLBACK):
            return ProviderStatus(ProviderState.RUNNING, message="Waiting for the RCK Description Server to report back")
        answer = self._call("GET", f"/api/jobs/{quote(external_id, safe='')}", idempotent=True)
        if answer.status == 404:
            raise JobNotFound(f"RCK does not know job {external_id}.")
        if not answer.ok:
            raise self.refused(answer)
        job = answer.field("data") if isinstance(answer.field("data"), dict) else answer.data
        status = self._job_status(job) if isinstance(job, dict) else None
        if status is None:
            raise ProviderError("RCK answered the job status without a known state.", retryable=True)
        return status

    @classmethod
    def _job_status(cls, job: dict[str, Any]) -> ProviderStatus | None:
        """A job (or a callback) with a ``status``; None when it has no state we know."""
        raw_state = str(job.get("status") or job.get("state") or "").lower()
        state = next((s for s, names in STATES.items() if raw_state in names), None)
        if state is ProviderState.SUCCEEDED:
            return cls._done(job)
        if state is ProviderState.FAILED:
            return cls._failed(job)
        if state is None:
            return None
        progress = job.get("progress")
        percent = int(progress) if isinstance(progress, int | float) and not isinstance(progress, bool) else None
        message = _text(job.get("message")) or ("Queued at RCK" if state is ProviderState.QUEUED else "Generating at RCK")
        return ProviderStatus(state, None if percent is None else max(0, min(99, percent)), message)

    def find_submitted(self, request: GenerationRequest) -> str | None:
        """RCK's callback names our video, so a submit whose answer was lost is not repeated:
        the video waits for that callback (polling cannot help without the job id)."""
        return f"{AWAITING_CALLBACK}{request.video_id}"

    # ---------------------------------------------------------- callbacks --

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, outcome: str | None = None) -> WebhookReport:
        """/webhooks/rck takes either seed payload, or one with a job ``status`` (progress too);
        without a status, a payload naming an ``error`` and no video_url is a failure. On the
        legacy /internal/videos/success|failure routes the path says the ``outcome``."""
        data = json_object(body, "RCK")
        if outcome is not None:
            return self._report(data, self._failed(data) if outcome == "failure" else self._done(data))
        status = self._job_status(data)
        if status is None:
            failed = "error" in data and not data.get("video_url")
            status = self._failed(data) if failed else self._done(data)
        return self._report(data, status)

    @staticmethod
    def _report(data: dict[str, Any], status: ProviderStatus) -> WebhookReport:
        video_id = parse_id(data.get("videoId"))
        if video_id is None:
            raise ProviderError("Invalid videoId format")
        return WebhookReport(status=status, video_id=video_id)

    @staticmethod
    def _done(data: dict[str, Any]) -> ProviderStatus:
        video_url = _text(data.get("video_url"))
        if video_url is None:
            extra = ", ".join(f"{k}={data[k]}" for k in ("youtubeVideoId", "localFilename") if _text(data.get(k)))
            return ProviderStatus(
                ProviderState.FAILED,
                error="RCK reported the video done but sent no video_url to download" + (f" ({extra})." if extra else "."),
            )
        thumbnail = _text(data.get("thumbnail_url"))
        duration = data.get("duration")
        return ProviderStatus(
            ProviderState.SUCCEEDED,
            100,
            "Generated by RCK",
            ProviderResult(
                video_url=video_url,
                thumbnail_url=thumbnail,
                duration=float(duration) if isinstance(duration, int | float) and not isinstance(duration, bool) else None,
            ),
        )

    @staticmethod
    def _failed(data: dict[str, Any]) -> ProviderStatus:
        return ProviderStatus(
            ProviderState.FAILED, error=_text(data.get("error")) or "RCK reported a failure without a reason."
        )
