"""The streamed ZIP: a valid archive (names, contents, CRCs) whose writing holds no more than a
few chunks in memory, whatever the size of its members."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
import zipfile

from webapp.zipstream import CHUNK, zip_stream

MB = 1024 * 1024


class Pattern(io.RawIOBase):
    """``size`` bytes of a repeating pattern, made as they are read (never held whole)."""

    def __init__(self, size: int, seed: int) -> None:
        self.left = size
        self.block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KB

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        whole, rest = divmod(n, len(self.block))
        return self.block * whole + self.block[:rest]


def digest_of(size: int, seed: int) -> str:
    pattern, digest = Pattern(size, seed), hashlib.sha256()
    while block := pattern.read(CHUNK):
        digest.update(block)
    return digest.hexdigest()


def test_the_archive_reads_back_with_every_member_whole(tmp_path):
    sizes = {"first.mp4": 3 * MB + 17, "second.mp4": 0, "third.mp4": 5 * MB}
    members = [(name, lambda size=size, seed=index: Pattern(size, seed)) for index, (name, size) in enumerate(sizes.items())]
    target = tmp_path / "videos.zip"
    with open(target, "wb") as file:
        for chunk in zip_stream(members):
            assert chunk  # no empty writes: an empty chunk ends a chunked HTTP body
            file.write(chunk)
    with zipfile.ZipFile(target) as archive:
        assert archive.testzip() is None  # every CRC matches
        assert archive.namelist() == list(sizes)
        for index, (name, size) in enumerate(sizes.items()):
            info = archive.getinfo(name)
            assert (info.file_size, info.compress_type) == (size, zipfile.ZIP_STORED)
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest_of(size, index)


def test_memory_stays_flat_while_a_large_archive_streams():
    members = [(f"video-{index}.mp4", lambda seed=index: Pattern(40 * MB, seed)) for index in range(3)]
    total = 0
    tracemalloc.start()
    try:
        for chunk in zip_stream(members):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 120 * MB
    assert peak < 6 * CHUNK, f"{peak / MB:.1f} MB held while streaming {total / MB:.0f} MB"
