"""Copies a remote provider's finished video and thumbnail into MEDIA_DIR, because provider
links expire. Downloads go through ``webapp.fetch`` (http(s) only, private addresses refused
unless ALLOW_PRIVATE_MEDIA_HOSTS, redirects checked hop by hop, size limit, content type), and
the bytes must really be an MP4/MOV or WebM. Duration and size are recorded, and width and
height read from the MP4's track header. A thumbnail the provider does not send is cut from
the video with ffmpeg, best effort.
"""

from __future__ import annotations

import logging
import os
import struct
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ..fetch import FetchError, download
from .base import ProviderResult

log = logging.getLogger(__name__)

VIDEO_TYPES = ("video/", "application/octet-stream", "binary/octet-stream")
IMAGE_SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
THUMBNAIL_MAX_BYTES = 10 * 1024 * 1024
WEBM_MAGIC = b"\x1a\x45\xdf\xa3"

_session = requests.Session()  # one per process: downloads reuse connections to the same CDN


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


def _write(media_dir: Path, relative: str, content: bytes) -> None:
    path = media_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


def _fetch(url: str, config: Mapping[str, Any], max_bytes: int, types: tuple[str, ...]):
    try:
        return download(
            url,
            max_bytes=max_bytes,
            allowed_types=types,
            allow_private=bool(config["ALLOW_PRIVATE_MEDIA_HOSTS"]),
            timeout=(float(config["PROVIDER_CONNECT_TIMEOUT_S"]), float(config["PROVIDER_READ_TIMEOUT_S"])),
            session=_session,
        )
    except FetchError as error:
        # a network failure may pass; a refused URL, a wrong type or size, or a 4xx will not
        raise MirrorError(str(error), retryable=isinstance(error.__cause__, requests.RequestException)) from error


def _thumbnail(result: ProviderResult, config: Mapping[str, Any], media_dir: Path, stem: str, video_file: str) -> str | None:
    if result.thumbnail_url:
        try:
            image = _fetch(result.thumbnail_url, config, THUMBNAIL_MAX_BYTES, tuple(IMAGE_SUFFIXES))
        except MirrorError as error:
            log.warning("thumbnail %s not copied (%s); cutting one from the video", result.thumbnail_url, error)
        else:
            relative = f"{stem}{IMAGE_SUFFIXES[image.content_type]}"
            _write(media_dir, relative, image.content)
            return relative
    relative = f"{stem}.jpg"
    ffmpeg = config.get("FFMPEG_EXE")
    if not ffmpeg:
        import imageio_ffmpeg

        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    command = [ffmpeg, "-v", "error", "-i", str(media_dir / video_file), "-frames:v", "1", "-vf", "scale=640:-2", "-y",
               str(media_dir / relative)]
    try:
        subprocess.run(command, capture_output=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("no thumbnail for %s: %s", video_file, error)
        return None
    return relative if (media_dir / relative).exists() else None


def mirror_result(result: ProviderResult, config: Mapping[str, Any], workspace_id: int, video_id: int) -> ProviderResult:
    """Downloads ``result.video_url`` (and its thumbnail) to videos/<workspace_id>/ and returns
    the result with the local files; raises MirrorError."""
    if not result.video_url:
        raise MirrorError("The provider sent no video URL.")
    video = _fetch(result.video_url, config, int(config["MIRROR_MAX_BYTES"]), VIDEO_TYPES)
    info = probe(video.content)
    media_dir = Path(config["MEDIA_DIR"])
    stem = f"videos/{workspace_id}/{video_id}-{uuid.uuid4().hex[:12]}"
    video_file = f"{stem}{info.suffix}"
    _write(media_dir, video_file, video.content)
    return ProviderResult(
        video_file=video_file,
        thumbnail_file=_thumbnail(result, config, media_dir, stem, video_file),
        video_url=result.video_url,
        thumbnail_url=result.thumbnail_url,
        duration=info.duration or result.duration,
        width=info.width or result.width,
        height=info.height or result.height,
        size_bytes=len(video.content),
    )


def discard(result: ProviderResult, config: Mapping[str, Any]) -> None:
    """Removes the files of a mirrored result that was not used (another report won the race)."""
    media_dir = Path(config["MEDIA_DIR"])
    for relative in (result.video_file, result.thumbnail_file):
        if relative:
            (media_dir / relative).unlink(missing_ok=True)
