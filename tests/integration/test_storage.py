"""Media storage (webapp/storage) on both backends: a directory, and a real S3 server
(SeaweedFS on loopback, see tests/storage_support.py). Every test that takes ``storage`` runs
once on each; downloads come from a loopback HTTP server."""

from __future__ import annotations

import hashlib
import os
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask, abort, request

from tests.storage_support import (
    PeakMemory,
    Served,
    is_s3,
    left_on_disk,
    object_names,
    stored_keys,
    unfinished_uploads,
)
from webapp.fetch import FetchError, open_stream
from webapp.providers.mirror import MirrorError, probe
from webapp.render.ffmpeg import ffmpeg_binary
from webapp.storage import (
    FileStorage,
    InvalidKey,
    NotStored,
    S3Storage,
    StorageError,
    TooLarge,
    check_key,
    current_storage,
    storage_for,
)
from webapp.storage.s3 import PART_SIZE, s3_client
from webapp.storage.transfer import HEAD_BYTES, MovieBoxes, store_download

# No database here: the PostgreSQL pass of `make test` would only repeat these.
pytestmark = pytest.mark.sqlite_only

MB = 1024 * 1024


def pattern(size: int, seed: int = 0) -> bytes:
    """Bytes that differ at every offset, so a misplaced or lost piece shows."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    return b"".join(struct.pack(">Q", index) + block[8:] for index in range(size // len(block) + 1))[:size]


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def everything(storage, tmp_path) -> list[str]:
    """Every file of the test's directory, or every object of the whole bucket."""
    if is_s3(storage):
        return object_names(storage.client, storage.bucket)
    return sorted(str(path) for path in tmp_path.rglob("*") if path.is_file())


# ------------------------------------------------------------------ keys ----

GOOD_KEYS = [
    "videos/3/17-9f2c4e1ab3d0.mp4",
    "videos/3/17-9f2c4e1ab3d0.jpg",
    "products/12/0c5d1e0e6a8b4c3f9d2e7a1b5c4d3e2f.jpg",
    "previews/product_showcase.mp4",
    "imports/2/Xy_z-09.csv",
    "captions/3/17.vtt",
]

BAD_KEYS = [
    "", "/", "../secret", "a/../../secret", "videos/1/../../2/x.mp4", "..", ".", "./x", "a/./b",
    "/etc/passwd", "//server/share", "a\\..\\..\\b", "..\\x", "C:\\Windows\\x", "a//b", "a/", "videos/1/",
    "a\0b", "a\nb", "a\rb", "a\tb", "a\x7fb", "a\x85b", "%2e%2e/x", "..%2fx", "%2e%2e%2fx", "a/%00",
    "\uff0e\uff0e/x", "a\u2215..", "\u202etxt.exe", "~/x", "a/.hidden", ".part", "videos/1/.x.0123456789ab.part.mp4",
    "x" * 513, "a/" + "b" * 201, "a b", "a:b", "a?b", "a#b", "é.jpg",
]


@pytest.mark.parametrize("key", GOOD_KEYS)
def test_the_keys_the_app_makes_are_accepted(key):
    assert check_key(key) == key


@pytest.mark.parametrize("key", [*BAD_KEYS, None, b"videos/1/x.mp4"], ids=repr)
def test_key_check_refuses_anything_but_a_clean_relative_key(key):
    with pytest.raises(InvalidKey) as refused:
        check_key(key)
    assert "key" in str(refused.value)


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_every_operation_refuses_a_bad_key_and_touches_nothing(storage, key, tmp_path):
    storage.put_bytes("products/1/kept.jpg", b"kept")
    before = everything(storage, tmp_path)
    operations: list[Callable[[], object]] = [
        lambda: storage.put_bytes(key, b"x"),
        lambda: storage.put_stream(key, iter([b"x"])),
        lambda: storage.put_file(key, Path(__file__)),
        lambda: storage.open(key),
        lambda: storage.exists(key),
        lambda: storage.size(key),
        lambda: storage.delete(key),
        lambda: storage.presigned_url(key),
        lambda: storage.local_copy(key).__enter__(),
        lambda: storage.local_output(key).__enter__(),
    ]
    for operation in operations:
        with pytest.raises(InvalidKey):
            operation()
    with Flask(__name__).test_request_context(), pytest.raises(InvalidKey):
        storage.response(key)
    assert everything(storage, tmp_path) == before


def test_a_symbolic_link_cannot_lead_a_key_out_of_the_media_directory(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_bytes(b"root")
    storage = FileStorage(tmp_path / "media")
    (storage.root / "products").symlink_to(outside)
    for operation in (lambda: storage.open("products/passwd"), lambda: storage.put_bytes("products/new", b"x"),
                      lambda: storage.delete("products/passwd")):
        with pytest.raises(InvalidKey, match="outside"):
            operation()
    assert sorted(path.name for path in outside.iterdir()) == ["passwd"]


def test_every_object_lies_under_the_prefix(seaweedfs):
    first = S3Storage(seaweedfs.bucket, "tenant-a/media", seaweedfs.client)
    second = S3Storage(seaweedfs.bucket, "tenant-b", seaweedfs.client)
    for key in GOOD_KEYS:
        first.put_bytes(key, key.encode())
    names = object_names(first.client, seaweedfs.bucket, "tenant-")
    assert names == sorted(f"tenant-a/media/{key}" for key in GOOD_KEYS)
    assert not any(second.exists(key) for key in GOOD_KEYS)
    first.delete(*GOOD_KEYS)
    assert object_names(first.client, seaweedfs.bucket, "tenant-") == []


# ------------------------------------------------------------ operations ----


def test_round_trip_of_every_operation(storage, tmp_path):
    key = "videos/1/5-abc.mp4"
    assert not storage.exists(key)
    assert storage.put_bytes(key, b"first version") == 13
    assert storage.exists(key) and storage.size(key) == 13
    with storage.open(key) as reader:
        assert reader.read(5) == b"first" and reader.read() == b" version"
    assert storage.put_bytes(key, b"second") == 6  # replaces
    with storage.open(key) as reader:
        assert reader.read() == b"second"

    source = tmp_path / "render.mp4"
    source.write_bytes(pattern(3 * MB + 7))
    assert storage.put_file("videos/1/6-def.mp4", source) == 3 * MB + 7
    assert source.exists()  # a copy: the local file stays
    with storage.open("videos/1/6-def.mp4") as reader:
        assert hashlib.sha256(reader.read()).digest() == hashlib.sha256(source.read_bytes()).digest()

    storage.delete(key, None, "videos/1/6-def.mp4", "videos/1/never-stored.mp4")
    assert not storage.exists(key) and not storage.exists("videos/1/6-def.mp4")
    for missing in (lambda: storage.size(key), lambda: storage.open(key), lambda: storage.local_copy(key).__enter__()):
        with pytest.raises(NotStored):
            missing()
    assert stored_keys(storage) == []


def test_put_stream_stores_a_body_of_many_parts(storage):
    data = pattern(2 * PART_SIZE + 3 * MB + 11)  # three parts on S3, the last one short
    size = storage.put_stream("videos/2/big.mp4", chunked(data, 300_000), "video/mp4")
    assert size == len(data) == storage.size("videos/2/big.mp4")
    with storage.open("videos/2/big.mp4") as reader:
        assert reader.read() == data
    assert unfinished_uploads(storage) == []


@pytest.mark.parametrize("limit", [100_000, PART_SIZE + MB])  # before and after the first part is sent
def test_put_stream_over_the_limit_leaves_nothing_behind(storage, limit):
    key = "videos/3/over.mp4"
    storage.put_bytes(key, b"the previous version")
    with pytest.raises(TooLarge, match="limit"):
        storage.put_stream(key, chunked(pattern(limit + PART_SIZE), MB // 2), "video/mp4", max_bytes=limit)
    with storage.open(key) as reader:
        assert reader.read() == b"the previous version"  # all or nothing
    assert unfinished_uploads(storage) == []
    assert stored_keys(storage) == [key]


def test_a_body_that_breaks_off_leaves_nothing_behind(storage):
    def broken() -> Iterator[bytes]:
        yield from chunked(pattern(PART_SIZE + 2 * MB), MB)
        raise ConnectionError("the provider hung up")

    with pytest.raises(ConnectionError):
        storage.put_stream("videos/4/broken.mp4", broken())
    assert not storage.exists("videos/4/broken.mp4")
    assert unfinished_uploads(storage) == [] and stored_keys(storage) == []


def make_clip(path: Path, seconds: float = 1.0, faststart: bool = False, size: str = "320x240") -> Path:
    command = [ffmpeg_binary(), "-v", "error", "-f", "lavfi", "-i", f"testsrc=size={size}:rate=10", "-t", str(seconds),
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-y"]
    subprocess.run([*command, *(["-movflags", "+faststart"] if faststart else []), str(path)], check=True, timeout=60)
    return path


def test_ffmpeg_reads_a_local_copy_and_writes_a_local_output(storage, tmp_path):
    storage.put_file("videos/5/source.mp4", make_clip(tmp_path / "clip.mp4"))
    with storage.local_copy("videos/5/source.mp4") as source, storage.local_output("videos/5/thumb.jpg") as output:
        assert output.suffix == ".jpg"  # ffmpeg picks the format by the suffix
        subprocess.run([ffmpeg_binary(), "-v", "error", "-i", str(source), "-frames:v", "1", "-y", str(output)],
                       check=True, timeout=60)
        copy_path = source
    with storage.open("videos/5/thumb.jpg") as reader:
        assert reader.read(3) == b"\xff\xd8\xff"  # a JPEG
    if is_s3(storage):
        assert not copy_path.exists() and not output.exists() and left_on_disk(storage) == []
    else:
        assert copy_path == storage.root / "videos/5/source.mp4"  # the file itself, no copy
    assert stored_keys(storage) == ["videos/5/source.mp4", "videos/5/thumb.jpg"]


def test_a_failed_local_output_stores_nothing_and_leaves_no_file(storage):
    with pytest.raises(RuntimeError), storage.local_output("videos/6/render.mp4") as output:
        output.write_bytes(b"half a video")
        raise RuntimeError("ffmpeg was canceled")
    assert not output.exists() and left_on_disk(storage) == []
    assert not storage.exists("videos/6/render.mp4") and stored_keys(storage) == []


def test_an_optional_output_the_program_did_not_write_stores_nothing(storage):
    with storage.local_output("videos/6/captions.vtt", optional=True) as unwritten:
        pass  # a video without captions: no WebVTT was written
    with storage.local_output("videos/6/spoken.vtt", optional=True) as written:
        written.write_text("WEBVTT\n")
    assert not unwritten.exists() and not written.exists() and left_on_disk(storage) == []
    assert stored_keys(storage) == ["videos/6/spoken.vtt"]
    with pytest.raises(FileNotFoundError), storage.local_output("videos/6/required.mp4"):
        pass  # a required output that was not written is an error
    assert stored_keys(storage) == ["videos/6/spoken.vtt"]


def test_delete_older_than_removes_only_old_objects_of_one_folder(storage):
    storage.put_bytes("imports/1/old.csv", b"a")
    storage.put_bytes("imports/10/other-folder.csv", b"b")  # a folder whose name starts the same
    time.sleep(2.2)  # S3 dates objects to the second
    storage.put_bytes("imports/1/new.csv", b"c")
    assert storage.delete_older_than("imports/1", older_than_s=1.5) == 1
    assert stored_keys(storage) == ["imports/1/new.csv", "imports/10/other-folder.csv"]
    assert storage.delete_older_than("imports/2", older_than_s=0) == 0  # nothing there: nothing to do
    with pytest.raises(InvalidKey):
        storage.delete_older_than("../imports", older_than_s=0)


def test_a_local_copy_is_removed_even_when_the_block_fails(storage):
    storage.put_bytes("imports/1/rows.csv", b"title\nMug\n")
    with pytest.raises(KeyError), storage.local_copy("imports/1/rows.csv") as path:
        assert path.read_bytes() == b"title\nMug\n"
        raise KeyError("parse error")
    assert path.exists() is (not is_s3(storage))
    assert left_on_disk(storage) == []


SWEEP_CHILD = r"""
import sys, time
from pathlib import Path
from webapp.storage import FileStorage, S3Storage
from webapp.storage.s3 import PART_SIZE, s3_client, s3_client
kind, where, endpoint = sys.argv[1:4]
storage = FileStorage(Path(where)) if kind == "file" else S3Storage(where.split("/")[0], where.split("/", 1)[1], s3_client(endpoint, "us-east-1"))
def body():
    yield b"x" * (PART_SIZE + 1024)  # one part sent on S3
    yield b"y" * 1024
    print("writing", flush=True)
    time.sleep(600)
storage.put_stream("videos/7/killed.mp4", body())
"""


def test_sweep_partials_removes_what_a_killed_process_left(storage):
    where = str(storage.root) if not is_s3(storage) else f"{storage.bucket}/{storage.prefix}"
    endpoint = storage.client.meta.endpoint_url if is_s3(storage) else ""
    child = subprocess.Popen([sys.executable, "-c", SWEEP_CHILD, "file" if not is_s3(storage) else "s3", where, endpoint],
                             stdout=subprocess.PIPE, cwd=Path(__file__).parents[2])
    try:
        assert child.stdout.readline() == b"writing\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert len(unfinished_uploads(storage)) == 1
    assert not storage.exists("videos/7/killed.mp4")
    assert storage.sweep_partials(older_than_s=3600) == 0  # may still be running somewhere: kept
    time.sleep(1.1)  # S3 dates uploads to the second
    assert storage.sweep_partials(older_than_s=0) == 1
    assert unfinished_uploads(storage) == [] and stored_keys(storage) == []


def test_sweep_partials_removes_the_renderers_partial_files_inside_an_output(tmp_path):
    storage = FileStorage(tmp_path / "media")
    storage.put_bytes("videos/7/kept.mp4", b"a finished video")
    with storage.local_output("videos/7/render.mp4") as output:
        # what a render killed halfway leaves: its own partial beside the output's partial
        left = output.with_name(f".{output.name}.0123456789.part")
        left.write_bytes(b"half a video")
        old = time.time() - 7200
        os.utime(left, (old, old))
        output.write_bytes(b"the finished video")
    assert storage.sweep_partials(older_than_s=3600) == 1
    assert stored_keys(storage) == ["videos/7/kept.mp4", "videos/7/render.mp4"]


# -------------------------------------------------------------- serving ----


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes


def serving_app(storage) -> Flask:
    app = Flask(__name__)

    @app.get("/media/<path:key>")
    def media(key: str):
        try:
            return storage.response(key, download_name=request.args.get("name"), content_type=request.args.get("type"))
        except (NotStored, InvalidKey):
            abort(404)

    return app


def fetch(client, path: str, headers: dict[str, str] | None = None) -> Answer:
    """What a browser gets: the app's answer, and on S3 the object the redirect points to."""
    response = client.get(path, headers=headers or {})
    if response.status_code != 302:
        return Answer(response.status_code, response.headers, response.get_data())
    # the browser may reuse the redirect for half the link's life
    assert response.cache_control.private and response.cache_control.max_age == 1800
    answer = requests.get(response.headers["Location"], headers=headers or {}, allow_redirects=False, timeout=10)
    return Answer(answer.status_code, answer.headers, answer.content)


def test_response_serves_ranges_and_revalidates(storage):
    data = pattern(300_000)
    storage.put_bytes("videos/8/clip.mp4", data, "video/mp4")
    client = serving_app(storage).test_client()

    whole = fetch(client, "/media/videos/8/clip.mp4")
    assert (whole.status, whole.body, whole.headers["Content-Type"]) == (200, data, "video/mp4")
    assert "private" in whole.headers["Cache-Control"]

    part = fetch(client, "/media/videos/8/clip.mp4", {"Range": "bytes=1000-1999"})
    assert (part.status, part.body) == (206, data[1000:2000])
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"

    again = fetch(client, "/media/videos/8/clip.mp4", {"If-None-Match": whole.headers["ETag"]})
    assert (again.status, again.body) == (304, b"")

    download = fetch(client, "/media/videos/8/clip.mp4?name=Trail%20Mug%20%E2%80%93%20showcase.mp4")
    assert download.body == data
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.endswith("filename*=UTF-8''Trail%20Mug%20%E2%80%93%20showcase.mp4")
    assert fetch(client, "/media/videos/8/missing.mp4").status == 404
    assert fetch(client, "/media/../../etc/passwd").status == 404


def test_a_presigned_link_reaches_one_object_and_expires(seaweedfs):
    storage = S3Storage(seaweedfs.bucket, "links", seaweedfs.client, presign_expires_s=3)
    storage.put_bytes("videos/1/mine.mp4", b"workspace one")
    storage.put_bytes("videos/2/theirs.mp4", b"workspace two")
    url = storage.presigned_url("videos/1/mine.mp4")
    assert url.startswith(f"{storage.origin}/")
    assert requests.get(url, timeout=10).content == b"workspace one"
    # the key is signed: the same link to another workspace's object is refused
    tampered = url.replace("videos/1/mine.mp4", "videos/2/theirs.mp4")
    assert tampered != url and requests.get(tampered, timeout=10).status_code == 403
    redirect = serving_app(storage).test_client().get("/media/videos/1/mine.mp4")
    assert redirect.status_code == 302
    time.sleep(4.5)
    assert requests.get(url, timeout=10).status_code == 403
    assert requests.get(redirect.headers["Location"], timeout=10).status_code == 403


def test_the_filesystem_has_no_presigned_links(tmp_path):
    storage = FileStorage(tmp_path)
    storage.put_bytes("products/1/a.jpg", b"x")
    assert storage.presigned_url("products/1/a.jpg") is None and storage.origin is None


# ------------------------------------------------------------- settings ----


def test_storage_for_follows_the_settings(tmp_path, seaweedfs):
    local = storage_for({"MEDIA_DIR": tmp_path / "media", "STORAGE_URL": ""})
    assert isinstance(local, FileStorage) and local.root == (tmp_path / "media").resolve()
    remote = storage_for({"MEDIA_DIR": tmp_path / "unused", **seaweedfs.app_config("settings/media"),
                          "S3_PRESIGN_EXPIRES_S": 60})
    assert isinstance(remote, S3Storage) and (remote.bucket, remote.prefix) == (seaweedfs.bucket, "settings/media")
    assert remote.origin == seaweedfs.endpoint_url  # path-style: the endpoint, not a bucket subdomain
    assert remote.presign_expires_s == 60
    remote.put_bytes("products/1/a.jpg", b"through the settings")  # credentials from the AWS variables
    assert object_names(remote.client, seaweedfs.bucket, "settings/") == ["settings/media/products/1/a.jpg"]


@pytest.mark.parametrize("url", ["http://bucket/x", "s3://", "s3://UPPER/x", "s3://b/x", "s3://bucket/../x",
                                 "s3://bucket/a//b", "s3://bucket/x?versionId=1", "file:///tmp/media"])
def test_a_wrong_storage_url_is_refused_with_a_message(url, tmp_path):
    with pytest.raises(ValueError, match="STORAGE_URL"):
        storage_for({"MEDIA_DIR": tmp_path, "STORAGE_URL": url})


def test_one_storage_per_app(tmp_path):
    app = Flask(__name__)
    app.config.update(MEDIA_DIR=tmp_path / "media", STORAGE_URL="")
    with app.app_context():
        assert current_storage() is current_storage()
        assert current_storage().root == (tmp_path / "media").resolve()


# ------------------------------------------------------------ downloads ----


def serve_bytes(files_server, path: str, data: bytes, content_type: str = "video/mp4", **options) -> str:
    return files_server(path, Served(content_type, lambda: chunked(data, 64 * 1024), len(data), **options))


def mirror_key(head: bytes) -> str:
    """How the mirror names a result: by what its first bytes are."""
    return f"videos/9/3-abc{probe(head).suffix}"


@pytest.mark.parametrize("faststart", [False, True], ids=["moov-at-the-end", "faststart"])
def test_a_download_is_stored_as_it_arrives_and_can_be_probed(storage, files_server, tmp_path, faststart):
    clip = make_clip(tmp_path / "result.mp4", seconds=2.0, faststart=faststart, size="640x360").read_bytes()
    url = serve_bytes(files_server, "/result", clip, "application/octet-stream")
    with open_stream(url, max_bytes=10 * MB, allowed_types=("video/", "application/octet-stream"),
                     allow_private=True) as stream:
        stored = store_download(storage, stream, mirror_key)
    assert (stored.key, stored.size, stored.url) == ("videos/9/3-abc.mp4", len(clip), url)
    assert stored.head == clip[:HEAD_BYTES]
    with storage.open(stored.key) as reader:
        assert reader.read() == clip
    info = probe(stored.movie_boxes)
    assert (info.suffix, info.duration, info.width, info.height) == (".mp4", 2.0, 640, 360)
    answer = fetch(serving_app(storage).test_client(), f"/media/{stored.key}")
    assert answer.headers["Content-Type"] == "video/mp4"  # from the suffix, not the server's octet-stream


def test_a_download_refused_by_its_first_bytes_stores_nothing(storage, files_server):
    url = serve_bytes(files_server, "/page", b"<html>" + b"x" * 200_000, "application/octet-stream")
    with open_stream(url, max_bytes=MB, allowed_types=("application/",), allow_private=True) as stream, \
            pytest.raises(MirrorError, match="not a video"):
        store_download(storage, stream, mirror_key)
    assert stored_keys(storage) == [] and unfinished_uploads(storage) == []


def test_a_download_over_its_limit_stores_nothing(storage, files_server):
    # no Content-Length: the limit is found out while the body streams, past the first part
    data = pattern(PART_SIZE + 2 * MB)
    url = files_server("/big", Served("video/mp4", lambda: chunked(data, 64 * 1024)))
    with open_stream(url, max_bytes=PART_SIZE + MB, allowed_types=("video/",), allow_private=True) as stream, \
            pytest.raises(FetchError, match="larger than"):
        store_download(storage, stream, "videos/9/big.mp4")
    assert stored_keys(storage) == [] and unfinished_uploads(storage) == []


def test_a_download_that_breaks_off_stores_nothing(storage, files_server):
    data = pattern(PART_SIZE + 3 * MB)
    url = serve_bytes(files_server, "/cut", data, break_after=PART_SIZE + MB)
    with open_stream(url, max_bytes=100 * MB, allowed_types=("video/",), allow_private=True) as stream, \
            pytest.raises(FetchError) as broken:
        store_download(storage, stream, "videos/9/cut.mp4")
    assert broken.value.retryable
    assert stored_keys(storage) == [] and unfinished_uploads(storage) == []


def test_movie_boxes_are_found_whatever_the_chunking(tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", seconds=1.0).read_bytes()
    whole = MovieBoxes()
    whole.feed(clip)
    bytewise = MovieBoxes()
    for index in range(len(clip)):
        bytewise.feed(clip[index:index + 1])
    assert whole.result() == bytewise.result() is not None
    assert whole.result()[4:8] == b"ftyp" and probe(whole.result()).duration == 1.0


def test_movie_boxes_read_64_bit_sizes_and_refuse_other_formats():
    ftyp = struct.pack(">I4s", 16, b"ftyp") + b"isom\0\0\0\1"
    mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + 100_000) + b"\0" * 100_000  # a 64-bit size
    moov = struct.pack(">I4s", 8 + 12, b"moov") + struct.pack(">I4s", 12, b"free") + b"abcd"
    boxes = MovieBoxes()
    for piece in chunked(ftyp + mdat + moov, 7_001):
        boxes.feed(piece)
    assert boxes.result() == ftyp + moov

    webm = MovieBoxes()
    webm.feed(b"\x1a\x45\xdf\xa3" + os.urandom(5000))
    assert webm.result() is None and webm.failed
    truncated = MovieBoxes()
    truncated.feed((ftyp + mdat + moov)[:-3])
    assert truncated.result() is None


# ------------------------------------------------------------ 1 GB, streamed ----

GIGABYTE = 1024 * MB


def gigabyte_blocks() -> Iterator[bytes]:
    payload = hashlib.sha256(b"reelboard").digest() * 2048
    for index in range(GIGABYTE // len(payload)):
        yield struct.pack(">Q", index) + payload[8:]


@pytest.mark.slow
def test_a_gigabyte_download_is_stored_with_little_memory(storage, files_server):
    expected = hashlib.sha256()
    for block in gigabyte_blocks():
        expected.update(block)
    url = files_server("/huge.mp4", Served("video/mp4", gigabyte_blocks, GIGABYTE))
    with PeakMemory() as memory, open_stream(url, max_bytes=2 * GIGABYTE, allowed_types=("video/",),
                                             allow_private=True) as stream:
        stored = store_download(storage, stream, "videos/10/huge.mp4")
    assert stored.size == GIGABYTE == storage.size("videos/10/huge.mp4")
    assert memory.growth < 64 * MB, f"memory grew by {memory.growth / MB:.0f} MB"
    actual = hashlib.sha256()
    with storage.open("videos/10/huge.mp4") as reader:
        while chunk := reader.read(MB):
            actual.update(chunk)
    assert actual.hexdigest() == expected.hexdigest()
    storage.delete("videos/10/huge.mp4")
    assert unfinished_uploads(storage) == []


def test_s3_errors_say_what_failed(seaweedfs, monkeypatch):
    missing_bucket = S3Storage("no-such-bucket-here", "x", seaweedfs.client)
    with pytest.raises(StorageError, match="no-such-bucket-here"):
        missing_bucket.put_bytes("products/1/a.jpg", b"x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    wrong_secret = S3Storage(seaweedfs.bucket, "x", s3_client(seaweedfs.endpoint_url, "us-east-1"))
    with pytest.raises(StorageError, match="refused"):
        wrong_secret.put_bytes("products/1/a.jpg", b"x")
    with pytest.raises(StorageError):
        wrong_secret.exists("products/1/a.jpg")
