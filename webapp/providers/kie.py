"""Kie.ai (seeds/003 and Kie.ai's public task API) for its image-to-video market models.

1. Product images are uploaded first (POST {KIE_UPLOAD_URL}/api/file-stream-upload); Kie.ai
   deletes uploads after 3 days. The provider cannot touch the database, so ``stage_images``
   gets the copies the generation layer recorded (``ProductImage.provider_file_url`` and
   ``provider_file_expires_at``), reuses those that outlive the job, uploads the rest, and
   returns them all; the generation layer stores what comes back.
2. POST /api/v1/jobs/createTask {model, input, callBackUrl} → {code, msg, data: {taskId}}.
3. GET /api/v1/jobs/recordInfo?taskId= → data.state: waiting, queuing → queued; generating →
   running (Kie.ai reports no percentage: the stage name is shown); success → succeeded with
   the first of resultJson's resultUrls; fail → failed with failMsg. The same object arrives
   as the callback body at /webhooks/kie.
Kie.ai answers errors in the body's ``code`` as well as the HTTP status: 402 is insufficient
credits (the video fails with that said plainly); 429, 455 and 5xx are worth retrying.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .base import (
    GenerationRequest,
    JobNotFound,
    ProviderError,
    ProviderNotConfigured,
    ProviderResult,
    ProviderState,
    ProviderStatus,
    Reporter,
    StagedFile,
    WebhookReport,
)
from .http import Answer, OutcomeUnknown, RemoteProvider, json_object

# An upload must still exist when Kie.ai fetches it, which can be after a wait in its queue.
UPLOAD_REFRESH_MARGIN = timedelta(hours=6)
UPLOAD_FOLDER = "reelboard"
RETRYABLE_CODES = {429, 455, 500, 502, 503, 504, 505}
INSUFFICIENT_CREDITS = 402

STATES = {
    "waiting": (ProviderState.QUEUED, "Waiting at Kie.ai"),
    "queuing": (ProviderState.QUEUED, "In Kie.ai's queue"),
    "generating": (ProviderState.RUNNING, "Generating at Kie.ai"),
}


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


class KieProvider(RemoteProvider):
    name = "kie"
    label = "Kie.ai"
    default_poll_interval = (3.0, 30.0)
    webhooks = True

    def __init__(self, config: Mapping[str, Any], reporter: Reporter | None = None) -> None:
        self.base_url = config["KIE_BASE_URL"].rstrip("/")
        self.upload_url = config["KIE_UPLOAD_URL"].rstrip("/")
        self.api_key = config["KIE_API_KEY"]
        self.model = config["KIE_MODEL"]
        self.upload_ttl = timedelta(seconds=int(config["KIE_UPLOAD_TTL_S"]))
        super().__init__(config, headers={"Authorization": f"Bearer {self.api_key}"})

    def _require_settings(self) -> None:
        if not (self.api_key and self.base_url and self.upload_url):
            raise ProviderNotConfigured("Kie.ai is not configured: set KIE_API_KEY (and KIE_BASE_URL, KIE_UPLOAD_URL).")

    def _checked(self, answer: Answer, what: str) -> dict[str, Any]:
        """The ``data`` of a successful answer; otherwise the error its ``code`` calls for."""
        code = answer.field("code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else answer.status
        if answer.ok and code == 200:
            data = answer.field("data")
            return data if isinstance(data, dict) else {}
        if code == INSUFFICIENT_CREDITS:
            raise ProviderError(
                f"Kie.ai has insufficient credits for {what}: top up the Kie.ai account, then retry the video. "
                f"({answer.message()})"
            )
        if code == 404:
            raise JobNotFound(f"Kie.ai does not know it ({answer.message()}).")
        if code in RETRYABLE_CODES:
            raise ProviderError(f"Kie.ai answered {code} for {what}: {answer.message()}", retryable=True)
        raise self.refused(Answer(code, answer.data, answer.text, answer.headers))

    # ------------------------------------------------------------ uploads --

    def stage_images(self, files: Sequence[Path], known: Sequence[StagedFile | None]) -> list[StagedFile]:
        self._require_settings()
        now = _utcnow()
        staged = []
        for index, path in enumerate(files):
            copy = known[index] if index < len(known) else None
            if copy is not None and copy.expires_at - now > UPLOAD_REFRESH_MARGIN:
                staged.append(copy)
            else:
                staged.append(self._upload(path, now))
        return staged

    def _upload(self, path: Path, now: datetime) -> StagedFile:
        content = path.read_bytes()
        # Named by content: Kie.ai overwrites a same-named file, so a re-upload refreshes it.
        file_name = hashlib.sha256(content).hexdigest()[:24] + path.suffix.lower()
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        answer = self.http.call(
            "POST",
            f"{self.upload_url}/api/file-stream-upload",
            idempotent=True,  # uploading the same file twice does no harm
            files={"file": (file_name, content, mime)},
            data={"uploadPath": UPLOAD_FOLDER, "fileName": file_name},
        )
        data = self._checked(answer, "the image upload")
        url = data.get("downloadUrl") or data.get("fileUrl")
        if not isinstance(url, str) or not url:
            raise ProviderError("Kie.ai accepted the image upload but sent no downloadUrl.", retryable=True)
        uploaded_at = min(_parse_time(data.get("uploadedAt")) or now, now)
        return StagedFile(url, uploaded_at + self.upload_ttl)

    # -------------------------------------------------------------- tasks --

    def submit(self, request: GenerationRequest) -> str:
        self._require_settings()
        if not request.image_urls:
            raise ProviderError("Kie.ai needs at least one product image.")
        body = {
            "model": self.model,
            "callBackUrl": request.callback_url,
            "input": {
                "prompt": self.prompt(request),
                "image_urls": list(request.image_urls),
                "duration": str(request.duration),
                "aspect_ratio": request.aspect_ratio,
                "sound": request.music,
            },
        }
        answer = self.http.call("POST", f"{self.base_url}/api/v1/jobs/createTask", idempotent=False, json=body)
        task_id = self._checked(answer, "the video").get("taskId")
        if not isinstance(task_id, str) or not task_id:
            raise OutcomeUnknown("Kie.ai accepted the video but its answer has no taskId.")
        return task_id

    def status(self, external_id: str) -> ProviderStatus:
        self._require_settings()
        answer = self.http.call(
            "GET", f"{self.base_url}/api/v1/jobs/recordInfo", idempotent=True, params={"taskId": external_id}
        )
        return self.parse_record(self._checked(answer, "the status request"))

    @staticmethod
    def parse_record(data: Mapping[str, Any]) -> ProviderStatus:
        state = data.get("state")
        if state in STATES:
            provider_state, stage = STATES[state]
            return ProviderStatus(provider_state, message=stage)
        if state == "success":
            try:
                urls = json.loads(data.get("resultJson") or "{}").get("resultUrls") or []
            except (TypeError, ValueError, AttributeError):
                urls = []
            video_url = next((url for url in urls if isinstance(url, str) and url), None)
            if video_url is None:
                return ProviderStatus(ProviderState.FAILED, error="Kie.ai reported success but its resultJson has no resultUrls.")
            return ProviderStatus(ProviderState.SUCCEEDED, 100, "Generated by Kie.ai", ProviderResult(video_url=video_url))
        if state == "fail":
            reason = data.get("failMsg") or (f"failCode {data['failCode']}" if data.get("failCode") else None)
            return ProviderStatus(ProviderState.FAILED, error=f"Kie.ai: {reason}" if reason else "Kie.ai reported a failure without a reason.")
        raise ProviderError(f"Kie.ai answered the task status without a known state ({str(state)[:40]!r}).", retryable=True)

    def cancel(self, external_id: str) -> None:
        """Kie.ai has no cancel call: the task runs on there; its callback is then ignored."""

    def find_submitted(self, request: GenerationRequest) -> str | None:
        """Kie.ai takes no client reference and cannot list tasks: a lost createTask answer is
        sent again (see TaskApiProvider.find_submitted for the reasoning)."""
        return None

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookReport:
        payload = json_object(body, "Kie.ai")
        data = payload.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("taskId"), str) or not data["taskId"]:
            raise ProviderError("The Kie.ai callback has no data.taskId.")
        code = payload.get("code")
        if data.get("state") is None and isinstance(code, int) and code != 200:
            status = ProviderStatus(ProviderState.FAILED, error=f"Kie.ai: {payload.get('msg') or f'code {code}'}")
        else:
            try:
                status = self.parse_record(data)
            except ProviderError as error:
                raise ProviderError(f"The Kie.ai callback has no known state: {error}") from error
        return WebhookReport(status=status, external_id=data["taskId"])
