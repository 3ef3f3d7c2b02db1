"""Kie.ai (seeds/003 and Kie.ai's public task API) for its image-to-video models.

Models (``KIE_MODELS``, the installation's choice; each video names one, or gets the first), each
sent in the shape Kie.ai documents for it (docs.kie.ai), with the input rules of ``ModelInfo``:
- ``kling-2.6/image-to-video`` (market, /market/kling/image-to-video): input {prompt,
  image_urls: [one], sound, duration "5"|"10"}; no aspect ratio: the video takes the photo's shape.
- ``sora-2-image-to-video`` (market, /market/sora2/sora-2-image-to-video): input {prompt,
  image_urls: [one], aspect_ratio "landscape"|"portrait", n_frames "10"|"15" (seconds),
  remove_watermark}; Sora always makes sound.
- ``veo3_fast`` and ``veo3`` (Veo 3.1 Fast and Quality): Veo has its own endpoints,
  POST /api/v1/veo/generate {prompt, imageUrls (one photo, or the first and last frames),
  model, generationType FIRST_AND_LAST_FRAMES_2_VIDEO, aspect_ratio "16:9"|"9:16", callBackUrl}
  and GET /api/v1/veo/record-info (successFlag 0 generating, 1 success with
  response.resultUrls, 2 and 3 failed with errorMessage); 8 s, always with sound. A Veo task's
  id is kept as "veo:<taskId>" so that polls and callbacks ask the endpoint that knows it.

1. Product images are uploaded first (POST {KIE_UPLOAD_URL}/api/file-stream-upload); Kie.ai
   deletes uploads after 3 days. The provider cannot touch the database, so ``stage_images``
   gets the copies the generation layer recorded (``ProductImage.provider_file_url`` and
   ``provider_file_expires_at``), reuses those that outlive the job, uploads the rest, and
   returns them all; the generation layer stores what comes back.
2. POST /api/v1/jobs/createTask {model, input, callBackUrl} → {code, msg, data: {taskId}}.
3. GET /api/v1/jobs/recordInfo?taskId= → data.state: waiting, queuing → queued; generating →
   running (Kie.ai reports no percentage: the stage name is shown); success → succeeded with
   the first of resultJson's resultUrls; fail → failed with failMsg.
4. Callbacks at /webhooks/kie are signed the way Kie.ai signs them: ``X-Webhook-Timestamp`` and
   ``X-Webhook-Signature`` = base64(HMAC-SHA256(taskId + "." + timestamp, KIE_WEBHOOK_HMAC_KEY)),
   within five minutes. The signature covers the task id and nothing else, so nothing else of the
   body is believed: a verified callback only makes us ask Kie.ai for the task's record now.
Kie.ai answers errors in the body's ``code`` as well as the HTTP status: 402 is insufficient
credits (the video fails with that said plainly); 429, 455 and 5xx are worth retrying.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import mimetypes
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from .. import standard_webhooks
from ..storage import NotStored, StorageError, storage_for
from .base import (
    BadSignature,
    Capabilities,
    GenerationRequest,
    JobNotFound,
    ModelInfo,
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
VEO_PREFIX = "veo:"  # our id of a task made by Kie.ai's Veo endpoints
VEO_GENERATING, VEO_SUCCESS = 0, 1  # record-info's successFlag; 2 and 3 are failures
SORA_SHAPES = {"16:9": "landscape", "9:16": "portrait"}

log = logging.getLogger(__name__)


def _kling_input(request: GenerationRequest, model: ModelInfo, prompt: str) -> dict[str, Any]:
    return {"prompt": prompt, "image_urls": list(request.image_urls[: model.images]),
            "duration": str(request.duration or model.default_duration), "sound": request.music}


def _sora_input(request: GenerationRequest, model: ModelInfo, prompt: str) -> dict[str, Any]:
    return {"prompt": prompt, "image_urls": list(request.image_urls[: model.images]),
            "aspect_ratio": SORA_SHAPES[request.aspect_ratio],
            "n_frames": str(request.duration or model.default_duration), "remove_watermark": True}


@dataclass(frozen=True)
class KieModel:
    info: ModelInfo
    # The market's createTask input for it; None: a Veo model, sent to Kie.ai's Veo endpoints.
    market_input: Callable[[GenerationRequest, ModelInfo, str], dict[str, Any]] | None


MODELS = {model.info.key: model for model in (
    KieModel(ModelInfo("kling-2.6/image-to-video", "Kling 2.6", "Kling 2.6 image to video",
                       durations=(5, 10), aspect_ratios=(), images=1), _kling_input),
    KieModel(ModelInfo("sora-2-image-to-video", "Sora 2", "OpenAI Sora 2 image to video",
                       durations=(10, 15), aspect_ratios=tuple(SORA_SHAPES), images=1, sound="always"), _sora_input),
    KieModel(ModelInfo("veo3_fast", "Veo 3.1 Fast", "Google Veo 3.1 Fast: the first photo, or a move from the first "
                       "photo to the second", durations=(8,), aspect_ratios=("16:9", "9:16"), images=2, sound="always"),
             None),
    KieModel(ModelInfo("veo3", "Veo 3.1 Quality", "Google Veo 3.1 Quality: the first photo, or a move from the first "
                       "photo to the second", durations=(8,), aspect_ratios=("16:9", "9:16"), images=2, sound="always"),
             None),
)}


def enabled_models(config: Mapping[str, Any]) -> list[KieModel]:
    """The models ``KIE_MODELS`` enables (comma-separated; empty: ``KIE_MODEL`` alone), in its
    order with ``KIE_MODEL`` first, the default. Names Kie.ai's catalog here lacks are logged
    and left out."""
    names = [name.strip() for name in (config.get("KIE_MODELS") or config["KIE_MODEL"]).split(",") if name.strip()]
    unknown = [name for name in names if name not in MODELS]
    if unknown:
        log.error("KIE_MODELS names models Reelboard cannot send to Kie.ai: %s (known: %s)",
                  ", ".join(unknown), ", ".join(MODELS))
    known = list(dict.fromkeys(name for name in names if name in MODELS))
    default = config["KIE_MODEL"]
    if default in known:
        known.remove(default)
        known.insert(0, default)
    return [MODELS[name] for name in known]


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
    capabilities = Capabilities(callbacks=True, staged_images=True)
    default_poll_interval = (3.0, 30.0)

    def __init__(self, config: Mapping[str, Any], reporter: Reporter | None = None) -> None:
        self.base_url = config["KIE_BASE_URL"].rstrip("/")
        self.upload_url = config["KIE_UPLOAD_URL"].rstrip("/")
        self.api_key = config["KIE_API_KEY"]
        self.enabled = enabled_models(config)
        self.upload_ttl = timedelta(seconds=int(config["KIE_UPLOAD_TTL_S"]))
        self.webhook_hmac_key = config.get("KIE_WEBHOOK_HMAC_KEY", "")
        self.storage = storage_for(config)  # where the product images are read for the upload
        super().__init__(config, headers={"Authorization": f"Bearer {self.api_key}"})
        self.configured = bool(self.api_key and self.base_url and self.upload_url and self.enabled)

    def _require_settings(self) -> None:
        if not self.configured:
            raise ProviderNotConfigured("Kie.ai is not configured: set KIE_API_KEY (and KIE_BASE_URL, KIE_UPLOAD_URL, "
                                        "and KIE_MODELS to models Reelboard knows).")

    def models(self) -> list[ModelInfo]:
        return [model.info for model in self.enabled]

    def _model(self, key: str | None) -> KieModel:
        """The video's model (its default when it names none); one no longer enabled is refused."""
        found = next((m for m in self.enabled if m.info.key == key), None) if key else self.enabled[0]
        if found is None:
            enabled = ", ".join(m.info.key for m in self.enabled)
            raise ProviderError(f"The model {key!r} is no longer enabled here (KIE_MODELS: {enabled}).")
        return found

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

    def stage_images(self, files: Sequence[str], known: Sequence[StagedFile | None]) -> list[StagedFile]:
        self._require_settings()
        now = _utcnow()
        staged = []
        for index, key in enumerate(files):
            copy = known[index] if index < len(known) else None
            if copy is not None and copy.expires_at - now > UPLOAD_REFRESH_MARGIN:
                staged.append(copy)
            else:
                staged.append(self._upload(key, now))
        return staged

    def _upload(self, key: str, now: datetime) -> StagedFile:
        try:
            with self.storage.open(key) as stored:  # a product image: at most IMAGE_MAX_BYTES
                content = stored.read()
        except NotStored as error:
            raise ProviderError(f"A product image is missing. {error}") from error
        except StorageError as error:  # the store did not answer: worth another try
            raise ProviderError(f"The product image could not be read for the upload: {error}", retryable=True) from error
        # Named by content: Kie.ai overwrites a same-named file, so a re-upload refreshes it.
        name = PurePosixPath(key)
        file_name = hashlib.sha256(content).hexdigest()[:24] + name.suffix.lower()
        mime = mimetypes.guess_type(name.name)[0] or "application/octet-stream"
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
        model = self._model(request.model)
        prompt = self.prompt(request)
        if model.market_input is None:
            body = {
                "prompt": prompt, "imageUrls": list(request.image_urls[: model.info.images]), "model": model.info.key,
                "generationType": "FIRST_AND_LAST_FRAMES_2_VIDEO", "aspect_ratio": request.aspect_ratio,
                "callBackUrl": request.callback_url,
            }
            path, prefix = "/api/v1/veo/generate", VEO_PREFIX
        else:
            body = {"model": model.info.key, "callBackUrl": request.callback_url,
                    "input": model.market_input(request, model.info, prompt)}
            path, prefix = "/api/v1/jobs/createTask", ""
        answer = self.http.call("POST", f"{self.base_url}{path}", idempotent=False, json=body)
        task_id = self._checked(answer, "the video").get("taskId")
        if not isinstance(task_id, str) or not task_id:
            raise OutcomeUnknown("Kie.ai accepted the video but its answer has no taskId.")
        return prefix + task_id

    def status(self, external_id: str) -> ProviderStatus:
        self._require_settings()
        if external_id.startswith(VEO_PREFIX):
            answer = self.http.call("GET", f"{self.base_url}/api/v1/veo/record-info", idempotent=True,
                                    params={"taskId": external_id.removeprefix(VEO_PREFIX)})
            return self.parse_veo_record(self._checked(answer, "the status request"))
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

    @staticmethod
    def parse_veo_record(data: Mapping[str, Any]) -> ProviderStatus:
        flag = data.get("successFlag")
        if flag == VEO_GENERATING:
            return ProviderStatus(ProviderState.RUNNING, message="Generating at Kie.ai (Veo)")
        if flag == VEO_SUCCESS:
            response = data.get("response")
            urls = response.get("resultUrls") if isinstance(response, dict) else None
            video_url = next((url for url in urls or () if isinstance(url, str) and url), None)
            if video_url is None:
                return ProviderStatus(ProviderState.FAILED, error="Kie.ai reported success but sent no resultUrls.")
            return ProviderStatus(ProviderState.SUCCEEDED, 100, "Generated by Kie.ai", ProviderResult(video_url=video_url))
        if flag in (2, 3):
            reason = data.get("errorMessage") or (f"errorCode {data['errorCode']}" if data.get("errorCode") else None)
            return ProviderStatus(ProviderState.FAILED, error=f"Kie.ai: {reason}" if reason else "Kie.ai reported a failure without a reason.")
        raise ProviderError(f"Kie.ai answered the Veo task status without a known successFlag ({str(flag)[:40]!r}).",
                            retryable=True)

    # ---------------------------------------------------------- callbacks --

    @staticmethod
    def _callback_data(body: bytes) -> tuple[str, dict[str, Any]]:
        payload = json_object(body, "Kie.ai")
        data = payload.get("data")
        task_id = data.get("taskId") or data.get("task_id") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id or len(task_id) > 250:
            raise ProviderError("The Kie.ai callback has no data.taskId.")
        return task_id, data

    @classmethod
    def _task_id(cls, body: bytes) -> str:
        return cls._callback_data(body)[0]

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: float) -> str:
        if not self.webhook_hmac_key:
            raise ProviderNotConfigured("Kie.ai callbacks are not accepted: KIE_WEBHOOK_HMAC_KEY is not set.")
        lowered = {name.lower(): value for name, value in headers.items()}
        timestamp = lowered.get("x-webhook-timestamp", "").strip()
        received = lowered.get("x-webhook-signature", "").strip()
        if not (timestamp and received):
            raise BadSignature("The X-Webhook-Timestamp and X-Webhook-Signature headers are required.")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise BadSignature("X-Webhook-Timestamp must be a Unix time in seconds.")
        if abs(now - int(timestamp)) > standard_webhooks.TOLERANCE_S:
            raise BadSignature("X-Webhook-Timestamp is more than 5 minutes from now: the callback is stale or replayed.")
        task_id = self._task_id(body)
        expected = base64.b64encode(
            hmac.new(self.webhook_hmac_key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(received.encode(), expected.encode()):
            raise BadSignature("The Kie.ai webhook signature does not match.")
        return f"kie:{task_id}:{timestamp}"

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, outcome: str | None = None) -> WebhookReport:
        """Only the (signed) task id: the task's state is asked of Kie.ai, never read from here.
        A market task's callback carries its record (with ``state``); a Veo task's carries none,
        which says which endpoint knows the task (a wrong guess finds no video: nothing changes)."""
        task_id, data = self._callback_data(body)
        return WebhookReport(status=None, external_id=task_id if "state" in data else VEO_PREFIX + task_id)
