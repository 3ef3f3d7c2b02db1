"""The task API of seeds/004: POST create-and-generate answers 202 with a task_id; GET
task-status answers a Celery-style state. Polling only: it sends no callbacks.

States:  PENDING, RECEIVED                → queued   ("Waiting in the task API's queue")
         STARTED, PROCESSING, PROGRESS, RETRY → running (progress = info.current / info.total,
                                                         message = info.status)
         SUCCESS                          → succeeded (result.video_url, thumbnail_url, duration)
         FAILURE                          → failed    (error)
         REVOKED                          → canceled
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..limits import DEFAULT_DURATION
from ..render.spec import spread
from .base import (
    Capabilities,
    Caption,
    GenerationRequest,
    JobNotFound,
    ProviderError,
    ProviderNotConfigured,
    ProviderResult,
    ProviderState,
    ProviderStatus,
    Reporter,
)
from .http import OutcomeUnknown, RemoteProvider

QUEUED_STATES = {"PENDING", "RECEIVED"}
RUNNING_STATES = {"STARTED", "PROCESSING", "PROGRESS", "RETRY"}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class TaskApiProvider(RemoteProvider):
    name = "taskapi"
    label = "Task API"
    capabilities = Capabilities(voiceover=True)  # seeds/004's enable_voiceover
    default_poll_interval = (2.0, 15.0)

    def __init__(self, config: Mapping[str, Any], reporter: Reporter | None = None) -> None:
        self.base_url = config["TASKAPI_BASE_URL"].rstrip("/")
        self.token = config["TASKAPI_TOKEN"]
        self.transition_type = config["TASKAPI_TRANSITION_TYPE"]
        super().__init__(config, headers={"Authorization": f"Token {self.token}"})
        self.configured = bool(self.base_url and self.token)

    def _require_settings(self) -> None:
        if not self.configured:
            raise ProviderNotConfigured("The task API is not configured: set TASKAPI_BASE_URL and TASKAPI_TOKEN.")

    def body(self, request: GenerationRequest) -> dict[str, Any]:
        """The seed's request body: first and last product image, prompt, options."""
        if not request.image_urls:
            raise ProviderError("The task API needs at least one product image.")
        subtitles = self.subtitles(request)
        body: dict[str, Any] = {
            "front_image": request.image_urls[0],
            "tail_image": request.image_urls[-1],
            "prompt": self.prompt(request),
            "duration": request.duration or DEFAULT_DURATION,
            "transition_type": self.transition_type,
            "enable_subtitles": bool(subtitles),
            "enable_music": request.music,
            "enable_voiceover": request.voiceover,
        }
        if subtitles:
            body.update(subtitle_style="default", subtitle_position="bottom", subtitles=subtitles)
        if request.music:
            body["music_type"] = "ambient"
        return body

    @staticmethod
    def subtitles(request: GenerationRequest) -> list[dict]:
        """The merchant's captions; else the script, a line at a time: the video says what the
        merchant asked, whichever provider makes it."""
        captions = request.captions or tuple(Caption(None, None, line) for line in request.script)
        return [{"startTime": c.start, "endTime": c.end, "text": c.text}
                for c in spread(captions, request.duration or DEFAULT_DURATION)]

    def submit(self, request: GenerationRequest) -> str:
        self._require_settings()
        answer = self.http.call(
            "POST", f"{self.base_url}/api/transitions/create-and-generate/", idempotent=False, json=self.body(request)
        )
        if not answer.ok:
            raise self.refused(answer)
        task_id = answer.field("task_id")
        if not isinstance(task_id, str | int) or isinstance(task_id, bool) or not str(task_id).strip():
            raise OutcomeUnknown("The task API accepted the video but its answer has no task_id.")
        return str(task_id)

    def status(self, external_id: str) -> ProviderStatus:
        self._require_settings()
        answer = self.http.call(
            "GET", f"{self.base_url}/api/transitions/task-status/{quote(external_id, safe='')}/", idempotent=True
        )
        if answer.status == 404:
            raise JobNotFound(f"The task API does not know task {external_id}.")
        if not answer.ok:
            raise self.refused(answer)
        return self.parse_status(answer.data)

    def parse_status(self, data: Any) -> ProviderStatus:
        state = data.get("state") if isinstance(data, dict) else None
        if not isinstance(state, str):
            raise ProviderError("The task API answered without a task state.", retryable=True)
        state = state.upper()
        info = data.get("info") if isinstance(data.get("info"), dict) else {}
        if state in QUEUED_STATES:
            return ProviderStatus(ProviderState.QUEUED, message="Waiting in the task API's queue")
        if state in RUNNING_STATES:
            current, total = _number(info.get("current")), _number(info.get("total"))
            progress = int(100 * current / total) if current is not None and total else None
            stage = info.get("status") if isinstance(info.get("status"), str) else "Generating"
            return ProviderStatus(ProviderState.RUNNING, None if progress is None else max(0, min(99, progress)), stage)
        if state == "SUCCESS":
            result = data.get("result") if isinstance(data.get("result"), dict) else {}
            video_url = result.get("video_url")
            if not isinstance(video_url, str) or not video_url:
                return ProviderStatus(ProviderState.FAILED, error="The task API reported success but sent no video_url.")
            thumbnail = result.get("thumbnail_url")
            return ProviderStatus(
                ProviderState.SUCCEEDED,
                100,
                "Generated by the task API",
                ProviderResult(
                    video_url=video_url,
                    thumbnail_url=thumbnail if isinstance(thumbnail, str) and thumbnail else None,
                    duration=_number(result.get("duration")),
                ),
            )
        if state == "FAILURE":
            error = data.get("error")
            reason = error if isinstance(error, str) and error.strip() else "The task API reported a failure without a reason."
            return ProviderStatus(ProviderState.FAILED, error=reason)
        if state == "REVOKED":
            return ProviderStatus(ProviderState.CANCELED, message="Revoked at the task API")
        raise ProviderError(f"The task API answered an unknown state {state[:40]!r}.", retryable=True)

    def find_submitted(self, request: GenerationRequest) -> str | None:
        """The task API takes no idempotency key and cannot list tasks, so a submit whose answer
        was lost cannot be looked up. The worker sends it again (at most MAX_ATTEMPTS times in
        all): the video and its quota are charged once, the cost is at most one unpolled task at
        the provider. Submits answered with 429/5xx, or that never connected, are not lost
        answers and are repeated without that cost."""
        return None
