"""The app's stored files — product images, rendered videos, thumbnails, captions, template
previews, pending imports — by storage key, in ``webapp.storage``: MEDIA_DIR or an S3 bucket.

The database stores keys (``videos/3/17-9f2c4e1ab3d0.mp4``), never machine paths, so any web
or worker process on any machine reaches the same file.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import IO

from flask import abort, current_app

from .storage import InvalidKey, NotStored, current_storage

# The longest a link may last: S3 refuses presigned links valid for more than seven days.
MAX_LINK_S = 7 * 24 * 3600
PROVIDER_LINK_S = 3 * 24 * 3600  # what a remote provider gets to fetch a product image


def new_path(folder: str, suffix: str) -> str:
    """A fresh key in ``folder``."""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def write_atomically(key: str, data: bytes) -> int:
    """Stores ``data`` at ``key``; a reader sees the old file, the new one or none, never a part."""
    return current_storage().put_bytes(key, data)


def open_reader(key: str) -> IO[bytes]:
    """The stored file, streamed (``with media.open_reader(key) as f: f.read(n)``); NotStored when
    there is none."""
    return current_storage().open(key)


def remove(*keys: str | None) -> None:
    current_storage().delete(*(key for key in keys if key))


def _signer():
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="reelboard.media")


def signed_url(key: str, base_url: str, expires_s: int = PROVIDER_LINK_S) -> str:
    """This app's link to one stored file that works without logging in for ``expires_s``
    (``/media/signed/<token>``): the token carries the key and its lifetime, signed."""
    return f"{base_url}/media/signed/{_signer().dumps([key, int(expires_s)])}"


def unsign(token: str) -> str | None:
    """The key of a link ``signed_url`` made, while it lasts; None for anything else."""
    from itsdangerous import BadSignature

    try:
        payload, signed_at = _signer().loads(token, max_age=MAX_LINK_S, return_timestamp=True)
    except BadSignature:
        return None
    if isinstance(payload, str):  # a link made before links carried their lifetime
        payload = [payload, PROVIDER_LINK_S]
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], str)
            and isinstance(payload[1], int)):
        return None
    key, expires_s = payload
    return key if time.time() - signed_at.timestamp() <= expires_s else None


def public_url(key: str, expires_s: int) -> str:
    """A URL anyone holding it may GET the stored file from for ``expires_s`` seconds (at most
    seven days), for viewers who are not logged in (share pages, storefronts, remote providers):
    a presigned URL of the object on S3, this app's signed link on the filesystem. The caller
    has decided that the file may be shown."""
    if not 0 < expires_s <= MAX_LINK_S:
        raise ValueError(f"A link lasts between 1 second and {MAX_LINK_S} seconds, not {expires_s}.")
    return current_storage().presigned_url(key, expires_s) or signed_url(
        key, current_app.config["PUBLIC_BASE_URL"], expires_s
    )


@dataclass(frozen=True)
class MediaFile:
    """A stored file a request may read: its key (found from a record, never from the URL)
    and the name a download gets."""

    path: str
    download_name: str | None = None


def send(file: MediaFile, as_attachment: bool = False):
    """The file for a browser — from this app on the filesystem (Range, 304), a redirect to a
    presigned link on S3 — cached by the browser only (it is not public); 404 when it is gone."""
    try:
        return current_storage().response(
            file.path, download_name=(file.download_name or file.path.rsplit("/", 1)[-1]) if as_attachment else None
        )
    except (NotStored, InvalidKey):
        abort(404)
