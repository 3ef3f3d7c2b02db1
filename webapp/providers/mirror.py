"""Copies a remote provider's finished video and thumbnail into our storage (``webapp.storage``),
because provider links expire. Downloads go through ``webapp.fetch`` (http(s) only, private
addresses refused unless ALLOW_PRIVATE_MEDIA_HOSTS, redirects checked hop by hop, size limit,
content type) and stream into the storage chunk by chunk (a multipart upload on S3), the size
limit holding while they arrive: a worker's memory does not grow with the video. The first
bytes must really be an MP4/MOV or WebM; duration and size are recorded, and width and height
read from the MP4's ``moov`` box, kept as the body passes wherever in the file it is. A
thumbnail the provider does not send is cut from the stored video with ffmpeg, best effort.
"""

from __future__ import annotations

import logging
import struct
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..fetch import FetchError, open_stream
from ..render import contained
from ..storage import Storage, StorageError, storage_for
from ..storage.transfer import StoredDownload, store_download
from .base import ProviderResult

log = logging.getLogger(__name__)

VIDEO_TYPES = ("video/", "application/octet-stream", "binary/octet-stream")
IMAGE_SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
IMAGE_MAGIC = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"), (b"RIFF", ".webp"))
THUMBNAIL_MAX_BYTES = 10 * 1024 * 1024
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"


class MirrorError(Exception):
    """The result could not be copied. ``retryable``: a network failure worth another try later."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class VideoInfo:
    suffix: str
    duration: float | None = None
    width: int | None = None
    height: int | None = None


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """The ISO-BMFF boxes in data[start:end]: (type, payload start, box end)."""
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1 and position + 16 <= end:
            size, header = struct.unpack_from(">Q", data, position + 8)[0], 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            return
        yield kind, position + header, position + size
        position += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((s, e) for k, s, e in _boxes(data, start, end) if k == kind), None)


def probe(data: bytes) -> VideoInfo:
    """What the bytes are; MP4/MOV durations and dimensions come from the moov box."""
    if data[:4] == WEBM_MAGIC:
        return VideoInfo(".webm")
    if data[4:8] != b"ftyp":
        raise MirrorError("The provider's file is not a video (neither MP4 nor WebM).")
    suffix = ".mov" if data[8:12] == b"qt  " else ".mp4"
    moov = _child(data, 0, len(data), b"moov")
    if moov is None:
        return VideoInfo(suffix)
    duration = width = height = None
    try:
        mvhd = _child(data, *moov, b"mvhd")
        if mvhd is not None:
            version = data[mvhd[0]]
            timescale, length = struct.unpack_from(">IQ" if version == 1 else ">II", data, mvhd[0] + (20 if version == 1 else 12))
            duration = round(length / timescale, 3) if timescale else None
        for kind, start, end in _boxes(data, *moov):
            tkhd = _child(data, start, end, b"tkhd") if kind == b"trak" else None
            if tkhd is not None:
                version = data[tkhd[0]]
                w, h = struct.unpack_from(">II", data, tkhd[0] + 4 + (32 if version == 1 else 20) + 52)
                if w and h:  # audio tracks have no size
                    width, height = w >> 16, h >> 16
                    break
    except (struct.error, IndexError):
        log.warning("could not read the MP4 header of a mirrored video")
    return VideoInfo(suffix, duration, width, height)


def _store(storage: Storage, url: str, key: str | Callable[[bytes], str], config: Mapping[str, Any], max_bytes: int,
           types: tuple[str, ...]) -> StoredDownload:
    """Streams ``url`` into storage under ``key`` (or the key it returns for the first bytes)."""
    try:
        with open_stream(
            url,
            max_bytes=max_bytes,
            allowed_types=types,
            allow_private=bool(config["ALLOW_PRIVATE_MEDIA_HOSTS"]),
            timeout=(float(config["PROVIDER_CONNECT_TIMEOUT_S"]), float(config["PROVIDER_READ_TIMEOUT_S"])),
        ) as stream:
            return store_download(storage, stream, key)
    except FetchError as error:
        # a network failure may pass; a refused URL, a wrong type or size, or a 4xx will not
        raise MirrorError(str(error), retryable=error.retryable) from error
    except StorageError as error:  # our store did not take it: the provider's link still works
        raise MirrorError(f"Storing the copy failed: {error}", retryable=True) from error


@contextmanager
def _ffmpeg_input(storage: Storage, key: str) -> Iterator[str]:
    """Where ffmpeg reads a stored video from: a short-lived link on S3 (it fetches only the
    ranges it needs, not the whole film), the file itself on the filesystem."""
    url = storage.presigned_url(key, 600)
    if url is not None:
        yield url
        return
    with storage.local_copy(key) as path:
        yield str(path)


def _thumbnail(result: ProviderResult, config: Mapping[str, Any], storage: Storage, stem: str, video_file: str) -> str | None:
    if result.thumbnail_url:
        try:
            image = _store(storage, result.thumbnail_url, lambda head: f"{stem}{_image_suffix(head)}", config,
                           THUMBNAIL_MAX_BYTES, tuple(IMAGE_SUFFIXES))
        except MirrorError as error:
            log.warning("thumbnail %s not copied (%s); cutting one from the video", result.thumbnail_url, error)
        else:
            return image.key
    key = f"{stem}.jpg"
    ffmpeg = config.get("FFMPEG_EXE")
    if not ffmpeg:
        import imageio_ffmpeg

        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    try:
        with _ffmpeg_input(storage, video_file) as source, storage.local_output(key) as output:
            command = [ffmpeg, "-v", "error", "-i", source, "-frames:v", "1", "-vf", "scale=640:-2", "-y", str(output)]
            subprocess.run(contained(command), capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError, StorageError) as error:
        log.warning("no thumbnail for %s: %s", video_file, error)
        return None
    return key


def _image_suffix(head: bytes) -> str:
    """The suffix of a thumbnail, from its first bytes (a server's content type can be wrong)."""
    for magic, suffix in IMAGE_MAGIC:
        if head.startswith(magic) and (suffix != ".webp" or head[8:12] == b"WEBP"):
            return suffix
    raise MirrorError("The provider's thumbnail is not a JPEG, PNG or WebP image.")


def mirror_result(result: ProviderResult, config: Mapping[str, Any], workspace_id: int, video_id: int) -> ProviderResult:
    """Streams ``result.video_url`` (and its thumbnail) into storage under videos/<workspace_id>/
    and returns the result with the stored keys; raises MirrorError (nothing stored)."""
    if not result.video_url:
        raise MirrorError("The provider sent no video URL.")
    storage = storage_for(config)
    stem = f"videos/{workspace_id}/{video_id}-{uuid.uuid4().hex[:12]}"
    video = _store(storage, result.video_url, lambda head: f"{stem}{probe(head).suffix}", config,
                   int(config["MIRROR_MAX_BYTES"]), VIDEO_TYPES)
    info = probe(video.movie_boxes or video.head)
    return ProviderResult(
        video_file=video.key,
        thumbnail_file=_thumbnail(result, config, storage, stem, video.key),
        video_url=result.video_url,
        thumbnail_url=result.thumbnail_url,
        duration=info.duration or result.duration,
        width=info.width or result.width,
        height=info.height or result.height,
        size_bytes=video.size,
    )


def discard(result: ProviderResult, config: Mapping[str, Any]) -> None:
    """Removes the files of a mirrored result that was not used (another report won the race)."""
    storage_for(config).delete(result.video_file, result.thumbnail_file)
