"""Where media lives — product images, renders, thumbnails, captions, previews, imports,
mirrored results: a directory (MEDIA_DIR, the default) or an S3-compatible bucket
(``STORAGE_URL=s3://bucket/prefix``, ``S3_ENDPOINT_URL`` for MinIO, Garage, SeaweedFS, R2).

A bottom-layer helper: it imports nothing of the app above it, and Flask only to build a
response. One instance per process: ``current_storage()`` inside the app, ``storage_for(config)``
for code that holds a config mapping.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import NotStored, Storage, StorageError, TooLarge
from .filesystem import FileStorage
from .keys import InvalidKey, check_key
from .s3 import (
    DEFAULT_PRESIGN_EXPIRES_S,
    SCRATCH_DIR,
    S3Storage,
    parse_storage_url,
    s3_client,
)

__all__ = [
    "FileStorage", "InvalidKey", "NotStored", "S3Storage", "Storage", "StorageError", "TooLarge",
    "check_key", "current_storage", "storage_for",
]

EXTENSION = "reelboard.storage"


# One storage per distinct settings in a process, and one S3 client per endpoint and region:
# making a client loads botocore's S3 model (about a second), and its connection pool is meant
# to be shared by the threads. Nothing here has to agree between processes.
_storages: dict[tuple, Storage] = {}
_clients: dict[tuple, Any] = {}
_lock = threading.Lock()


def storage_for(config: Mapping[str, Any]) -> Storage:
    """The backend the settings name: S3 when STORAGE_URL is set, else MEDIA_DIR. A STORAGE_URL
    that is not ``s3://bucket/prefix`` raises ValueError, which stops the app at start. The same
    settings give the same instance, so a provider built from the app's config shares the app's."""
    url = (config.get("STORAGE_URL") or "").strip()
    endpoint = config.get("S3_ENDPOINT_URL") or None
    region = config.get("S3_REGION") or "us-east-1"
    expires = int(config.get("S3_PRESIGN_EXPIRES_S") or DEFAULT_PRESIGN_EXPIRES_S)
    scratch = Path(config.get("STORAGE_SCRATCH_DIR") or SCRATCH_DIR)
    settings = (url, str(config.get("MEDIA_DIR")), endpoint, region, expires, str(scratch))
    with _lock:
        storage = _storages.get(settings)
        if storage is None:
            if not url:
                storage = FileStorage(Path(config["MEDIA_DIR"]))
            else:
                bucket, prefix = parse_storage_url(url)
                client = _clients.get((endpoint, region))
                if client is None:
                    client = _clients[(endpoint, region)] = s3_client(endpoint, region)
                storage = S3Storage(bucket, prefix, client, expires, scratch)
            _storages[settings] = storage
    return storage


def current_storage() -> Storage:
    """The app's storage, made on first use and kept in ``app.extensions`` (clients and their
    connection pools are shared by the threads of the process)."""
    from flask import current_app

    extensions = current_app.extensions
    storage = extensions.get(EXTENSION)
    if storage is None:
        storage = extensions.setdefault(EXTENSION, storage_for(current_app.config))
    return storage
