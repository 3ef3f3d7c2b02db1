"""What every storage backend offers, and the errors it raises."""

from __future__ import annotations

import mimetypes
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Response

CHUNK = 1024 * 1024  # read size when copying a file into storage


class StorageError(Exception):
    """The backend failed (a network error, a refused request); the message says what."""


class NotStored(StorageError):
    """No object has this key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Nothing is stored at {key!r}.")
        self.key = key


class TooLarge(StorageError):
    """A streamed write crossed its size limit; nothing was stored."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"The file is larger than the {max_bytes / (1024 * 1024):g} MB limit.")
        self.max_bytes = max_bytes


def guess_content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def file_chunks(path: Path, size: int = CHUNK) -> Iterator[bytes]:
    with open(path, "rb") as file:
        while chunk := file.read(size):
            yield chunk


class Storage(ABC):
    """Where media lives: a directory (FileStorage) or an S3 bucket prefix (S3Storage).

    Keys are clean relative paths (``webapp.storage.keys.check_key``); every method refuses
    any other with InvalidKey. Writes are all-or-nothing: a reader sees the old object, the
    new one, or none, never a part."""

    origin: str | None
    """Where the browser is sent for the files (scheme://host[:port]) when it is not the app
    itself: the Content-Security-Policy's img-src and media-src must allow it."""

    @abstractmethod
    def put_stream(
        self, key: str, chunks: Iterable[bytes], content_type: str | None = None, max_bytes: int | None = None
    ) -> int:
        """Stores the chunks as they come (never the whole body in memory) and returns the size.
        Past ``max_bytes`` it raises TooLarge; on any error nothing is left behind."""

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> int:
        return self.put_stream(key, (data,), content_type)

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> int:
        """Copies a local file into storage (the local file stays)."""
        return self.put_stream(key, file_chunks(Path(path)), content_type)

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """A reader of the object, streamed (``with storage.open(key) as f: f.read(n)``)."""

    @abstractmethod
    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A local path of the object while the block runs, for programs such as ffmpeg that
        need one: the file itself on the filesystem, a temporary download on S3 that is
        removed afterwards."""

    @abstractmethod
    def local_output(
        self, key: str, content_type: str | None = None, *, optional: bool = False
    ) -> AbstractContextManager[Path]:
        """A local path for a program to write the object to (it keeps the key's suffix, which
        ffmpeg reads the format from). When the block ends normally the file is stored at
        ``key`` and nothing of it stays on the local disk beyond the stored file; when it
        raises, nothing is stored. ``optional``: the program may not write the file at all
        (a video without captions); then nothing is stored either."""

    @abstractmethod
    def delete(self, *keys: str | None) -> None:
        """Removes the objects; missing ones are ignored, and so is None (an empty column)."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int:
        """The object's size in bytes; NotStored when there is none."""

    @abstractmethod
    def delete_older_than(self, folder: str, older_than_s: float) -> int:
        """Removes the objects under the key prefix ``folder/`` written more than
        ``older_than_s`` ago (uploads kept between two requests that were never used); returns
        how many."""

    @abstractmethod
    def sweep_partials(self, older_than_s: float) -> int:
        """Removes what killed processes left of unfinished writes older than ``older_than_s``
        (``.part`` files, multipart uploads, temporary downloads); returns how many."""

    @abstractmethod
    def response(self, key: str, *, download_name: str | None = None, content_type: str | None = None) -> Response:
        """A Flask response that serves the object to a browser (as an attachment named
        ``download_name`` when given); NotStored when there is none. The caller has already
        decided that this viewer may read this key."""

    @abstractmethod
    def presigned_url(self, key: str, expires_s: int | None = None) -> str | None:
        """A URL that anyone holding it may GET the object from until it expires; None where
        the backend has none (the filesystem: the app's own signed link serves it)."""
