"""Claim benchmark: 4 `flask worker` processes, 1,000 queued videos, a stub provider that
finishes every job at once. Every video must be completed exactly once; reports videos/second.

    python -m bench.claim [--markdown BENCHMARKS.md] [--videos 1000] [--workers 4]

Runs on SQLite, and on PostgreSQL too when BENCH_DATABASE_URL or TEST_DATABASE_URL names a
server (a private database is created there and dropped afterwards).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, make_url, select, text

from bench.report import write_section
from webapp import create_app
from webapp.extensions import db
from webapp.generation import service
from webapp.generation.contract import BulkCreate
from webapp.generation.templates import ensure_templates
from webapp.models import (
    Membership,
    Product,
    ProductImage,
    User,
    Video,
    VideoEvent,
    Workspace,
    utcnow,
)
from webapp.providers.base import (
    GenerationRequest,
    ProviderResult,
    ProviderState,
    ProviderStatus,
    TemplateInfo,
)

ROOT = Path(__file__).resolve().parents[1]
STUB = "bench.claim:InstantProvider"


class InstantProvider:
    """A stub provider: each submit is logged to BENCH_SUBMIT_LOG and done at its first poll."""

    name = STUB
    poll_interval = (0.5, 1.0)

    def __init__(self, config: Mapping[str, Any], reporter=None) -> None:
        self.log = os.environ["BENCH_SUBMIT_LOG"]

    def templates(self) -> list[TemplateInfo]:
        return []

    def capacity(self) -> int:
        return 100

    def submit(self, request: GenerationRequest) -> str:
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, f"{request.video_id}\n".encode())  # one write: O_APPEND keeps lines whole
        finally:
            os.close(fd)
        return f"stub-{request.video_id}"

    def status(self, external_id: str) -> ProviderStatus:
        return ProviderStatus(ProviderState.SUCCEEDED, 100, "done", ProviderResult(video_file="bench/stub.mp4", duration=1.0))

    def cancel(self, external_id: str) -> None:
        pass

    def find_submitted(self, request: GenerationRequest) -> str | None:
        return None

    def parse_webhook(self, headers, body):
        raise NotImplementedError


def _private_postgres(url: str) -> tuple[str, Any]:
    server = make_url(url)
    name = f"reelboard_bench_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def run_once(database_url: str, folder: Path, videos: int, workers: int) -> dict:
    limits = f"junior=30,senior=100,executive={videos * 2}"
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url, "MEDIA_DIR": folder / "media", "SECRET_KEY": "bench",
        "VIDEO_PROVIDER": STUB, "PLAN_LIMITS": {"junior": 30, "senior": 100, "executive": videos * 2},
    }
    app = create_app(settings)
    with app.app_context():
        db.drop_all()
        db.create_all()
        ensure_templates()
        owner = User(email="bench@example.com", password_hash="-")
        workspace = Workspace(name="Bench", plan="executive")
        db.session.add_all([owner, workspace, Membership(user=owner, workspace=workspace, role="owner")])
        db.session.commit()
        now = utcnow()
        db.session.execute(insert(Product), [
            {"workspace_id": workspace.id, "external_key": f"p{i}", "title": f"P{i}", "sku": "", "description": "",
             "vendor": "", "marketplace": "", "created_at": now, "updated_at": now} for i in range(videos)])
        product_ids = list(db.session.scalars(select(Product.id)))
        db.session.execute(insert(ProductImage), [
            {"product_id": pid, "position": 0, "file_path": "bench/image.jpg", "status": "ok", "created_at": now}
            for pid in product_ids])
        db.session.commit()
        outcomes = service.create_bulk(workspace, owner, BulkCreate(product_ids=product_ids, template="unboxing"))
        assert sum(o.result == "queued" for o in outcomes) == videos

    submit_log = folder / "submits.log"
    env = {**os.environ, "DATABASE_URL": database_url, "VIDEO_PROVIDER": STUB, "PLAN_LIMITS": limits,
           "SECRET_KEY": "bench", "MEDIA_DIR": str(folder / "media"), "INSTANCE_DIR": str(folder / "instance"),
           "BENCH_SUBMIT_LOG": str(submit_log), "PYTHONPATH": str(ROOT), "EMBEDDED_WORKER": "0", "TEMPLATE_PREVIEWS": "0",
           "LOG_LEVEL": "WARNING"}
    processes = [
        subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=open(folder / f"worker{i}.log", "wb"))  # noqa: SIM115
        for i in range(workers)
    ]
    started = time.perf_counter()
    done = 0
    try:
        with app.app_context():
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                done = db.session.scalar(select(func.count(Video.id)).where(Video.status == "completed"))
                db.session.rollback()
                if done == videos:
                    break
                time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
    with app.app_context():
        started_events = Counter(db.session.scalars(
            select(VideoEvent.video_id).where(VideoEvent.to_status == "generating")))
        completed_events = Counter(db.session.scalars(
            select(VideoEvent.video_id).where(VideoEvent.to_status == "completed")))
        statuses = Counter(db.session.scalars(select(Video.status)))
        db.session.remove()
        db.engine.dispose()
    submits = Counter(int(line) for line in submit_log.read_text().split())
    return {
        "completed": done, "seconds": elapsed, "statuses": dict(statuses),
        "submitted_twice": sum(1 for c in submits.values() if c > 1),
        "started_twice": sum(1 for c in started_events.values() if c > 1),
        "completed_twice": sum(1 for c in completed_events.values() if c > 1),
        "submits": sum(submits.values()),
    }


def run(markdown: str | None = None, videos: int = 1000, workers: int = 4) -> str:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = run_once(f"sqlite:///{Path(folder) / 'claim.db'}", Path(folder) / "sqlite", videos, workers)
    postgres = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if postgres:
        url, drop = _private_postgres(postgres)
        try:
            with tempfile.TemporaryDirectory() as folder:
                results["PostgreSQL"] = run_once(url, Path(folder), videos, workers)
        finally:
            drop()
    lines = [
        f"## Claims: {workers} worker processes, {videos:,} queued videos, a stub provider",
        "",
        ("Each worker is a real `flask worker` process (dispatch every 1 s, sync every 2 s). The stub provider "
         "finishes a job at its first poll, so this measures the claim/lease machinery, not rendering."),
        "",
        "| database | completed | seconds | videos / s | submitted twice | started twice | completed twice |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['completed']:,} | {r['seconds']:.1f} | {r['completed'] / r['seconds']:.0f} | "
                     f"{r['submitted_twice']} | {r['started_twice']} | {r['completed_twice']} |")
    ok = all(r["completed"] == videos and not (r["submitted_twice"] or r["started_twice"] or r["completed_twice"])
             for r in results.values())
    lines += ["", f"Every video completed exactly once: **{'yes' if ok else 'NO'}**."]
    body = "\n".join(lines)
    if markdown:
        write_section(markdown, "claim", body)
    return body


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown")
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    arguments = parser.parse_args()
    print(run(arguments.markdown, arguments.videos, arguments.workers))
