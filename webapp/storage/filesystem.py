"""Media in a directory (MEDIA_DIR): the default, and a volume shared between machines."""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .base import NotStored, Storage, TooLarge
from .keys import InvalidKey, check_key

# A write in progress: ``.<stem>.<token>.part<suffix>`` beside its target, and the renderer's
# own ``.<name>.<token>.part`` inside it. Keys never name hidden files, so every such name is ours.
PARTIAL = re.compile(r"\..+\.part(\.[A-Za-z0-9]+)?")
CACHE_MAX_AGE_S = 3600


class FileStorage(Storage):
    origin = None  # the app serves the files itself

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"FileStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """The file of ``key``; even a symbolic link inside the root cannot lead out of it."""
        path = self.root / check_key(key)
        if self.root not in path.resolve().parents:
            raise InvalidKey(f"The storage key {key!r} leads outside the media directory.")
        return path

    @contextmanager
    def _partial(self, key: str, optional: bool = False) -> Iterator[Path]:
        """A hidden file beside the target, renamed onto it when the block succeeds (unless it
        is ``optional`` and was not written)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.stem}.{uuid.uuid4().hex[:12]}.part{target.suffix}")
        try:
            yield partial
            if not optional or partial.exists():
                os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    def put_stream(
        self, key: str, chunks: Iterable[bytes], content_type: str | None = None, max_bytes: int | None = None
    ) -> int:
        size = 0
        with self._partial(key) as partial, open(partial, "wb") as file:
            for chunk in chunks:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(max_bytes)
                file.write(chunk)
        return size

    def open(self, key: str) -> IO[bytes]:
        try:
            return open(self.path(key), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotStored(key) from None

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise NotStored(key)
        yield path

    @contextmanager
    def local_output(self, key: str, content_type: str | None = None, *, optional: bool = False) -> Iterator[Path]:
        with self._partial(key, optional) as partial:
            yield partial

    def delete(self, *keys: str | None) -> None:
        for key in keys:
            if key is None:
                continue
            self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        path = self.path(key)
        if not path.is_file():
            raise NotStored(key)
        return path.stat().st_size

    def delete_older_than(self, folder: str, older_than_s: float) -> int:
        cutoff = time.time() - older_than_s
        removed = 0
        for path in self.path(folder).rglob("*"):
            try:
                if path.is_file() and not PARTIAL.fullmatch(path.name) and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # removed by another process meanwhile
                pass
        return removed

    def sweep_partials(self, older_than_s: float) -> int:
        cutoff = time.time() - older_than_s
        removed = 0
        for directory, _, names in os.walk(self.root):
            for name in names:
                if not PARTIAL.fullmatch(name):
                    continue
                path = Path(directory, name)
                try:
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except FileNotFoundError:  # finished or swept by another process meanwhile
                    pass
        return removed

    def response(self, key: str, *, download_name: str | None = None, content_type: str | None = None):
        from flask import send_file

        path = self.path(key)
        if not path.is_file():
            raise NotStored(key)
        # send_file answers Range requests (206), If-None-Match / If-Modified-Since (304)
        response = send_file(
            path, mimetype=content_type, conditional=True, etag=True, max_age=CACHE_MAX_AGE_S,
            as_attachment=download_name is not None, download_name=download_name,
        )
        response.cache_control.public = False
        response.cache_control.private = True  # a workspace's media: no shared cache keeps it
        return response

    def presigned_url(self, key: str, expires_s: int | None = None) -> None:
        check_key(key)
