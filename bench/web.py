"""Web benchmark: /videos (page and htmx fragment) and the status poll, with 100,000 videos and
10,000 products in one workspace on SQLite, against a bare Flask endpoint in the same run; then
/videos served by `gunicorn -w 2` while two renders saturate the cores (niced, as workers run
them, and not niced), against the same server idle.

    python -m bench.web [--markdown BENCHMARKS.md] [--videos 100000] [--products 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import requests
from flask import Flask
from sqlalchemy import event, insert

from bench.report import percentile, write_section
from webapp import create_app
from webapp.extensions import db
from webapp.generation.quota import current_period
from webapp.generation.templates import ensure_templates
from webapp.maintenance import refresh_query_statistics
from webapp.models import (
    Membership,
    Product,
    ProductImage,
    User,
    Video,
    Workspace,
    utcnow,
)
from webapp.video_templates import SEED_KEYS

PASSWORD = "bench-password"
STATUSES = ["completed"] * 8 + ["failed", "canceled"]


def generate(app: Flask, videos: int, products: int) -> dict:
    """The data set: one workspace, ``products`` products, ``videos`` videos, 20 in flight."""
    rng = random.Random(7)
    with app.app_context():
        db.create_all()
        ensure_templates()
        user = User(email="bench@example.com")
        user.set_password(PASSWORD)
        workspace = Workspace(name="Bench", plan="executive")
        db.session.add_all([user, workspace, Membership(user=user, workspace=workspace, role="owner")])
        db.session.commit()
        now = utcnow()
        db.session.execute(
            insert(Product),
            [{"workspace_id": workspace.id, "external_key": f"p{i}", "title": f"Product {i:05d}", "sku": f"SKU{i:05d}",
              "description": "", "vendor": "", "marketplace": "", "created_at": now, "updated_at": now}
             for i in range(products)],
        )
        db.session.execute(
            insert(ProductImage),
            [{"product_id": i + 1, "position": 0, "file_path": f"products/{workspace.id}/p{i}.jpg", "status": "ok",
              "created_at": now} for i in range(products)],
        )
        rows = []
        for i in range(videos):
            created = now - timedelta(seconds=videos - i)
            status = "generating" if i >= videos - 20 else rng.choice(STATUSES)
            rows.append({
                "workspace_id": workspace.id, "user_id": user.id, "product_id": rng.randrange(products) + 1,
                "template_key": rng.choice(SEED_KEYS), "title": f"Video {i}", "custom_instructions": "",
                "options": {"aspect_ratio": "16:9", "duration": 8}, "status": status, "progress": 40,
                "progress_message": "Rendering", "provider": "local", "quota_period": current_period(),
                "quota_refunded": False, "attempts": 1, "poll_interval_s": 2.0, "created_at": created,
                "updated_at": created, "started_at": created, "external_job_id": f"bench-{i}",
                "error": "The provider failed" if status == "failed" else None,
            })
            if len(rows) == 10_000:
                db.session.execute(insert(Video), rows)
                rows = []
        if rows:
            db.session.execute(insert(Video), rows)
        db.session.commit()
        refresh_query_statistics()  # as the scheduler's hourly job does
        in_flight = [v.id for v in db.session.scalars(db.select(Video).where(Video.status == "generating"))]
        return {"in_flight": in_flight}


def measure(client, path: str, runs: int, headers: dict | None = None, expect: tuple = (200,)) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers=headers or {})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code in expect, (path, response.status_code)
    return timings


def count_statements(app: Flask, client, path: str, headers: dict | None = None) -> int:
    statements = []

    def record(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        client.get(path, headers=headers or {})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


ROOT = Path(__file__).resolve().parents[1]
RENDERS = 2  # as many renders as cores: the machine is saturated


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _p50_over_http(session: requests.Session, url: str, runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        response = session.get(url, timeout=30)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return percentile(timings, 0.5)


def under_render_load(database: Path, media: Path, runs: int) -> dict[str, float]:
    """/videos p50 from `gunicorn -w 2`: idle, with two niced renders, with two renders not niced."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "MEDIA_DIR": str(media), "SECRET_KEY": "bench",
           "EMBEDDED_WORKER": "0", "LOG_LEVEL": "WARNING", "INSTANCE_DIR": str(media.parent / "instance")}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        session = requests.Session()
        for _ in range(100):
            try:
                form = session.get(f"{url}/login", timeout=60).text
                break
            except requests.ConnectionError:  # gunicorn is still starting
                time.sleep(0.2)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        session.post(f"{url}/login", data={"email": "bench@example.com", "password": PASSWORD, "csrf_token": token},
                     timeout=30)
        _p50_over_http(session, f"{url}/videos", 30)  # warm both web workers up
        idle_before = _p50_over_http(session, f"{url}/videos", runs)
        results = {}
        for label, niceness in (("renders niced (as workers run them)", None), ("renders not niced", 0)):
            command = [sys.executable, "-m", "bench.render_load"]
            if niceness is not None:
                command += ["--niceness", str(niceness)]
            renders = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL) for _ in range(RENDERS)]
            try:
                time.sleep(3)  # past the first frames: both cores busy encoding
                results[label] = _p50_over_http(session, f"{url}/videos", runs)
            finally:
                for render in renders:
                    render.kill()
                    render.wait()
        # idle measured before and after the loads, so a warming cache or a busy neighbour
        # does not flatter (or spoil) the ratio
        idle = (idle_before + _p50_over_http(session, f"{url}/videos", runs)) / 2
        return {"idle (mean of before and after)": idle, **results}
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(markdown: str | None = None, videos: int = 100_000, products: int = 10_000, runs: int = 200) -> str:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'bench.db'}", "MEDIA_DIR": Path(folder) / "media",
            "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "EMBEDDED_WORKER": False,
        })
        started = time.perf_counter()
        data = generate(app, videos, products)
        generated_s = time.perf_counter() - started
        client = app.test_client()
        assert client.post("/login", data={"email": "bench@example.com", "password": PASSWORD}).status_code == 302

        bare = Flask("bare")
        bare.add_url_rule("/", "bare", lambda: "ok")
        bare_client = bare.test_client()

        watch = ",".join(f"{video_id}:0.0" for video_id in data["in_flight"])
        unchanged = client.get(f"/videos/poll?view=list&watch={watch}").get_data(as_text=True)
        assert "hx-get" in unchanged
        # the watch list as the page now holds it: polling answers 204 until something changes
        current_watch = unchanged.split("watch=")[1].split('"')[0].replace("&amp;", "&")
        from urllib.parse import unquote

        current_watch = unquote(current_watch)
        cases = {
            "bare Flask endpoint (baseline)": (bare_client, "/", None, (200,)),
            "/videos page": (client, "/videos", None, (200,)),
            "/videos fragment (HX-Request)": (client, "/videos?page=3&status=completed", {"HX-Request": "true"}, (200,)),
            "/videos search": (client, "/videos?q=Product%2001", {"HX-Request": "true"}, (200,)),
            "status poll, 20 in flight, nothing changed": (
                client, f"/videos/poll?view=list&watch={current_watch}", {"HX-Request": "true"}, (204,)),
            "status poll, 20 in flight, all changed": (
                client, f"/videos/poll?view=list&watch={watch}", {"HX-Request": "true"}, (200,)),
        }
        results = {}
        for name, (case_client, path, headers, expect) in cases.items():
            measure(case_client, path, 10, headers, expect)  # warm up
            results[name] = measure(case_client, path, runs, headers, expect)
        statements = {
            "/videos page": count_statements(app, client, "/videos"),
            "/videos fragment": count_statements(app, client, "/videos?page=3", {"HX-Request": "true"}),
            "status poll (nothing changed)": count_statements(app, client, f"/videos/poll?view=list&watch={current_watch}"),
        }
        with app.app_context():
            db.engine.dispose()
        loaded = under_render_load(Path(folder) / "bench.db", Path(folder) / "media", runs=60)
    baseline = percentile(results["bare Flask endpoint (baseline)"], 0.5)
    lines = [
        f"## Web: /videos and the status poll ({videos:,} videos, {products:,} products, SQLite)",
        "",
        (f"Data set generated in {generated_s:.1f} s. {runs} requests per case through Flask's test client "
         "(no network), after 10 warm-up requests."),
        "",
        "| case | p50 ms | p95 ms | p50 / bare Flask |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, timings in results.items():
        p50 = percentile(timings, 0.5)
        lines.append(f"| {name} | {p50:.2f} | {percentile(timings, 0.95):.2f} | {p50 / baseline:.1f}× |")
    lines += ["", "| request | SQL statements (excluding BEGIN) |", "| --- | ---: |"]
    lines += [f"| {name} | {count} |" for name, count in statements.items()]
    page_p50 = percentile(results["/videos page"], 0.5)
    poll_p50 = percentile(results["status poll, 20 in flight, nothing changed"], 0.5)
    lines += [
        "",
        (f"Targets: page p50 ≤ 50 ms — **{'met' if page_p50 <= 50 else 'missed'}** ({page_p50:.1f} ms); "
         f"poll p50 ≤ 10 ms — **{'met' if poll_p50 <= 10 else 'missed'}** ({poll_p50:.1f} ms); "
         f"≤ 6 SQL statements per page — **{'met' if statements['/videos page'] <= 6 else 'missed'}** "
         f"({statements['/videos page']})."),
    ]
    idle = loaded["idle (mean of before and after)"]
    niced = loaded["renders niced (as workers run them)"]
    lines += [
        "",
        f"### /videos while renders saturate the cores (`gunicorn -w 2`, {RENDERS} renders on {os.cpu_count()} cores)",
        "",
        ("The same data set served by gunicorn with two web processes, 60 requests per case over loopback. Each render "
         "is a 30 s 9:16 video rendered back to back (`bench/render_load.py`), the way a worker's render slot runs "
         "it: ffmpeg started through `nice -n 10` and the render thread at the same niceness."),
        "",
        "| case | /videos p50 ms | ÷ idle |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {name} | {p50:.1f} | {p50 / idle:.2f}× |" for name, p50 in loaded.items()]
    lines += ["", (f"Target: p50 under render load ≤ 2× idle — **{'met' if niced <= 2 * idle else 'missed'}** "
                   f"({niced / idle:.2f}×).")]
    body = "\n".join(lines)
    if markdown:
        write_section(markdown, "web", body)
    return body


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown")
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    arguments = parser.parse_args()
    print(run(arguments.markdown, arguments.videos, arguments.products, arguments.runs))
