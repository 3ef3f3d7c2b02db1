"""A download streamed into storage: the body goes from the network to the backend chunk by
chunk, with the size limit of the download holding while it arrives, and what a caller needs
to recognise the file (its first bytes, and an MP4's ``ftyp`` and ``moov`` boxes wherever in
the file they are) is kept on the way, so nothing has to read the stored object again.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..fetch import Stream
from .base import Storage

HEAD_BYTES = 64 * 1024
MOVIE_BOXES_MAX_BYTES = 16 * 1024 * 1024  # a moov of a long, many-track film; larger is not kept
KEPT_BOXES = (b"ftyp", b"moov")


@dataclass(frozen=True)
class StoredDownload:
    key: str
    size: int
    content_type: str  # as the server declared it
    url: str  # after redirects
    head: bytes  # the first HEAD_BYTES bytes (all of a smaller file)
    # An ISO-BMFF file's (MP4, MOV) ftyp and moov boxes, one after the other: enough to read
    # its duration and dimensions. None for other formats, or when no moov came.
    movie_boxes: bytes | None


class MovieBoxes:
    """Keeps the top-level ``ftyp`` and ``moov`` boxes of an ISO-BMFF stream as it passes in
    chunks, skipping every other box (the media data) without holding it."""

    def __init__(self, max_bytes: int = MOVIE_BOXES_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.kept = bytearray()
        self.found: set[bytes] = set()
        self.failed = False  # not ISO-BMFF, or a box header that cannot be right
        self._header = bytearray()
        self._remaining = 0  # bytes of the current box's payload still to come
        self._keeping = False
        self._first = True

    def feed(self, chunk: bytes) -> None:
        view = memoryview(chunk)
        while view and not self.failed:
            if self._remaining:
                taken = view[: self._remaining]
                if self._keeping:
                    self.kept += taken
                self._remaining -= len(taken)
                view = view[len(taken):]
                continue
            wanted = 16 if len(self._header) >= 8 and self._header[:4] == b"\0\0\0\1" else 8
            taken = view[: wanted - len(self._header)]
            self._header += taken
            view = view[len(taken):]
            if len(self._header) == wanted:
                self._start_box()

    def _start_box(self) -> None:
        header = bytes(self._header)
        self._header.clear()
        size, kind = struct.unpack(">I4s", header[:8])
        if size == 1 and len(header) == 8:  # a 64-bit size follows
            self._header += header
            return
        if size == 1:
            size = struct.unpack(">Q", header[8:])[0]
        # size 0 means "to the end of the file": only media data ends a file that way
        if (self._first and kind != b"ftyp") or (size == 0 and kind in KEPT_BOXES) or 0 < size < len(header):
            self.failed = True
            return
        self._first = False
        self._remaining = size - len(header) if size else 1 << 62
        self._keeping = kind in KEPT_BOXES and kind not in self.found and len(self.kept) + size <= self.max_bytes
        if self._keeping:
            self.kept += header
            self.found.add(kind)

    def result(self) -> bytes | None:
        complete = self.found == set(KEPT_BOXES) and not (self._keeping and self._remaining)
        return bytes(self.kept) if complete and not self.failed else None


def _head_and_rest(chunks: Iterator[bytes]) -> tuple[bytes, list[bytes]]:
    """Reads chunks until HEAD_BYTES have come (or the body ended): the head, and those chunks."""
    head = bytearray()
    held = []
    for chunk in chunks:
        held.append(chunk)
        head += chunk[: HEAD_BYTES - len(head)]
        if len(head) == HEAD_BYTES:
            break
    return bytes(head), held


def store_download(
    storage: Storage,
    stream: Stream,
    key: str | Callable[[bytes], str],
    *,
    content_type: str | None = None,
) -> StoredDownload:
    """Writes the body of an open ``webapp.fetch.open_stream`` response to storage with
    ``put_stream``, under ``key`` — or, when ``key`` is a function, under the key it returns
    for the first HEAD_BYTES of the body (all of a smaller one), which it may look at to name
    the file or to refuse it by raising. Whatever goes wrong (that refusal, the download's
    FetchError for a body over its limit or broken off, the backend's StorageError), nothing
    stays stored. ``content_type`` defaults to the one the key's suffix means."""
    boxes = MovieBoxes()

    def watched() -> Iterator[bytes]:
        for chunk in stream.chunks():
            boxes.feed(chunk)
            yield chunk

    chunks = watched()
    head, held = _head_and_rest(chunks)
    chosen = key(head) if callable(key) else key

    def body() -> Iterator[bytes]:
        yield from held
        yield from chunks

    size = storage.put_stream(chosen, body(), content_type)
    return StoredDownload(chosen, size, stream.content_type, stream.url, head, boxes.result())
