"""Media in an S3-compatible bucket (AWS S3, MinIO, Garage, SeaweedFS, Cloudflare R2), under a
key prefix, through boto3.

Writes stream: a body is sent in parts of PART_SIZE as it arrives (a multipart upload once it
outgrows one part), so memory holds at most one part, and an upload that fails or crosses its
size limit is aborted. Programs that need a local file (ffmpeg) get a temporary copy in a
scratch directory that is removed when they are done.

Browsers are sent to the object itself: ``response()`` answers 302 to a presigned GET that
expires after S3_PRESIGN_EXPIRES_S. The store then answers Range, ETag and 304 itself, and no
web worker is held for the minutes a video takes to stream. Chromium keeps requesting the URL
it was redirected to for every later Range of a <video>: once that link has expired, play or
seek on a page left open stalls until the page is reloaded. Hence an hour by default, not
minutes. The page's Content-Security-Policy must allow ``origin`` in img-src and media-src,
or the browser refuses the redirected image or video.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import quote, urlsplit

from .base import CHUNK, NotStored, Storage, StorageError, TooLarge, guess_content_type
from .keys import InvalidKey, check_key

log = logging.getLogger(__name__)

PART_SIZE = 8 * 1024 * 1024  # S3 wants at least 5 MiB per part but the last; 10,000 parts = 80 GB
DELETE_BATCH = 1000  # keys per DeleteObjects request, S3's limit
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60
ATTEMPTS = 4  # botocore's "standard" retries: throttling, 5xx and dropped connections, with back-off
DEFAULT_PRESIGN_EXPIRES_S = 3600
# Temporary local files, one directory each, removed when done (sweep_partials removes those a
# killed process left).
SCRATCH_DIR = Path(tempfile.gettempdir()) / "reelboard-storage"
BUCKET_NAME = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"


def parse_storage_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` → (bucket, prefix); the prefix may be empty."""
    parts = urlsplit(url.strip())
    if parts.scheme != "s3" or not re.fullmatch(BUCKET_NAME, parts.netloc) or parts.query or parts.fragment:
        raise ValueError(f"STORAGE_URL must look like s3://bucket/prefix, not {url[:100]!r}.")
    prefix = parts.path.strip("/")
    if prefix:
        try:
            check_key(prefix)
        except InvalidKey as error:
            raise ValueError(f"The prefix of STORAGE_URL is not usable: {error}") from error
    return parts.netloc, prefix


def s3_client(endpoint_url: str | None, region: str):
    """A thread-safe S3 client with explicit timeouts and retries. Credentials come from boto3's
    usual chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, shared files, an instance role."""
    import boto3
    from botocore.config import Config

    config = Config(
        region_name=region,
        signature_version="s3v4",
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"max_attempts": ATTEMPTS, "mode": "standard"},
        max_pool_connections=16,
        # Self-hosted stores (MinIO, SeaweedFS, Garage) are reached by path, not by bucket subdomain.
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        # Checksums only where S3 requires them: several S3-compatible stores refuse the
        # CRC trailers botocore otherwise adds to every upload.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    # A session per client: boto3's default session is not safe to share between threads.
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, config=config)


def attachment_header(download_name: str) -> str:
    """The Content-Disposition of a download, written as Flask's send_file writes it."""
    from werkzeug.datastructures import Headers

    try:
        download_name.encode("ascii")
        options = {"filename": download_name}
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode("ascii")
        options = {"filename": simple, "filename*": f"UTF-8''{quote(download_name, safe='!#$&+^`|~')}"}
    headers = Headers()
    headers.set("Content-Disposition", "attachment", **options)
    return headers["Content-Disposition"]


class ObjectReader(io.RawIOBase):
    """An object's body read as it arrives, as a file: ``read(n)``, ``with``, iteration; a
    network failure halfway is a StorageError, as everywhere else."""

    def __init__(self, storage: S3Storage, key: str, body: Any) -> None:
        self._storage, self._key, self._body = storage, key, body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        with self._storage._errors(self._key, "read"):
            data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


class S3Storage(Storage):
    def __init__(
        self, bucket: str, prefix: str, client: Any, presign_expires_s: int = DEFAULT_PRESIGN_EXPIRES_S,
        scratch_dir: Path = SCRATCH_DIR,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)
        self.client = client
        self.presign_expires_s = presign_expires_s
        self.scratch_dir = Path(scratch_dir)

    def __repr__(self) -> str:
        return f"S3Storage('s3://{self.bucket}/{self.prefix}')"

    @property
    def origin(self) -> str:
        """Where presigned links point (scheme://host[:port])."""
        parts = urlsplit(self.presigned_url("origin"))
        return f"{parts.scheme}://{parts.netloc}"

    def object_key(self, key: str) -> str:
        """The S3 object name of ``key``: always under the prefix."""
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    @contextmanager
    def _errors(self, key: str, action: str) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise NotStored(key) from None
            message = error.response.get("Error", {}).get("Message") or code
            raise StorageError(f"S3 refused to {action} {key!r} in {self.bucket}: {message}") from error
        except BotoCoreError as error:
            raise StorageError(f"Could not {action} {key!r} in S3 bucket {self.bucket}: {error}") from error

    def put_stream(
        self, key: str, chunks: Iterable[bytes], content_type: str | None = None, max_bytes: int | None = None
    ) -> int:
        name = self.object_key(key)
        content_type = content_type or guess_content_type(key)
        pending: list[bytes] = []
        pending_size = size = 0
        upload_id: str | None = None
        parts: list[dict] = []
        try:
            for chunk in chunks:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(max_bytes)
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size >= PART_SIZE:
                    if upload_id is None:
                        with self._errors(key, "start an upload of"):
                            upload_id = self.client.create_multipart_upload(
                                Bucket=self.bucket, Key=name, ContentType=content_type
                            )["UploadId"]
                    parts.append(self._upload_part(key, upload_id, len(parts) + 1, b"".join(pending)))
                    pending, pending_size = [], 0
            body = b"".join(pending)
            with self._errors(key, "store"):
                if upload_id is None:
                    self.client.put_object(Bucket=self.bucket, Key=name, Body=body, ContentType=content_type)
                    return size
                if body:
                    parts.append(self._upload_part(key, upload_id, len(parts) + 1, body))
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
                return size
        except BaseException:
            if upload_id is not None:
                self._abort(name, upload_id)
            raise

    def _upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> dict:
        with self._errors(key, "upload a part of"):
            answer = self.client.upload_part(
                Bucket=self.bucket, Key=self.object_key(key), UploadId=upload_id, PartNumber=number, Body=body
            )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def _abort(self, name: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
        except Exception:  # the original error matters more; sweep_partials aborts it later
            log.warning("could not abort the upload of %s; sweep_partials will", name, exc_info=True)

    def _head(self, key: str) -> dict:
        with self._errors(key, "look up"):
            return self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))

    def open(self, key: str) -> IO[bytes]:
        with self._errors(key, "read"):
            body = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]
        return io.BufferedReader(ObjectReader(self, key, body), CHUNK)

    @contextmanager
    def _scratch(self, key: str) -> Iterator[Path]:
        """A path with the key's file name in a fresh temporary directory, removed afterwards."""
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(dir=self.scratch_dir))
        try:
            yield directory / PurePosixPath(key).name
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        with self._scratch(key) as path:
            with self.open(key) as body, open(path, "wb") as file:
                shutil.copyfileobj(body, file, CHUNK)
            yield path

    @contextmanager
    def local_output(self, key: str, content_type: str | None = None, *, optional: bool = False) -> Iterator[Path]:
        self.object_key(key)  # refuse a bad key before the program runs
        with self._scratch(key) as path:
            yield path
            if not optional or path.exists():
                self.put_file(key, path, content_type)

    def delete(self, *keys: str | None) -> None:
        names = [self.object_key(key) for key in keys if key is not None]
        for start in range(0, len(names), DELETE_BATCH):
            batch = names[start:start + DELETE_BATCH]
            with self._errors(batch[0], "delete"):
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": name} for name in batch], "Quiet": True}
                )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise StorageError(f"S3 did not delete {first.get('Key')!r}: {first.get('Message') or first.get('Code')}")

    def exists(self, key: str) -> bool:
        try:
            self._head(key)
        except NotStored:
            return False
        return True

    def size(self, key: str) -> int:
        return int(self._head(key)["ContentLength"])

    def delete_older_than(self, folder: str, older_than_s: float) -> int:
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
        with self._errors(folder, "list the objects under"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"{self.object_key(folder)}/"
            )
            stale = [item["Key"] for page in pages for item in page.get("Contents", [])
                     if item["LastModified"] < cutoff]
        start = len(self.prefix) + 1 if self.prefix else 0
        self.delete(*(name[start:] for name in stale))
        return len(stale)

    def sweep_partials(self, older_than_s: float) -> int:
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
        removed = 0
        with self._errors(self.prefix or "/", "list the unfinished uploads under"):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
            )
            stale = [(upload["Key"], upload["UploadId"]) for page in pages for upload in page.get("Uploads", [])
                     if upload["Initiated"] < cutoff]
        for name, upload_id in stale:
            with self._errors(name, "abort the upload of"):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            removed += 1
        if self.scratch_dir.is_dir():
            for directory in self.scratch_dir.iterdir():
                try:
                    if directory.stat().st_mtime < time.time() - older_than_s:
                        shutil.rmtree(directory)
                        removed += 1
                except FileNotFoundError:  # removed by its owner meanwhile
                    pass
        return removed

    def presigned_url(self, key: str, expires_s: int | None = None, **response_headers: str) -> str:
        """``response_headers``: S3's Response* overrides (ResponseContentDisposition…), signed
        into the URL like the key, so neither can be changed by whoever holds it."""
        with self._errors(key, "sign a link to"):
            return self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self.object_key(key), **response_headers},
                ExpiresIn=int(expires_s or self.presign_expires_s),
            )

    def response(self, key: str, *, download_name: str | None = None, content_type: str | None = None):
        from flask import redirect

        self._head(key)  # a missing object is the app's 404, as on the filesystem
        expires = self.presign_expires_s
        overrides = {"ResponseCacheControl": f"private, max-age={expires}"}
        if download_name is not None:
            overrides["ResponseContentDisposition"] = attachment_header(download_name)
        if content_type:
            overrides["ResponseContentType"] = content_type
        response = redirect(self.presigned_url(key, expires, **overrides), 302)
        # The browser may reuse the redirect while the link it points to is still valid.
        response.cache_control.private = True
        response.cache_control.max_age = expires // 2
        return response
