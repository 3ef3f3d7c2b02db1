"""Every setting Reelboard reads from the environment, in one place.

Defaults work on a fresh machine: SQLite and media under ``instance/``, the local renderer,
and a secret key generated once and kept in ``instance/secret_key``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", PROJECT_ROOT / "instance")).resolve()

# Videos per calendar month, by plan (seeds/002: junior, senior, executive contributors).
DEFAULT_PLAN_LIMITS = {"junior": 30, "senior": 100, "executive": 500}


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _plan_limits() -> dict[str, int]:
    """PLAN_LIMITS="junior=30,senior=100,executive=500" overrides the defaults."""
    limits = dict(DEFAULT_PLAN_LIMITS)
    for item in filter(None, os.environ.get("PLAN_LIMITS", "").split(",")):
        name, _, value = item.partition("=")
        limits[name.strip()] = int(value)
    return limits


def persistent_secret_key(instance_dir: Path) -> str:
    """The SECRET_KEY when none is set: generated once, then read from instance/secret_key."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: when two processes start at once, one writes and both read the same key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def default_render_slots() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


class Config:
    """Settings from the environment. Tests pass overrides to ``create_app(config)``."""

    def __init__(self) -> None:
        self.INSTANCE_DIR = INSTANCE_DIR
        self.SQLALCHEMY_DATABASE_URI = os.environ.get(
            "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'reelboard.db'}"
        )
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or persistent_secret_key(INSTANCE_DIR)
        self.MEDIA_DIR = Path(os.environ.get("MEDIA_DIR", INSTANCE_DIR / "media")).resolve()
        self.VIDEO_PROVIDER = os.environ.get("VIDEO_PROVIDER", "local")
        self.PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.EMBEDDED_WORKER = _bool("EMBEDDED_WORKER", False)
        # the worker renders the template picker's missing preview clips in the background
        self.TEMPLATE_PREVIEWS = _bool("TEMPLATE_PREVIEWS", True)
        self.PORT = _int("PORT", 5000)
        self.PLAN_LIMITS = _plan_limits()
        self.RENDER_SLOTS = _int("RENDER_SLOTS", default_render_slots())
        self.GENERATION_TIMEOUT_S = _int("GENERATION_TIMEOUT_S", 900)
        self.LEASE_S = _int("LEASE_S", 60)
        self.MAX_ATTEMPTS = _int("MAX_ATTEMPTS", 3)
        # PostgreSQL NOTIFY/LISTEN wakes workers when videos are queued; off behind a pooler that
        # cannot LISTEN (PgBouncer in transaction mode): the 1 s dispatch tick finds them then.
        self.QUEUE_NOTIFY = _bool("QUEUE_NOTIFY", True)
        self.WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET", "")
        self.ALLOW_PRIVATE_MEDIA_HOSTS = _bool("ALLOW_PRIVATE_MEDIA_HOSTS", False)
        # Outbound webhooks (generation/outbound.py): a destination gets this long to answer, and
        # may be on a loopback/private address only when allowed (tests, an internal receiver).
        self.WEBHOOK_TIMEOUT_S = float(os.environ.get("WEBHOOK_TIMEOUT_S") or 15)
        self.ALLOW_PRIVATE_WEBHOOK_HOSTS = _bool("ALLOW_PRIVATE_WEBHOOK_HOSTS", False)
        # How long each web process reuses a storefront answer before asking the database again.
        self.STOREFRONT_CACHE_S = float(os.environ.get("STOREFRONT_CACHE_S") or 5)
        self.TASKAPI_BASE_URL = os.environ.get("TASKAPI_BASE_URL", "")
        self.TASKAPI_TOKEN = os.environ.get("TASKAPI_TOKEN", "")
        self.RCK_BASE_URL = os.environ.get("RCK_BASE_URL", "")
        self.KIE_BASE_URL = os.environ.get("KIE_BASE_URL", "https://api.kie.ai")
        self.KIE_UPLOAD_URL = os.environ.get("KIE_UPLOAD_URL", "https://kieai.redpanda.ai")
        self.KIE_API_KEY = os.environ.get("KIE_API_KEY", "")
        self.KIE_MODEL = os.environ.get("KIE_MODEL", "kling-2.6/image-to-video")  # the default of KIE_MODELS
        # The models videos may choose, comma-separated (webapp/providers/kie.py lists those it
        # knows): e.g. kling-2.6/image-to-video,veo3_fast,sora-2-image-to-video. Empty: KIE_MODEL.
        self.KIE_MODELS = os.environ.get("KIE_MODELS", "")
        self.KIE_WEBHOOK_HMAC_KEY = os.environ.get("KIE_WEBHOOK_HMAC_KEY", "")  # Kie.ai's settings page makes it
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        self.LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
        self.LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
        self.IMAGE_MAX_BYTES = _int("IMAGE_MAX_BYTES", 10 * 1024 * 1024)
        self.IMAGES_PER_PRODUCT = _int("IMAGES_PER_PRODUCT", 10)
        self.IMAGE_DOWNLOAD_WORKERS = _int("IMAGE_DOWNLOAD_WORKERS", 4)
        self.IMAGE_DOWNLOAD_TIMEOUT_S = _int("IMAGE_DOWNLOAD_TIMEOUT_S", 20)
        # Remote providers (webapp/providers/http.py): every call has these timeouts; 5xx, 429,
        # timeouts and connection errors get PROVIDER_RETRIES quick retries, longer waits are the worker's.
        self.PROVIDER_CONNECT_TIMEOUT_S = float(os.environ.get("PROVIDER_CONNECT_TIMEOUT_S") or 5)
        self.PROVIDER_READ_TIMEOUT_S = float(os.environ.get("PROVIDER_READ_TIMEOUT_S") or 30)
        self.PROVIDER_RETRIES = _int("PROVIDER_RETRIES", 2)
        self.PROVIDER_BACKOFF_S = float(os.environ.get("PROVIDER_BACKOFF_S") or 0.5)
        self.PROVIDER_BACKOFF_CAP_S = float(os.environ.get("PROVIDER_BACKOFF_CAP_S") or 5)
        self.PROVIDER_SUBMIT_BATCH = _int("PROVIDER_SUBMIT_BATCH", 50)  # submits per dispatch tick (every 1 s)
        # Seconds between status polls of one job, "first,longest" (it backs off while nothing changes).
        self.TASKAPI_POLL_S = os.environ.get("TASKAPI_POLL_S", "2,15")
        self.TASKAPI_TRANSITION_TYPE = os.environ.get("TASKAPI_TRANSITION_TYPE", "ENERGETIC")
        self.RCK_POLL_S = os.environ.get("RCK_POLL_S", "15,60")  # callbacks come first; polling is the fallback
        self.KIE_POLL_S = os.environ.get("KIE_POLL_S", "3,30")
        self.KIE_UPLOAD_TTL_S = _int("KIE_UPLOAD_TTL_S", 3 * 24 * 3600)  # Kie.ai deletes uploads after 3 days
        self.CIRCUIT_FAILURE_THRESHOLD = _int("CIRCUIT_FAILURE_THRESHOLD", 5)
        self.CIRCUIT_COOL_OFF_S = float(os.environ.get("CIRCUIT_COOL_OFF_S") or 30)
        self.SYNC_THREADS = _int("SYNC_THREADS", 8)
        self.SYNC_BATCH = _int("SYNC_BATCH", 100)
        self.MIRROR_MAX_BYTES = _int("MIRROR_MAX_BYTES", 200 * 1024 * 1024)
        # Media storage (webapp/storage): MEDIA_DIR unless STORAGE_URL=s3://bucket/prefix. S3
        # credentials stay with boto3, which reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
        self.STORAGE_URL = os.environ.get("STORAGE_URL", "")
        self.S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "")
        self.S3_REGION = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        # A player keeps using the link it was redirected to for every later Range request, so
        # the link must outlive a page left open before play or seek (webapp/storage/s3.py).
        self.S3_PRESIGN_EXPIRES_S = _int("S3_PRESIGN_EXPIRES_S", 3600)
        # Where S3 media is copied while ffmpeg reads or writes it (removed after each use).
        self.STORAGE_SCRATCH_DIR = os.environ.get("STORAGE_SCRATCH_DIR", "")

    # Fixed (not from the environment).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    RATELIMIT_HEADERS_ENABLED = True

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in dir(self) if k.isupper()}
