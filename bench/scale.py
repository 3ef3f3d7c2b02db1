"""Scale-out benchmark: PostgreSQL, media in S3 (SeaweedFS), and 1, 2 and 4 `flask worker`
processes rendering with a stub of fixed cost. 2,000 videos from three workspaces: one queues a
bulk of 1,800, two small ones each create 100 single videos one at a time while the bulk runs.

Reports, per worker count: throughput, that every video was submitted, started and completed
exactly once, the worst wait (create → start) of the small workspaces' videos, and how many bulk
renders one of them waited behind on the render slot that took it.
Then the dispatch latency (create → start) of idle workers, woken by NOTIFY and by the 1 s tick
alone (QUEUE_NOTIFY=0).

    python -m bench.scale [--markdown BENCHMARKS.md] [--workers 1,2,4] [--render-s 0.5] [--slots 4]

Needs a PostgreSQL server (BENCH_DATABASE_URL or TEST_DATABASE_URL; a private database is made
there and dropped) and SeaweedFS's `weed` (requirements-dev.txt); skipped without them.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import psutil
from PIL import Image
from sqlalchemy import func, insert, select, text

from bench.claim import _private_postgres
from bench.report import percentile, write_section
from tests.storage_support import SeaweedUnavailable, start_seaweedfs, stored_keys
from webapp import create_app
from webapp.extensions import db
from webapp.generation import service
from webapp.generation.contract import BulkCreate, CreateVideo, parse
from webapp.generation.templates import ensure_templates
from webapp.models import (
    ImageStatus,
    Membership,
    Product,
    ProductImage,
    User,
    Video,
    VideoEvent,
    WorkerHeartbeat,
    Workspace,
    utcnow,
)
from webapp.providers.base import (
    BaseProvider,
    Capabilities,
    GenerationRequest,
    JobNotFound,
    ProviderResult,
    ProviderState,
    ProviderStatus,
    Reporter,
    TemplateInfo,
)
from webapp.storage import StorageError, current_storage, storage_for

ROOT = Path(__file__).resolve().parents[1]
STUB = "bench.scale:FixedCostRenderer"
BULK, SMALL = 1800, 100  # the bulk workspace's videos; each small workspace's
STUB_VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64 * 1024)
LATENCY_SAMPLES = 20
DEFAULT_RENDER_S = 0.5


class FixedCostRenderer(BaseProvider):
    """A render stub in RENDER_SLOTS slots, like the local renderer: each job reads the first
    product image through the storage, waits BENCH_RENDER_S, and stores a video and a poster
    through ``local_output`` (uploaded to S3 and removed from the disk). Submits are logged to
    BENCH_SUBMIT_LOG, one line per submit, and renders to BENCH_RENDER_LOG: the video, the slot
    (process and thread) that ran it, and when it started and ended."""

    name = STUB
    label = "A render of fixed cost"
    capabilities = Capabilities(cancel=True, in_process=True)
    poll_interval = (1.0, 2.0)

    def __init__(self, config: Mapping[str, Any], reporter: Reporter | None = None) -> None:
        self.storage = storage_for(config)
        # set for the worker processes; the benchmark's own app builds one too, and never submits
        self.cost = float(os.environ.get("BENCH_RENDER_S", DEFAULT_RENDER_S))
        self.submit_log = os.environ.get("BENCH_SUBMIT_LOG", os.devnull)
        self.render_log = os.environ.get("BENCH_RENDER_LOG", os.devnull)
        self.slots = int(config["RENDER_SLOTS"])
        self.reporter = reporter
        self._jobs: dict[str, ProviderStatus] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="render")

    def templates(self) -> list[TemplateInfo]:
        return []

    def capacity(self) -> int:
        with self._lock:
            return self.slots - sum(1 for status in self._jobs.values() if not status.state.finished)

    def submit(self, request: GenerationRequest) -> str:
        _append_line(self.submit_log, str(request.video_id))
        job = f"stub-{request.video_id}-{uuid.uuid4().hex[:8]}"
        with self._lock:
            self._jobs[job] = ProviderStatus(ProviderState.RUNNING, 0, "Rendering")
        self._pool.submit(self._run, job, request)
        return job

    def _run(self, job: str, request: GenerationRequest) -> None:
        stem = f"videos/{request.workspace_id}/{request.video_id}-{job[-8:]}"
        began = time.time()
        try:
            with self.storage.local_copy(request.image_files[0]) as image, \
                    self.storage.local_output(f"{stem}.mp4") as video, self.storage.local_output(f"{stem}.jpg") as poster:
                time.sleep(self.cost)
                video.write_bytes(STUB_VIDEO)
                poster.write_bytes(image.read_bytes())
            status = ProviderStatus(ProviderState.SUCCEEDED, 100, "Rendered", ProviderResult(
                video_file=f"{stem}.mp4", thumbnail_file=f"{stem}.jpg", duration=8.0, width=1280, height=720,
                size_bytes=len(STUB_VIDEO)))
        except (OSError, StorageError) as error:
            status = ProviderStatus(ProviderState.FAILED, error=str(error))
        slot = f"{os.getpid()}/{threading.current_thread().name}"
        _append_line(self.render_log, f"{request.video_id} {slot} {began:.6f} {time.time():.6f}")
        with self._lock:
            self._jobs[job] = status
        if self.reporter is not None:
            self.reporter(job, status)

    def status(self, external_id: str) -> ProviderStatus:
        with self._lock:
            if external_id in self._jobs:
                return self._jobs[external_id]
        raise JobNotFound("Not rendering here.")

    def active_jobs(self) -> list[str]:
        with self._lock:
            return [job for job, status in self._jobs.items() if not status.state.finished]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


def _append_line(path: str, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, f"{line}\n".encode())  # one write: O_APPEND keeps lines whole between processes
    finally:
        os.close(fd)


@dataclass
class Stack:
    """The shared services of every run: a database server, an S3 server, a folder."""

    postgres_url: str
    seaweed: Any
    folder: Path


@dataclass
class Catalog:
    bulk: tuple[int, int]  # (workspace id, user id)
    small: list[tuple[int, int, list[int]]] = field(default_factory=list)  # (workspace, user, product ids)
    bulk_products: list[int] = field(default_factory=list)


def settings_for(stack: Stack, database_url: str, prefix: str, notify: bool) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "MEDIA_DIR": stack.folder / "media",
        "VIDEO_PROVIDER": STUB, "PLAN_LIMITS": {"junior": 30, "senior": 100, "executive": 10 * BULK},
        "QUEUE_NOTIFY": notify, "STORAGE_SCRATCH_DIR": str(stack.folder / "scratch" / "bench"),
        **stack.seaweed.app_config(prefix),
    }


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 120, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def make_catalog(app) -> Catalog:
    """Three workspaces with products whose one image each is stored in S3."""
    with app.app_context():
        db.drop_all()
        db.create_all()
        ensure_templates()
        storage = current_storage()
        catalog = None
        for name, count in (("Bulk Co", BULK), ("Small A", SMALL), ("Small B", SMALL)):
            user = User(email=f"{name.lower().replace(' ', '-')}@example.com", password_hash="-")
            workspace = Workspace(name=name, plan="executive")
            db.session.add_all([user, workspace, Membership(user=user, workspace=workspace, role="owner")])
            db.session.commit()
            image = f"products/{workspace.id}/photo.jpg"
            storage.put_bytes(image, photo())
            now = utcnow()
            db.session.execute(insert(Product), [
                {"workspace_id": workspace.id, "external_key": f"p{n}", "title": f"{name} product {n}", "sku": "",
                 "description": "A product.", "vendor": "", "marketplace": "", "created_at": now, "updated_at": now}
                for n in range(count)])
            products = list(db.session.scalars(select(Product.id).where(Product.workspace_id == workspace.id)))
            db.session.execute(insert(ProductImage), [
                {"product_id": product, "position": 0, "file_path": image, "status": ImageStatus.OK.value,
                 "created_at": now} for product in products])
            db.session.commit()
            if catalog is None:
                catalog = Catalog((workspace.id, user.id), bulk_products=products)
            else:
                catalog.small.append((workspace.id, user.id, products))
        db.session.remove()
        return catalog


CLAIM_LOG = """
CREATE TABLE bench_claims (video_id integer PRIMARY KEY, claimed_at timestamp NOT NULL, leased_at timestamp NOT NULL);
CREATE FUNCTION bench_log_claim() RETURNS trigger AS $$
BEGIN
    -- in UTC like utcnow(): when the claim statement started (its snapshot saw what was
    -- committed by then) and when it leased this row
    INSERT INTO bench_claims VALUES (NEW.id, statement_timestamp() AT TIME ZONE 'UTC',
                                     clock_timestamp() AT TIME ZONE 'UTC') ON CONFLICT DO NOTHING;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER bench_claim AFTER UPDATE OF lease_owner ON videos FOR EACH ROW
    WHEN (NEW.status = 'pending' AND NEW.lease_owner IS NOT NULL
          AND NEW.lease_owner IS DISTINCT FROM OLD.lease_owner)
    EXECUTE FUNCTION bench_log_claim();
"""


def record_claims(app) -> None:
    """Logs when each video was first claimed (leased while pending): the benchmark's own
    trigger in its private database, so the workers run unchanged."""
    with app.app_context():
        db.session.execute(text(CLAIM_LOG))
        db.session.commit()
        db.session.remove()


def start_workers(stack: Stack, database_url: str, prefix: str, count: int, slots: int, render_s: float,
                  notify: bool, run: str) -> list[subprocess.Popen]:
    env = {
        **os.environ, **stack.seaweed.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench",
        "STORAGE_URL": f"s3://{stack.seaweed.bucket}/{prefix}", "S3_ENDPOINT_URL": stack.seaweed.endpoint_url,
        "MEDIA_DIR": str(stack.folder / "media"), "INSTANCE_DIR": str(stack.folder / "instance"),
        "VIDEO_PROVIDER": STUB, "RENDER_SLOTS": str(slots), "BENCH_RENDER_S": str(render_s),
        "BENCH_SUBMIT_LOG": str(stack.folder / f"{run}.submits"), "BENCH_RENDER_LOG": str(stack.folder / f"{run}.renders"),
        "PLAN_LIMITS": f"executive={10 * BULK}",
        "QUEUE_NOTIFY": "1" if notify else "0", "EMBEDDED_WORKER": "0", "TEMPLATE_PREVIEWS": "0", "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    processes = []
    for number in range(count):
        env["STORAGE_SCRATCH_DIR"] = str(stack.folder / "scratch" / f"{run}-{number}")
        log = open(stack.folder / f"{run}-worker{number}.log", "wb")  # noqa: SIM115 - closed with the process
        processes.append(subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT,
                                          env=dict(env), stdout=log, stderr=log))
    return processes


def wait_for_heartbeats(app, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            beating = db.session.scalar(select(func.count()).select_from(WorkerHeartbeat))
            db.session.rollback()
            if beating >= count:
                return
            time.sleep(0.2)
    raise RuntimeError(f"{count} workers did not start within {timeout} s")


def stop_workers(processes: list[subprocess.Popen]) -> float:
    """SIGTERM, wait; returns the CPU seconds the processes (and their children) used."""
    cpu = 0.0
    for process in processes:
        try:
            times = psutil.Process(process.pid).cpu_times()
            cpu += times.user + times.system + times.children_user + times.children_system
        except psutil.NoSuchProcess:
            pass
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=120)
    return cpu


def create_single(app, workspace_id: int, user_id: int, product_id: int) -> tuple[int, datetime]:
    """A single video, as the API creates one; its id, and when it was committed (from then on
    the workers can see it: its wait counts from there)."""
    with app.app_context():
        workspace, user = db.session.get(Workspace, workspace_id), db.session.get(User, user_id)
        video, _ = service.create_video(workspace, user, parse(CreateVideo, {"product_id": product_id,
                                                                              "template": "unboxing"}))
        committed = utcnow()
        video_id = video.id
        db.session.remove()
    return video_id, committed


class CpuMeter:
    """CPU seconds used meanwhile by PostgreSQL's processes, SeaweedFS and this process, and how
    busy the whole machine was (other tenants included)."""

    def __init__(self, weed_pid: int) -> None:
        self.weed_pid = weed_pid

    def _read(self) -> dict[str, float]:
        totals = {"postgres": 0.0, "seaweedfs": 0.0}
        for process in psutil.process_iter(["name", "cpu_times"]):
            times = process.info["cpu_times"]
            if times is None:
                continue
            if process.info["name"] == "postgres":
                totals["postgres"] += times.user + times.system
            elif process.pid == self.weed_pid:
                totals["seaweedfs"] += times.user + times.system
        me = psutil.Process().cpu_times()
        totals["benchmark"] = me.user + me.system
        machine = psutil.cpu_times()
        totals["machine_busy"] = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        totals["machine_all"] = sum(machine)
        return totals

    def __enter__(self) -> Self:
        self.before = self._read()
        return self

    def __exit__(self, *exc_info) -> None:
        after = self._read()
        self.used = {name: after[name] - self.before[name] for name in after}
        self.busy = self.used["machine_busy"] / self.used["machine_all"] if self.used["machine_all"] else 0.0


def throughput_run(stack: Stack, workers: int, slots: int, render_s: float) -> dict[str, Any]:
    database_url, drop = _private_postgres(stack.postgres_url)
    prefix = f"scale-{workers}-{uuid.uuid4().hex[:8]}"
    run = f"run{workers}"
    app = create_app(settings_for(stack, database_url, prefix, notify=True))
    try:
        catalog = make_catalog(app)
        record_claims(app)
        processes = start_workers(stack, database_url, prefix, workers, slots, render_s, True, run)
        try:
            wait_for_heartbeats(app, workers)
            total = BULK + SMALL * len(catalog.small)
            expected_s = total * render_s / (workers * slots)
            interval = max(1.2 * render_s, 0.6 * expected_s / SMALL)  # a small shop never queues behind itself
            committed: dict[int, datetime] = {}
            with CpuMeter(stack.seaweed.process.pid) as meter:
                started = utcnow()
                with app.app_context():
                    workspace_id, user_id = catalog.bulk
                    service.create_bulk(db.session.get(Workspace, workspace_id), db.session.get(User, user_id),
                                        parse(BulkCreate, {"product_ids": catalog.bulk_products, "template": "unboxing"}))
                    db.session.remove()

                def feed() -> None:
                    for n in range(SMALL):
                        for workspace_id, user_id, products in catalog.small:
                            video_id, at = create_single(app, workspace_id, user_id, products[n])
                            committed[video_id] = at
                        time.sleep(interval)

                feeder = threading.Thread(target=feed)
                feeder.start()
                deadline = time.monotonic() + 60 + 10 * expected_s
                with app.app_context():
                    while time.monotonic() < deadline:
                        done = db.session.scalar(select(func.count(Video.id)).where(Video.status == "completed"))
                        db.session.rollback()
                        if done == total:
                            break
                        time.sleep(0.2)
                feeder.join()
        finally:
            worker_cpu = stop_workers(processes)
        return {**measure(app, catalog, committed, stack.folder / run, started), "workers": workers,
                "cpu": {**meter.used, "workers": worker_cpu}, "machine_busy": meter.busy,
                "left_on_disks": files_under(stack.folder / "scratch"), "media_dir_files": files_under(stack.folder / "media")}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()


def files_under(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file()) if folder.exists() else 0


def renders_waited_behind(renders_log: Path, bulk_videos: set[int], committed: Mapping[int, datetime]
                          ) -> list[int]:
    """For each small shop's video: how many bulk renders ran on the render slot that then took
    it, having started after it was committed. One is the render it had to wait for (the slot's
    current render, or one a claim already running at its commit gave the slot); more would mean
    the bulk went ahead of it."""
    slots: dict[str, list[tuple[float, int]]] = {}
    ran_on: dict[int, tuple[str, float]] = {}
    for line in renders_log.read_text().splitlines() if renders_log.exists() else ():
        video, slot, began, _ = line.split()
        slots.setdefault(slot, []).append((float(began), int(video)))
        ran_on[int(video)] = (slot, float(began))
    behind = []
    for video, at in committed.items():
        if video not in ran_on:
            continue
        slot, began = ran_on[video]
        since = at.replace(tzinfo=UTC).timestamp()
        behind.append(sum(1 for start, other in slots[slot] if other in bulk_videos and since < start < began))
    return behind


def measure(app, catalog: Catalog, committed: Mapping[int, datetime], logs: Path, started: datetime
            ) -> dict[str, Any]:
    with app.app_context():
        videos = db.session.execute(
            select(Video.id, Video.workspace_id, Video.status, Video.started_at,
                   Video.completed_at)).all()
        started_events = Counter(db.session.scalars(select(VideoEvent.video_id).where(VideoEvent.to_status == "generating")))
        completed_events = Counter(db.session.scalars(select(VideoEvent.video_id).where(VideoEvent.to_status == "completed")))
        claims = {video: (claimed, leased) for video, claimed, leased
                  in db.session.execute(text("SELECT video_id, claimed_at, leased_at FROM bench_claims"))}
        objects = len(stored_keys(current_storage()))
        db.session.remove()
    submit_log = logs.with_suffix(".submits")
    submits = Counter(int(line) for line in submit_log.read_text().split()) if submit_log.exists() else Counter()
    small = [v for v in videos if v.id in committed and v.started_at is not None]
    small_waits = [(v.started_at - committed[v.id]).total_seconds() for v in small]
    # Ahead of a small shop's video: bulk videos claimed by a claim that saw it waiting (it started
    # after its commit) and was done with them before its own claim began. A claim already
    # running at its commit did not see it; one running beside its own may have found it locked.
    bulk = {v.id for v in videos if v.workspace_id == catalog.bulk[0]}
    bulk_claims = [claims[video] for video in bulk if video in claims]
    overtaken = [sum(1 for claimed, leased in bulk_claims if committed[v.id] < claimed and leased < claims[v.id][0])
                 for v in small]
    behind = renders_waited_behind(logs.with_suffix(".renders"), bulk, committed)
    completed = [v for v in videos if v.status == "completed"]
    last = max((v.completed_at for v in completed), default=started)
    elapsed = (last - started).total_seconds()
    return {
        "videos": len(videos), "completed": len(completed), "seconds": elapsed,
        "per_s": len(completed) / elapsed if elapsed else 0.0,
        "submitted_twice": sum(1 for count in submits.values() if count > 1),
        "started_twice": sum(1 for count in started_events.values() if count > 1),
        "completed_twice": sum(1 for count in completed_events.values() if count > 1),
        "small_worst_s": max(small_waits, default=float("nan")),
        "small_p95_s": percentile(small_waits, 0.95) if small_waits else float("nan"),
        "small_median_s": statistics.median(small_waits) if small_waits else float("nan"),
        "small_videos": len(small_waits), "objects": objects, "overtaken_max": max(overtaken, default=0),
        "behind_max": max(behind, default=0), "behind_measured": len(behind),
    }


def latency_run(stack: Stack, notify: bool, slots: int, render_s: float) -> list[float]:
    """Two idle workers; one video created at a time, at a random moment of the tick."""
    database_url, drop = _private_postgres(stack.postgres_url)
    prefix = f"latency-{uuid.uuid4().hex[:8]}"
    run = f"latency-{'notify' if notify else 'tick'}"
    app = create_app(settings_for(stack, database_url, prefix, notify=notify))
    rng = random.Random(5)
    latencies = []
    try:
        catalog = make_catalog(app)
        processes = start_workers(stack, database_url, prefix, 2, slots, render_s, notify, run)
        try:
            wait_for_heartbeats(app, 2)
            time.sleep(2)  # the listeners connect after the first beat
            workspace_id, user_id, products = catalog.small[0]
            for n in range(LATENCY_SAMPLES):
                time.sleep(rng.uniform(0, 1))
                video_id, committed = create_single(app, workspace_id, user_id, products[n])
                with app.app_context():
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline:
                        video = db.session.get(Video, video_id)
                        if video.started_at is not None:
                            latencies.append((video.started_at - committed).total_seconds())
                            break
                        db.session.rollback()
                        time.sleep(0.01)
                    db.session.remove()
                time.sleep(render_s + 0.2)  # idle again
        finally:
            stop_workers(processes)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()
    return latencies


def report(runs: list[dict[str, Any]], latency: dict[str, list[float]], slots: int, render_s: float) -> str:
    base = runs[0]
    lines = [
        f"## Scale-out: PostgreSQL + S3 (SeaweedFS) + 1–{runs[-1]['workers']} `flask worker` processes",
        "",
        (f"Each worker is a real `flask worker` process with {slots} render slots; a render is a stub of fixed cost "
         f"({render_s:g} s: it reads the product image from S3, waits, and uploads a video and a poster through "
         f"`local_output`). {BULK + 2 * SMALL:,} videos: workspace *Bulk Co* queues one bulk of {BULK:,}; two small "
         f"workspaces create {SMALL} single videos each, one at a time, while the bulk runs. One machine with "
         f"{os.cpu_count()} cores runs the workers, PostgreSQL, SeaweedFS and this script (and whatever else runs "
         "there: *machine busy* counts it all). A small shop's wait runs from its video's commit to its start."),
        "",
        ("| workers | slots | completed | seconds | videos / s | vs 1 worker | ideal videos / s | machine busy "
         "| CPU per video: workers / PostgreSQL / SeaweedFS | exactly once | small shops: worst wait "
         "| bulk videos claimed ahead of one (max) | bulk renders it waited behind on its slot (max) |"),
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for run in runs:
        once = not (run["submitted_twice"] or run["started_twice"] or run["completed_twice"]) and \
            run["completed"] == run["videos"]
        done = max(1, run["completed"])
        cpu = run["cpu"]
        worst = run["small_worst_s"]
        turn = run["workers"] * slots / run["per_s"]  # how long a slot takes per video, all included
        lines.append(
            f"| {run['workers']} | {run['workers'] * slots} | {run['completed']:,} | {run['seconds']:.0f} | "
            f"{run['per_s']:.1f} | {run['per_s'] / base['per_s']:.2f}× | {run['workers'] * slots / render_s:.0f} | "
            f"{100 * run['machine_busy']:.0f} % | {1000 * cpu['workers'] / done:.0f} / {1000 * cpu['postgres'] / done:.0f} / "
            f"{1000 * cpu['seaweedfs'] / done:.0f} ms | {'yes' if once else 'NO'} | "
            f"{worst:.2f} s ({worst / turn:.1f} slot turns of {turn:.2f} s; p95 {run['small_p95_s']:.2f} s, "
            f"median {run['small_median_s']:.2f} s) | "
            f"{run['overtaken_max']} | {run['behind_max']} |")
    fair = all(run["overtaken_max"] == 0 for run in runs)
    one_render = all(run["behind_max"] <= 1 and run["behind_measured"] == run["small_videos"] for run in runs)
    clean = all(run["media_dir_files"] == 0 and run["left_on_disks"] == 0 for run in runs)
    lines += [
        "",
        ("No claim that saw a small shop's video waiting took a bulk video instead of it (a trigger in the "
         "benchmark's database logs when each claim started and when it leased each row; a claim already "
         "running at its commit did not see it, and one running beside its own claim may have found it locked): "
         f"**{'yes' if fair else 'NO'}**. In first-come order they would have waited for the rest of the bulk."),
        ("Every small shop's video waited behind at most one bulk render: on the render slot that took it, no "
         "more than one bulk render started between its commit and its own start (the render it waited for, "
         f"which a slot turn bounds): **{'yes' if one_render else 'NO'}**. Its wait is that render's remaining "
         "time plus the hand-over, so the worst wait is about one slot turn; it exceeds the run's average turn "
         "when the slots' turns were slow at that moment (this machine is shared)."),
        (f"Every file in the bucket, none under MEDIA_DIR nor left in the workers' scratch folders: "
         f"**{'yes' if clean else 'NO'}** ({', '.join(format(run['objects'], ',') for run in runs)} objects)."),
        "",
        "| dispatch latency, idle workers (commit → start) | median | p95 | worst |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, label in (("notify", "NOTIFY / LISTEN"), ("tick", "the 1 s tick alone (QUEUE_NOTIFY=0)")):
        values = latency[name]
        lines.append(f"| {label} ({len(values)} videos) | {1000 * statistics.median(values):.0f} ms | "
                     f"{1000 * percentile(values, 0.95):.0f} ms | {1000 * max(values):.0f} ms |")
    return "\n".join(lines)


def run(markdown: str | None, workers: list[int], slots: int, render_s: float) -> str:
    postgres = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not postgres:
        return "bench.scale skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server."
    try:
        seaweed = start_seaweedfs()
    except SeaweedUnavailable as error:
        return f"bench.scale skipped: SeaweedFS could not be started: {error}"
    os.environ.update(seaweed.environ)  # its credentials, for this process's S3 client
    try:
        with tempfile.TemporaryDirectory() as folder:
            stack = Stack(postgres, seaweed, Path(folder))
            latency = {"notify": latency_run(stack, True, slots, render_s),
                       "tick": latency_run(stack, False, slots, render_s)}
            runs = []
            for count in workers:
                runs.append(throughput_run(stack, count, slots, render_s))
                print(runs[-1], flush=True)
    finally:
        seaweed.stop()
    body = report(runs, latency, slots, render_s)
    if markdown:
        write_section(markdown, "scale", body)
    return body


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts, comma-separated")
    parser.add_argument("--slots", type=int, default=4, help="render slots per worker")
    parser.add_argument("--render-s", type=float, default=DEFAULT_RENDER_S, help="the stub's cost of one render")
    arguments = parser.parse_args()
    print(run(arguments.markdown, [int(n) for n in arguments.workers.split(",")], arguments.slots, arguments.render_s))
