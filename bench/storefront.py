"""Storefront benchmark: `GET /storefront/v1/products/<key>/video` served by gunicorn on
loopback, 1,000 requests/s offered for 30 s by load generators in other processes (asyncio,
keep-alive connections, an open-loop schedule: latency counts from when a request was due, so a
slow server cannot hide behind a waiting client). Half the requests repeat the ETag a browser
holds (304), half ask afresh (200), with the Origin of an allowed store, over 1,000 products.

    python -m bench.storefront [--markdown BENCHMARKS.md] [--rate 1000] [--seconds 30]

Reports the rate achieved, p50/p95/p99 latency, errors, and the CPU of the server's processes
(and of the load generators, which share the machine), against a bare Flask endpoint served and
loaded the same way in the same run. SQLite, as `make run` serves it; nothing of the render
queue is touched: the endpoint only reads.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psutil
from flask import Flask, Response, request
from sqlalchemy import insert

from bench.report import percentile, write_section
from webapp import create_app
from webapp.catalog import storefront
from webapp.extensions import db
from webapp.generation.templates import ensure_templates
from webapp.models import Membership, Product, User, Video, Workspace, utcnow

ROOT = Path(__file__).resolve().parents[1]
STORE = "https://shop.example.com"
GENERATORS = 2  # load-generating processes
CONNECTIONS = 16  # keep-alive connections per generator
WORKERS = 2  # gunicorn processes (one per core)
THREADS = 4  # gthread threads per gunicorn process: keep-alive connections wait in its poller
PRODUCTS = 1000


def generate(database: Path, media: Path) -> dict:
    """A workspace with PRODUCTS products, each with a completed video (poster, captions)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "MEDIA_DIR": media, "SECRET_KEY": "bench",
                      "EMBEDDED_WORKER": False, "PUBLIC_BASE_URL": "https://videos.example.com"})
    with app.app_context():
        db.create_all()
        ensure_templates()
        user = User(email="bench@example.com")
        user.set_password("bench-password")
        workspace = Workspace(name="Bench", plan="executive")
        db.session.add_all([user, workspace, Membership(user=user, workspace=workspace, role="owner")])
        db.session.commit()
        now = utcnow()
        db.session.execute(insert(Product), [
            {"workspace_id": workspace.id, "external_key": f"product-{i}", "title": f"Product {i}", "sku": f"S{i}",
             "description": "", "vendor": "", "marketplace": "", "created_at": now, "updated_at": now}
            for i in range(PRODUCTS)])
        db.session.execute(insert(Video), [
            {"workspace_id": workspace.id, "user_id": user.id, "product_id": i + 1, "template_key": "product_showcase",
             "title": f"Product {i}", "custom_instructions": "", "options": {}, "status": "completed", "progress": 100,
             "progress_message": "Done", "provider": "local", "quota_period": now.strftime("%Y-%m"),
             "quota_refunded": False, "attempts": 1, "poll_interval_s": 2.0, "video_path": f"videos/1/{i}.mp4",
             "thumbnail_path": f"videos/1/{i}.jpg", "captions_path": f"videos/1/{i}.vtt", "width": 1080,
             "height": 1920, "duration_s": 12.0, "created_at": now, "updated_at": now, "completed_at": now}
            for i in range(PRODUCTS)])
        db.session.commit()
        key = storefront.set_allowed_origins(workspace, [STORE]).key
        db.engine.dispose()
    return {"key": key, "handles": [f"product-{i}" for i in range(PRODUCTS)]}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _request(path: str, etag: str | None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", f"Origin: {STORE}", "Accept: application/json"]
    if etag:
        lines.append(f"If-None-Match: {etag}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, dict]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    status = int(status_line.split()[1])
    length = int(headers.get("content-length", "0"))
    if status not in (204, 304) and length:
        await reader.readexactly(length)
    return status, headers


async def _generate_load(port: int, key: str, handles: list[str], etags: dict[str, str], rate: float, start: float,
                         seconds: float, seed: int) -> dict:
    rng = random.Random(seed)
    idle: asyncio.Queue = asyncio.Queue()
    for _ in range(CONNECTIONS):
        idle.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: list[str] = []
    tasks = []

    async def one(due: float, handle: str, conditional: bool) -> None:
        connection = await idle.get()
        try:
            path = f"/storefront/v1/products/{handle}/video?key={key}"
            status, headers = await _exchange(*connection, _request(path, etags[handle] if conditional else None))
            latencies.append(time.time() - due)
            statuses[status] += 1
            if status not in (200, 304) or headers.get("access-control-allow-origin") != STORE:
                errors.append(f"{status} {headers.get('access-control-allow-origin')}")
            if headers.get("connection", "").lower() == "close":  # a server without keep-alive
                connection[1].close()
                connection = await asyncio.open_connection("127.0.0.1", port)
            idle.put_nowait(connection)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            errors.append(type(error).__name__)
            connection[1].close()
            idle.put_nowait(await asyncio.open_connection("127.0.0.1", port))

    interval = 1.0 / rate
    count = int(rate * seconds)
    for index in range(count):
        due = start + index * interval
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, rng.choice(handles), rng.random() < 0.5)))
    await asyncio.gather(*tasks)
    return {"latencies": latencies, "statuses": dict(statuses), "errors": errors}


def _generator(port: int, key: str, handles: list[str], etags: dict[str, str], rate: float, start: float,
               seconds: float, seed: int, results) -> None:
    process = psutil.Process()
    cpu_before = sum(process.cpu_times()[:2])
    outcome = asyncio.run(_generate_load(port, key, handles, etags, rate, start, seconds, seed))
    outcome["cpu_s"] = sum(process.cpu_times()[:2]) - cpu_before
    results.put(outcome)


def _etags(port: int, key: str, handles: list[str]) -> dict[str, str]:
    """What a shopper's browser holds after a first visit: each answer's ETag."""
    async def collect() -> dict[str, str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        found = {}
        for handle in handles:
            status, headers = await _exchange(reader, writer, _request(f"/storefront/v1/products/{handle}/video?key={key}",
                                                                       None))
            assert status == 200, status
            found[handle] = headers["etag"]
        writer.close()
        return found

    return asyncio.run(collect())


def _tree_cpu(process: psutil.Process) -> float:
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


@dataclass
class Served:
    """One server under the offered load."""

    label: str
    latencies: list[float]  # ms
    statuses: Counter
    errors: int
    wall_s: float
    server_cpu_s: float
    generator_cpu_s: float

    @property
    def achieved(self) -> float:
        return len(self.latencies) / self.wall_s

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_s / len(self.latencies) * 1000

    def row(self) -> str:
        answered = ", ".join(f"{status}: {count:,}" for status, count in sorted(self.statuses.items()))
        p = [percentile(self.latencies, q) for q in (0.5, 0.95, 0.99)]
        return (f"| {self.label} | {len(self.latencies):,} ({answered}) | {self.achieved:,.0f} /s | {p[0]:.1f} | {p[1]:.1f} "
                f"| {p[2]:.1f} | {self.errors} | {self.server_cpu_s / self.wall_s:.2f} | {self.cpu_ms_per_request:.2f} |")


def serve_and_load(label: str, target: str, env: dict, data: dict, rate: float, seconds: float) -> Served:
    """Starts gunicorn with ``target``, offers the load, and measures it and the server's CPU."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-k", "gthread", "--threads", str(THREADS),
         "--keep-alive", "30", "-b", f"127.0.0.1:{port}", target],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        etags = _etags(port, data["key"], data["handles"])  # also warms the workers up
        master = psutil.Process(server.pid)
        results: multiprocessing.Queue = multiprocessing.Queue()
        start = time.time() + 1.0
        generators = [
            multiprocessing.Process(target=_generator, args=(port, data["key"], data["handles"], etags,
                                                             rate / GENERATORS, start, seconds, seed, results))
            for seed in range(GENERATORS)
        ]
        for generator in generators:
            generator.start()
        time.sleep(max(0.0, start - time.time()))
        cpu_before, wall_before = _tree_cpu(master), time.time()
        outcomes = [results.get() for _ in generators]
        wall = time.time() - wall_before
        server_cpu = _tree_cpu(master) - cpu_before
        for generator in generators:
            generator.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    statuses: Counter = Counter()
    for outcome in outcomes:
        statuses.update(outcome["statuses"])
    return Served(
        label, [value * 1000 for outcome in outcomes for value in outcome["latencies"]], statuses,
        sum(len(outcome["errors"]) for outcome in outcomes), wall, server_cpu,
        sum(outcome["cpu_s"] for outcome in outcomes),
    )


def baseline_app() -> Flask:
    """The floor for the same load: a bare Flask endpoint on the same route that answers a fixed
    JSON of the same size with the same ETag/304, CORS and caching headers — and nothing else
    (no database, no app). gunicorn serves it as ``bench.storefront:baseline_app()``."""
    app = Flask("baseline")
    url = "https://videos.example.com/storefront/v1/media/1.video." + "x" * 22
    body = json.dumps({"videoUrl": url, "posterUrl": url, "captionsUrl": url, "width": 1080, "height": 1920,
                       "title": "Product 1", "updatedAt": "2026-01-01T00:00:00.000Z"}, separators=(",", ":"))
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    headers = {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=60", "Vary": "Origin"}

    @app.get("/storefront/v1/products/<path:handle>/video")
    def video(handle: str):
        cors = {"Access-Control-Allow-Origin": STORE} if request.headers.get("Origin") == STORE else {}
        if request.if_none_match.contains(etag):
            return Response(status=304, headers={**headers, **cors})
        return Response(body, mimetype="application/json", headers={**headers, **cors})

    return app


def run(markdown: str | None = None, rate: float = 1000, seconds: float = 30) -> str:
    with tempfile.TemporaryDirectory() as folder:
        database, media = Path(folder) / "bench.db", Path(folder) / "media"
        data = generate(database, media)
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "MEDIA_DIR": str(media), "SECRET_KEY": "bench",
               "EMBEDDED_WORKER": "0", "LOG_LEVEL": "WARNING", "INSTANCE_DIR": str(Path(folder) / "instance"),
               "PUBLIC_BASE_URL": "https://videos.example.com"}
        served = [
            serve_and_load("bare Flask endpoint (baseline)", "bench.storefront:baseline_app()", env, data, rate, seconds),
            serve_and_load("storefront endpoint", "wsgi:app", env, data, rate, seconds),
        ]
    baseline, storefront_run = served
    p99 = percentile(storefront_run.latencies, 0.99)
    held = storefront_run.achieved >= 0.98 * rate and storefront_run.errors == 0
    lines = [
        f"## Storefront: {rate:,.0f} requests/s offered for {seconds:.0f} s",
        "",
        (f"`GET /storefront/v1/products/<key>/video` from `gunicorn -w {WORKERS} -k gthread --threads {THREADS}` "
         f"(SQLite, {PRODUCTS:,} products with a video, picked at random) on loopback, {os.cpu_count()} cores. "
         f"{GENERATORS} load generators in their own processes, {CONNECTIONS} keep-alive connections each, send on a "
         "fixed schedule; latency counts from when each request was due, so a slow server cannot hide behind a waiting "
         "client. Half the requests carry the ETag of an earlier answer (304), half do not (200), all with the Origin "
         "of an allowed store. The baseline is a bare Flask endpoint answering the same JSON and headers with no "
         "database, served and loaded the same way in the same run."),
        "",
        "| server | answered | rate | p50 ms | p95 ms | p99 ms | errors | server CPU (cores) | server CPU ms / request |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        baseline.row(),
        storefront_run.row(),
        "",
        (f"Server CPU per request ÷ baseline: {storefront_run.cpu_ms_per_request / baseline.cpu_ms_per_request:.2f}×. "
         f"Load generators' CPU: {storefront_run.generator_cpu_s / storefront_run.wall_s:.2f} cores. Errors are wrong "
         "statuses, a missing CORS header or a broken connection."),
        "",
        (f"Target: {rate:,.0f}/s held with no errors — **{'met' if held else 'missed'}** "
         f"({storefront_run.achieved:,.0f}/s, p99 {p99:.1f} ms)."),
    ]
    body = "\n".join(lines)
    if markdown:
        write_section(markdown, "storefront", body)
    return body


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown")
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=30)
    arguments = parser.parse_args()
    print(run(arguments.markdown, arguments.rate, arguments.seconds))
