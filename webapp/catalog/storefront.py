"""The storefront integration: each workspace's publishable key and allowed store origins, and
the lookup a store page makes — the latest completed video of one of its products.

The key is publishable, like a payment provider's publishable key: it sits in every store
page's HTML, names the workspace and reads only what the workspace already shows its shoppers
(a product's video, poster, captions and title). Rotating it stops every old snippet at once.

Media reached from the storefront answer is addressed by signed tokens that are the same on
every call (so the answer, its ETag and every cache of it stay valid) and stop working when the
key is rotated or the video deleted.

A store's traffic lands on ``latest_video``: one prepared statement on a connection, no ORM
objects (it is read on every product page view; see bench/storefront.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Select, and_, bindparam, select, update

from ..errors import every_check
from ..extensions import db, writing
from ..media import MediaFile
from ..models import Product, Video, VideoStatus, Workspace
from ..numbers import parse_id
from ..storage import NotStored, current_storage
from .products import CatalogError

KEY_PREFIX = "rbpk_"
KEY_PATTERN_LENGTH = len(KEY_PREFIX) + 32  # token_urlsafe(24)
MAX_ORIGINS = 20
MAX_ORIGIN_LENGTH = 255
MAX_CAPTIONS_BYTES = 512 * 1024
# The files a storefront answer links to, by name: never a path from the request.
MEDIA_KINDS = {"video": "video_path", "poster": "thumbnail_path", "captions": "captions_path"}
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class StorefrontSettings:
    key: str
    allowed_origins: list[str]


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def settings_of(workspace: Workspace) -> StorefrontSettings:
    """The workspace's key (made on first use) and allowed origins."""
    if workspace.storefront_key is None:
        with writing():
            # Two first views at once: the first one's key stays.
            db.session.execute(
                update(Workspace).where(Workspace.id == workspace.id, Workspace.storefront_key.is_(None))
                .values(storefront_key=_new_key()).execution_options(synchronize_session=False)
            )
            db.session.commit()
        db.session.refresh(workspace)
    return StorefrontSettings(workspace.storefront_key, list(workspace.allowed_origins or []))


def rotate_key(workspace: Workspace) -> StorefrontSettings:
    """A new key: snippets with the old one (and its media links) stop working at once."""
    workspace.storefront_key = _new_key()
    db.session.commit()
    return settings_of(workspace)


def normalize_origin(value: str) -> str:
    """``https://Shop.Example.com/`` → ``https://shop.example.com``: what a browser sends as
    ``Origin``. Raises CatalogError for anything that is not a web origin."""
    text = value.strip()
    example = "Write each as scheme and host, e.g. https://shop.example.com."
    if not text or len(text) > MAX_ORIGIN_LENGTH or any(ord(c) < 33 or ord(c) == 127 for c in text):
        raise CatalogError(f"{text[:60]!r} is not a store origin. {example}", "allowedOrigins")
    if text == "*" or "*" in text:
        raise CatalogError(f"{text[:60]!r} has a wildcard: list each store origin. {example}", "allowedOrigins")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise CatalogError(f"{text[:60]!r} is not a store origin. {example}", "allowedOrigins") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise CatalogError(f"{text[:60]!r} is not a store origin (http or https). {example}", "allowedOrigins")
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise CatalogError(f"{text[:60]!r} has more than an origin (a path, a query or a user). {example}",
                           "allowedOrigins")
    try:
        host = parts.hostname.encode("idna").decode("ascii")  # browsers send the punycode form
    except UnicodeError:
        raise CatalogError(f"{text[:60]!r} has an invalid host name. {example}", "allowedOrigins") from None
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    suffix = f":{port}" if port is not None and port != DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{suffix}"


def parse_origins(text: str) -> list[str]:
    """The origins typed in the settings form: one per line (commas and spaces also separate)."""
    return text.replace(",", " ").split()


def set_allowed_origins(workspace: Workspace, values: Iterable[str]) -> StorefrontSettings:
    """Replaces the list; bad input raises CatalogError, with every bad origin, and changes nothing."""
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise CatalogError("allowedOrigins must be a list of origins such as https://shop.example.com.",
                           "allowedOrigins")
    origins = list(dict.fromkeys(every_check(lambda value=value: normalize_origin(value) for value in values)))
    if len(origins) > MAX_ORIGINS:
        raise CatalogError(f"At most {MAX_ORIGINS} store origins.", "allowedOrigins")
    workspace.allowed_origins = origins
    db.session.commit()
    return settings_of(workspace)


def _plausible_key(key: str) -> bool:
    return len(key) == KEY_PATTERN_LENGTH and key.startswith(KEY_PREFIX) and key.isascii() and key.isprintable()


@dataclass(frozen=True)
class StorefrontVideo:
    """What a store page is told about a product's video: nothing else of the workspace."""

    video_id: int
    title: str
    width: int | None
    height: int | None
    updated_at: datetime
    has_poster: bool
    has_captions: bool

    def version(self, key: str) -> str:
        """Changes whenever the answer about this video under ``key`` would: its fields, the key
        and the media signing key (the links' tokens) — so a 304 needs no answer built."""
        fields = repr((self, key, current_app.config["PUBLIC_BASE_URL"], _media_secret()))
        return hashlib.sha256(fields.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class StorefrontAnswer:
    """The workspace's allowed origins (None: no workspace has this key) and the video, if any."""

    allowed_origins: list[str] | None
    video: StorefrontVideo | None


# Built once: the same statement for every request, only its parameters change.
LATEST_VIDEO: Select = (
    select(Workspace.allowed_origins, Video.id, Video.width, Video.height, Video.completed_at,
           Video.thumbnail_path, Video.captions_path, Product.title)
    .select_from(Workspace)
    .outerjoin(Product, and_(Product.workspace_id == Workspace.id, Product.external_key == bindparam("external_key")))
    .outerjoin(Video, and_(Video.product_id == Product.id, Video.status == VideoStatus.COMPLETED.value,
                           Video.video_path.is_not(None)))
    .where(Workspace.storefront_key == bindparam("key"))
    .order_by(Video.completed_at.desc(), Video.id.desc())
    .limit(1)
)


def latest_video(key: str, external_key: str) -> StorefrontAnswer:
    """The newest completed video of the product ``external_key`` of the workspace whose
    storefront key is ``key``: one statement, read only."""
    if not _plausible_key(key) or not external_key or "\x00" in external_key or len(external_key) > 255:
        return StorefrontAnswer(None, None)
    with db.engine.connect() as connection:  # no ORM session: nothing here is an object to track
        row = connection.execute(LATEST_VIDEO, {"key": key, "external_key": external_key}).one_or_none()
    if row is None:
        return StorefrontAnswer(None, None)
    origins = list(row.allowed_origins or [])
    if row.id is None:
        return StorefrontAnswer(origins, None)
    video = StorefrontVideo(row.id, row.title, row.width, row.height, row.completed_at,
                            row.thumbnail_path is not None, row.captions_path is not None)
    return StorefrontAnswer(origins, video)


# ---------------------------------------------------------------- media ----


MEDIA_TOKEN_LABEL = b"reelboard.storefront-media"


def _media_secret() -> bytes:
    return _derived_secret(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=8)
def _derived_secret(secret_key: str) -> bytes:
    """The media signing key, derived from SECRET_KEY (a pure function: computed once per key)."""
    return hmac.new(secret_key.encode(), MEDIA_TOKEN_LABEL, hashlib.sha256).digest()


def _mac(video_id: int, kind: str, key: str) -> str:
    """128 bits of HMAC-SHA256 over the video, the file and the storefront key it is shown under."""
    digest = hmac.new(_media_secret(), f"{video_id}.{kind}.{key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def media_token(video_id: int, kind: str, key: str) -> str:
    """``<video id>.<kind>.<mac>``: the same on every call (no expiry inside), so the answer stays
    byte-for-byte stable; it stops working when the key is rotated (the mac covers it)."""
    return f"{video_id}.{kind}.{_mac(video_id, kind, key)}"


@dataclass(frozen=True)
class StorefrontMedia:
    file: MediaFile
    kind: str
    allowed_origins: list[str]


def media_for_token(token: str) -> StorefrontMedia | None:
    """The file a storefront media token names, while its video is completed and the key it was
    issued under is still the workspace's; None otherwise."""
    video_text, _, rest = token.partition(".")
    kind, _, mac = rest.partition(".")
    video_id = parse_id(video_text)
    if video_id is None or kind not in MEDIA_KINDS or len(mac) != 22:
        return None
    row = db.session.execute(
        select(getattr(Video, MEDIA_KINDS[kind]).label("path"), Workspace.storefront_key, Workspace.allowed_origins)
        .join(Workspace, Workspace.id == Video.workspace_id)
        .where(Video.id == video_id, Video.status == VideoStatus.COMPLETED.value)
    ).one_or_none()
    if row is None or row.path is None or row.storefront_key is None:
        return None
    if not hmac.compare_digest(_mac(video_id, kind, row.storefront_key), mac):
        return None
    return StorefrontMedia(MediaFile(row.path), kind, list(row.allowed_origins or []))


def captions_text(file: MediaFile) -> bytes | None:
    """A WebVTT file's bytes (small: read whole), served by the app itself rather than by a
    redirect to storage, so a page on another origin (or a share page with media on S3) may read
    it for its ``<track>``; None when it is gone or too large."""
    try:
        with current_storage().open(file.path) as stream:
            data = stream.read(MAX_CAPTIONS_BYTES + 1)
    except NotStored:
        return None
    return data if len(data) <= MAX_CAPTIONS_BYTES else None
