"""ZIP archives written while they are sent: one pass, no seeking, and memory that does not
grow with the archive (each member is copied in chunks and handed on at once).

A bottom-layer helper: it knows nothing of the app, only of readers it is given."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

CHUNK = 1024 * 1024


class _Sink(io.RawIOBase):
    """Where zipfile writes: it keeps the bytes only until the generator hands them on. It
    cannot seek, so zipfile writes data descriptors after each member instead of going back."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_stream(members: Iterable[tuple[str, Callable[[], IO[bytes]]]], chunk: int = CHUNK) -> Iterator[bytes]:
    """The bytes of a ZIP of ``members`` — (name in the archive, a function that opens the
    member for reading) — stored uncompressed (the members are MP4s, which do not compress).
    Zip64 throughout: a member's size is not known before it is read and may pass 4 GB."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, open_member in members:
            with open_member() as source, archive.open(name, "w", force_zip64=True) as target:
                while block := source.read(chunk):
                    target.write(block)
                    if data := sink.drain():
                        yield data
            if data := sink.drain():  # the member's data descriptor
                yield data
    yield sink.drain()  # the central directory (never empty)
