"""Files under MEDIA_DIR: product images, rendered videos, thumbnails, template previews.

The database stores paths relative to MEDIA_DIR, so the directory can move (or be a shared
volume mounted elsewhere on each machine).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from flask import current_app


def media_root() -> Path:
    return Path(current_app.config["MEDIA_DIR"])


def absolute(relative: str) -> Path:
    """The file behind a stored relative path; never a path outside MEDIA_DIR."""
    root = media_root().resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ValueError(f"{relative!r} is outside the media directory")
    return path


def new_path(folder: str, suffix: str) -> str:
    """A fresh relative path in ``folder`` whose parent directory exists."""
    relative = f"{folder}/{uuid.uuid4().hex}{suffix}"
    (media_root() / folder).mkdir(parents=True, exist_ok=True)
    return relative


def write_atomically(relative: str, data: bytes) -> Path:
    path = absolute(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def remove(*relatives: str | None) -> None:
    for relative in relatives:
        if relative:
            absolute(relative).unlink(missing_ok=True)


SIGNED_URL_MAX_AGE_S = 3 * 24 * 3600


def _signer():
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="reelboard.media")


def signed_url(relative: str, base_url: str) -> str:
    """A URL a remote provider can fetch a file from without logging in, valid for 3 days."""
    return f"{base_url}/media/signed/{_signer().dumps(relative)}"


def unsign(token: str) -> str | None:
    from itsdangerous import BadSignature

    try:
        return _signer().loads(token, max_age=SIGNED_URL_MAX_AGE_S)
    except BadSignature:
        return None
