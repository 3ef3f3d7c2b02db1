"""Fake video providers: real HTTP servers on 127.0.0.1 (werkzeug, threaded, HTTP/1.1
keep-alive) that speak each provider's contract — the task API of seeds/004, the RCK server of
seeds/002, Kie.ai's task API — with faults injected per route. Used by the integration tests and,
in a subprocess, by the sync benchmark, so this module imports nothing of the app.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import random
import re
import socket
import threading
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


def sign_delivery(secret: str, body: bytes, message_id: str | None = None, timestamp: int | None = None) -> dict:
    """Standard Webhooks headers for ``body``, computed here independently of the app."""
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        "content-type": "application/json",
    }


@dataclass
class Fault:
    """What to do instead of (or before) answering a request normally."""

    status: int | None = None  # answer this status with a JSON error body
    body: bytes | None = None  # answer these bytes (HTTP 200 unless ``status``)
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0  # wait this long first (longer than the client's read timeout)
    process: bool = False  # with ``hang``: do the work, then lose the answer
    truncate: bool = False  # answer normally but cut the body short and close


class _Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real providers do

    def setup(self) -> None:
        super().setup()
        self.server.fake._connections.add(self.connection)

    def finish(self) -> None:
        self.server.fake._connections.discard(self.connection)
        super().finish()

    def log_request(self, *args: Any) -> None:
        pass

    def log(self, *args: Any) -> None:
        pass


class FakeServer:
    """A provider on 127.0.0.1. Subclasses register routes: (method, path regex, name, handler)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.routes: list[tuple[str, re.Pattern, str, Callable[..., Response]]] = []
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.hits: Counter[str] = Counter()
        self.hit_times: dict[str, list[float]] = defaultdict(list)
        self.requests: list[tuple[str, Request, bytes]] = []
        self.port = 0
        self._server = None
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()

    def route(self, method: str, pattern: str, name: str, handler: Callable[..., Response]) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), name, handler))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0):
        self._stopping.clear()
        self._server = make_server("127.0.0.1", port, self, threaded=True, request_handler=_Handler)
        self._server.fake = self
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Goes down: no new connections, open ones closed, hanging answers given up."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for connection in list(self._connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def restart(self) -> None:
        self.start(self.port)

    def inject(self, route: str, *faults: Fault) -> None:
        with self.lock:
            self.faults[route].extend(faults)

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        for method, pattern, name, handler in self.routes:
            match = pattern.match(request.path)
            if method == request.method and match:
                with self.lock:
                    self.hits[name] += 1
                    self.hit_times[name].append(time.time())
                    self.requests.append((name, request, body))
                    fault = self.faults[name].popleft() if self.faults[name] else None
                response = self._respond(fault, handler, request, body, match.groupdict())
                return response(environ, start_response)
        return Response(json.dumps({"detail": "Not found."}), 404, content_type="application/json")(environ, start_response)

    def _respond(self, fault: Fault | None, handler, request: Request, body: bytes, args: dict) -> Response:
        if fault is None:
            return handler(request, body, **args)
        if fault.hang:
            response = handler(request, body, **args) if fault.process else None
            self._stopping.wait(fault.hang)
            if response is not None:
                return response
        if fault.truncate:
            cut = handler(request, body, **args)
            full = cut.get_data()
            cut.set_data(full[: len(full) // 2])
            cut.headers["Content-Length"] = str(len(full))
            cut.headers["Connection"] = "close"
            return cut
        if fault.status is not None:
            error = fault.body or json.dumps({"error": f"Injected {fault.status}"}).encode()
            return Response(error, fault.status, content_type=fault.content_type, headers=fault.headers)
        if fault.body is not None:
            return Response(fault.body, 200, content_type=fault.content_type, headers=fault.headers)
        return handler(request, body, **args)

    @staticmethod
    def json(data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data), status, content_type="application/json")

    def bodies(self, route: str) -> list[Any]:
        with self.lock:
            return [json.loads(body) for name, _, body in self.requests if name == route and body]


@dataclass
class Job:
    """One job at a fake provider: it finishes ``duration`` seconds after it was created."""

    id: str
    body: dict[str, Any]
    created: float
    duration: float
    outcome: str = "success"  # success | failure | never
    error: str = "Failed to process video: Invalid image format"
    polls: int = 0

    @property
    def finishes_at(self) -> float:
        return self.created + self.duration

    def phase(self, now: float) -> str:
        """queued (first fifth), running, or the outcome."""
        if self.outcome == "never" or now < self.finishes_at:
            return "queued" if now < self.created + self.duration / 5 else "running"
        return self.outcome


class JobsFake(FakeServer):
    """Jobs that finish after a while, and the media files their results point at."""

    def __init__(self, video: bytes = b"", thumbnail: bytes = b"", duration: float | tuple[float, float] = 0.3) -> None:
        super().__init__()
        self.video, self.thumbnail = video, thumbnail
        self.duration = duration
        self.outcomes: deque[str] = deque()  # outcomes for the next jobs; then "success"
        self.jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self.route("GET", "/files/video.mp4", "video", lambda request, body: Response(self.video, content_type="video/mp4"))
        self.route("GET", "/files/thumb.jpg", "thumbnail", lambda request, body: Response(self.thumbnail, content_type="image/jpeg"))

    def new_job(self, body: dict[str, Any], prefix: str) -> Job:
        duration = random.uniform(*self.duration) if isinstance(self.duration, tuple) else self.duration
        with self.lock:
            outcome = self.outcomes.popleft() if self.outcomes else "success"
            job = Job(f"{prefix}{next(self._ids)}-{uuid.uuid4().hex[:8]}", body, time.time(), duration, outcome)
            self.jobs[job.id] = job
        return job

    def polled(self, job_id: str) -> Job | None:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is not None:
                job.polls += 1
            return job

    def finish_now(self, job_id: str, outcome: str = "success") -> Job:
        with self.lock:
            job = self.jobs[job_id]
            job.duration, job.outcome = time.time() - job.created, outcome
            return job

    def stats(self) -> dict[str, Any]:
        """Each job's creation and finishing time (Unix seconds) and polls, and requests per route."""
        with self.lock:
            jobs = {job.id: {"created": job.created, "finishes_at": job.finishes_at, "polls": job.polls}
                    for job in self.jobs.values()}
            return {"jobs": jobs, "hits": dict(self.hits)}


class TaskApiFake(JobsFake):
    """seeds/004: POST create-and-generate → 202 {task_id}; GET task-status → Celery-style state."""

    token = "test-token"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.route("POST", "/api/transitions/create-and-generate/", "create", self._create)
        self.route("GET", "/api/transitions/task-status/(?P<task_id>[^/]+)/", "status", self._status)
        self.route("GET", "/__stats", "stats", lambda request, body: self.json(self.stats()))

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Token {self.token}"

    def _create(self, request: Request, body: bytes) -> Response:
        if not self._authorized(request):
            return self.json({"detail": "Invalid token."}, 401)
        data = json.loads(body or b"{}")
        for required in ("front_image", "tail_image", "prompt", "duration"):
            if not data.get(required):
                return self.json({"error": f"{required} is required"}, 400)
        job = self.new_job(data, "task-")
        return self.json({"task_id": job.id, "status": "pending", "message": "Transition creation and video generation started"}, 202)

    def _status(self, request: Request, body: bytes, task_id: str) -> Response:
        if not self._authorized(request):
            return self.json({"detail": "Invalid token."}, 401)
        job = self.polled(task_id)
        if job is None:
            return self.json({"detail": "Not found."}, 404)
        now = time.time()
        phase = job.phase(now)
        if phase == "queued":
            return self.json({"task_id": job.id, "state": "PENDING", "ready": False, "info": None})
        if phase == "running":
            current = max(1, min(99, int(100 * (now - job.created) / job.duration))) if job.duration else 1
            info = {"current": current, "total": 100, "status": "Processing frames..."}
            return self.json({"task_id": job.id, "state": "PROCESSING", "ready": False, "info": info})
        if phase == "failure":
            return self.json({"task_id": job.id, "state": "FAILURE", "ready": True, "error": job.error})
        result = {
            "transition_id": 123, "generated_transition_id": 456, "video_url": f"{self.url}/files/video.mp4",
            "thumbnail_url": f"{self.url}/files/thumb.jpg", "duration": job.body.get("duration"), "status": "completed",
            "created_at": "2024-01-15T10:30:00Z",
        }
        return self.json({"task_id": job.id, "state": "SUCCESS", "ready": True, "result": result})


class RckFake(JobsFake):
    """seeds/002: templates, create-images-batch, jobs/:id; completion calls back our app."""

    secret = ""  # the WEBHOOK_SECRET its callbacks are signed with

    def __init__(self, templates: list[Any] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("duration", 3600.0)  # RCK jobs finish when a test says so
        super().__init__(**kwargs)
        self.templates = templates if templates is not None else []
        self.callbacks: list[tuple[str, int, dict]] = []
        self.route("POST", "/api/v1/templates", "templates", lambda request, body: self.json(
            {"success": True, "message": "Templates retrieved", "templates": self.templates, "error": None}))
        self.route("POST", "/api/v1/create-images-batch", "create", self._create)
        self.route("GET", "/api/jobs/(?P<job_id>[^/]+)", "status", self._status)

    def _create(self, request: Request, body: bytes) -> Response:
        data = json.loads(body or b"{}")
        missing = [k for k in ("id_product", "title", "img_url", "template_name", "video_id", "callback_url") if not data.get(k)]
        if missing:
            return self.json({"success": False, "message": f"Missing fields: {', '.join(missing)}"}, 400)
        job = self.new_job(data, "rck-")
        return self.json({"success": True, "job_id": job.id, "message": "Batch queued"})

    def _status(self, request: Request, body: bytes, job_id: str) -> Response:
        job = self.polled(job_id)
        if job is None:
            return self.json({"success": False, "message": "Job not found"}, 404)
        phase = job.phase(time.time())
        status = {"queued": "queued", "running": "processing", "success": "completed", "failure": "failed"}[phase]
        answer = {"job_id": job.id, "status": status, "progress": 100 if phase == "success" else 40}
        if phase == "success":
            answer["video_url"] = f"{self.url}/files/video.mp4"
        if phase == "failure":
            answer["error"] = job.error
        return self.json(answer)

    def call_back(self, job_id: str, outcome: str = "success", **overrides: Any) -> requests.Response:
        """Finishes the job and reports it the seed's way: POST to the callback URL it was given
        (…/success, or …/failure for a failure), signed with ``secret``."""
        job = self.finish_now(job_id, outcome)
        url = job.body["callback_url"]
        if outcome == "success":
            payload = {"videoId": job.body["video_id"], "youtubeVideoId": "dQw4w9WgXcQ", "localFilename": f"{job.id}.mp4",
                       "video_url": f"{self.url}/files/video.mp4", "id_product": job.body["id_product"]}
        else:
            url = url.rsplit("/success", 1)[0] + "/failure"
            payload = {"videoId": job.body["video_id"], "error": job.error, "id_product": job.body["id_product"]}
        payload.update(overrides)
        raw = json.dumps(payload).encode()
        response = requests.post(url, data=raw, headers=sign_delivery(self.secret, raw), timeout=30)
        self.callbacks.append((url, response.status_code, payload))
        return response


def _one_of(value: Any, allowed: tuple, name: str) -> str | None:
    return None if value in allowed else f"{name} must be one of {', '.join(map(str, allowed))}"


def _kie_image_urls(urls: Any, most: int) -> str | None:
    if not isinstance(urls, list) or not 1 <= len(urls) <= most or not all(isinstance(u, str) and u for u in urls):
        return f"image_urls must hold 1 to {most} image URLs"
    return None


# What Kie.ai's market accepts for each image-to-video model's input (docs.kie.ai/market/…):
# a check per field, returning the refusal or None.
KIE_MARKET_INPUTS: dict[str, dict[str, Callable[[Any], str | None]]] = {
    "kling-2.6/image-to-video": {
        "prompt": lambda v: None if isinstance(v, str) and 0 < len(v) <= 2500 else "prompt is required",
        "image_urls": lambda v: _kie_image_urls(v, 1),
        "duration": lambda v: _one_of(v, ("5", "10"), "duration"),
        "sound": lambda v: None if isinstance(v, bool) else "sound must be a boolean",
    },
    "sora-2-image-to-video": {
        "prompt": lambda v: None if isinstance(v, str) and 0 < len(v) <= 10000 else "prompt is required",
        "image_urls": lambda v: _kie_image_urls(v, 1),
        "aspect_ratio": lambda v: _one_of(v, ("portrait", "landscape"), "aspect_ratio"),
        "n_frames": lambda v: _one_of(v, ("10", "15"), "n_frames"),
        "remove_watermark": lambda v: None if isinstance(v, bool) else "remove_watermark must be a boolean",
    },
}


class KieFake(JobsFake):
    """Kie.ai: file-stream-upload; the market's jobs/createTask and jobs/recordInfo, checking
    each model's input as Kie.ai documents it; Veo 3.1's own veo/generate and veo/record-info;
    optional callbacks, shaped as each API sends them."""

    api_key = "kie-test-key"
    hmac_key = ""  # Kie.ai's webhookHmacKey: callbacks are signed with it when set

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.credits = 100
        self.credits_error_as_http = False  # answer 402 as the HTTP status rather than in the body
        self.uploads: dict[str, bytes] = {}
        self.route("POST", "/api/file-stream-upload", "upload", self._upload)
        self.route("GET", "/tempfile/(?P<name>[^/]+)", "download", self._download)
        self.route("POST", "/api/v1/jobs/createTask", "create", self._create)
        self.route("GET", "/api/v1/jobs/recordInfo", "status", self._record_info)
        self.route("POST", "/api/v1/veo/generate", "veo_create", self._veo_create)
        self.route("GET", "/api/v1/veo/record-info", "veo_status", self._veo_record_info)

    def _authorized(self, request: Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    def _upload(self, request: Request, body: bytes) -> Response:
        if not self._authorized(request):
            return self.json({"success": False, "code": 401, "msg": "Unauthorized"}, 401)
        upload = request.files.get("file")
        name = request.form.get("fileName") or upload.filename
        content = upload.read()
        with self.lock:
            self.uploads[name] = content
        data = {"fileName": name, "filePath": f"{request.form.get('uploadPath')}/{name}",
                "downloadUrl": f"{self.url}/tempfile/{name}", "fileSize": len(content), "mimeType": upload.mimetype,
                "uploadedAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}
        return self.json({"success": True, "code": 200, "msg": "File uploaded successfully", "data": data})

    def _download(self, request: Request, body: bytes, name: str) -> Response:
        content = self.uploads.get(name)
        return Response(content, content_type="image/jpeg") if content is not None else self.json({"msg": "gone"}, 404)

    def _create(self, request: Request, body: bytes) -> Response:
        if not self._authorized(request):
            return self.json({"code": 401, "msg": "You do not have access permissions"}, 401)
        if self.credits <= 0:
            error = {"code": 402, "msg": "Credits insufficient", "data": None}
            return self.json(error, 402 if self.credits_error_as_http else 200)
        data = json.loads(body or b"{}")
        if not data.get("model") or not isinstance(data.get("input"), dict):
            return self.json({"code": 422, "msg": "model and input are required", "data": None})
        rules = KIE_MARKET_INPUTS.get(data["model"])
        if rules is None:
            return self.json({"code": 422, "msg": f"The model {data['model']} is not supported", "data": None})
        unknown = set(data["input"]) - set(rules)
        problems = [f"unknown input field {name}" for name in sorted(unknown)]
        problems += [problem for name, check in rules.items() if (problem := check(data["input"].get(name)))]
        if problems:
            return self.json({"code": 422, "msg": "; ".join(problems), "data": None})
        self.credits -= 1
        job = self.new_job(data, "task_kie_")
        return self.json({"code": 200, "msg": "success", "data": {"taskId": job.id}})

    def _veo_create(self, request: Request, body: bytes) -> Response:
        """docs.kie.ai/veo3-api/generate-veo-3-video"""
        if not self._authorized(request):
            return self.json({"code": 401, "msg": "You do not have access permissions"}, 401)
        data = json.loads(body or b"{}")
        problems = [problem for problem in (
            None if isinstance(data.get("prompt"), str) and data["prompt"] else "prompt is required",
            _one_of(data.get("model"), ("veo3", "veo3_fast"), "model"),
            _one_of(data.get("aspect_ratio"), ("16:9", "9:16", "Auto"), "aspect_ratio"),
            _one_of(data.get("generationType"), ("TEXT_2_VIDEO", "FIRST_AND_LAST_FRAMES_2_VIDEO", "REFERENCE_2_VIDEO"),
                    "generationType"),
            _kie_image_urls(data.get("imageUrls"), 2),
        ) if problem]
        if problems:
            return self.json({"code": 400, "msg": "; ".join(problems), "data": None})
        self.credits -= 1
        job = self.new_job(data, "veo_task_")
        return self.json({"code": 200, "msg": "success", "data": {"taskId": job.id}})

    def veo_record(self, job: Job) -> dict[str, Any]:
        phase = job.phase(time.time())
        flag = {"queued": 0, "running": 0, "success": 1, "failure": 3}[phase]
        return {
            "taskId": job.id, "paramJson": json.dumps(job.body), "successFlag": flag,
            "response": {"taskId": job.id, "resultUrls": [f"{self.url}/files/video.mp4"], "resolution": "720p"}
            if flag == 1 else None,
            "errorCode": 501 if flag == 3 else None, "errorMessage": job.error if flag == 3 else "",
            "createTime": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(job.created)), "fallbackFlag": False,
        }

    def _veo_record_info(self, request: Request, body: bytes) -> Response:
        if not self._authorized(request):
            return self.json({"code": 401, "msg": "Unauthorized"}, 401)
        job = self.polled(request.args.get("taskId", ""))
        if job is None or "imageUrls" not in job.body:
            return self.json({"code": 404, "msg": "Task not found", "data": None})
        return self.json({"code": 200, "msg": "success", "data": self.veo_record(job)})

    def record(self, job: Job) -> dict[str, Any]:
        phase = job.phase(time.time())
        state = {"queued": "waiting", "running": "generating", "success": "success", "failure": "fail"}[phase]
        return {
            "taskId": job.id, "model": job.body.get("model"), "state": state, "param": json.dumps(job.body),
            "resultJson": json.dumps({"resultUrls": [f"{self.url}/files/video.mp4"]}) if state == "success" else "",
            "failCode": "500" if state == "fail" else "", "failMsg": job.error if state == "fail" else "",
            "completeTime": int(job.finishes_at * 1000) if phase in ("success", "failure") else None,
            "createTime": int(job.created * 1000), "updateTime": int(time.time() * 1000),
        }

    def _record_info(self, request: Request, body: bytes) -> Response:
        if not self._authorized(request):
            return self.json({"code": 401, "msg": "Unauthorized"}, 401)
        job = self.polled(request.args.get("taskId", ""))
        if job is None or "input" not in job.body:
            return self.json({"code": 404, "msg": "Task not found", "data": None})
        return self.json({"code": 200, "message": "success", "data": self.record(job)})

    def call_back(self, job_id: str, outcome: str = "success", *, finish: bool = True) -> requests.Response:
        """Reports the job as its API does: a market task's record, or Veo's {taskId, info}."""
        job = self.finish_now(job_id, outcome) if finish else self.jobs[job_id]
        if "imageUrls" in job.body:  # docs.kie.ai/veo3-api/generate-veo-3-video-callbacks
            success = {"code": 200, "msg": "Veo3.1 video generated successfully.", "data": {
                "taskId": job.id, "info": {"resultUrls": [f"{self.url}/files/video.mp4"], "resolution": "720p"},
                "fallbackFlag": False}}
            failure = {"code": 501, "msg": job.error, "data": {"taskId": job.id, "fallbackFlag": False}}
            payload = success if outcome == "success" else failure
        else:
            payload = {"code": 200, "msg": "Task completed" if outcome == "success" else "Task failed",
                       "data": {**self.record(job), "state": "success" if outcome == "success" else "fail"}}
        raw = json.dumps(payload).encode()
        return requests.post(job.body["callBackUrl"], data=raw, headers=kie_signature(self.hmac_key, job_id), timeout=30)


def kie_signature(key: str, task_id: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers as Kie.ai signs a callback (docs.kie.ai, Webhook Security Verification):
    base64(HMAC-SHA256(taskId + "." + timestamp, webhookHmacKey))."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(key.encode(), f"{task_id}.{stamp}".encode(), hashlib.sha256).digest()
    return {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": base64.b64encode(digest).decode(),
            "Content-Type": "application/json"}


def serve_taskapi(port_queue, video: bytes, thumbnail: bytes, duration: tuple[float, float]) -> None:
    """Runs a TaskApiFake until killed (the benchmark starts this in a subprocess)."""
    fake = TaskApiFake(video=video, thumbnail=thumbnail, duration=duration).start()
    port_queue.put(fake.port)
    threading.Event().wait()
