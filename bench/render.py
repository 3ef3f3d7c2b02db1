"""Benchmark: the local renderer (one ffmpeg filter graph) against the same video in MoviePy 2.

    python bench/render.py [--runs 3] [--moviepy-runs 1] [--markdown BENCHMARKS.md]

Both make the product_showcase video: 8 s, 1280x720, 30 fps, from 4 product photos
(~1200x1200 JPEGs), slow zoom per photo, crossfades, a title + price lower third, encoded by
libx264 with the same preset and CRF. Each render runs in its own subprocess so its peak
memory can be read with getrusage: for ours, the ffmpeg child (RUSAGE_CHILDREN of a process
that only renders); for MoviePy, its Python process plus its ffmpeg writer.
Targets (from the issue): >= 10x faster than MoviePy, >= 3x realtime on 2 cores, < 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DURATION = 8.0
SIZE = (1280, 720)
FPS = 30
PRESET = "veryfast"
CRF = 23
TITLE = "Aurora Insulated Water Bottle 750 ml"
PRICE = "$49.00"
MARK_START = "<!-- bench:render -->"
MARK_END = "<!-- /bench:render -->"


def make_images(folder: Path) -> list[Path]:
    """Four ~1200x1200 product-style JPEGs: an object with a shadow on a studio backdrop."""
    from PIL import Image, ImageDraw, ImageFilter

    colours = [(214, 69, 56), (41, 121, 201), (58, 160, 96), (230, 170, 40)]
    backdrops = [(245, 245, 245), (236, 232, 226), (242, 244, 247), (250, 246, 238)]
    paths = []
    for i, (colour, bg) in enumerate(zip(colours, backdrops, strict=True)):
        w, h = 1200, 1200
        im = Image.new("RGB", (w, h), bg)
        shadow = Image.new("L", (w, h), 0)
        ImageDraw.Draw(shadow).ellipse((w * 0.28, h * 0.8, w * 0.72, h * 0.88), fill=130)
        im.paste((0, 0, 0), (0, 0), shadow.filter(ImageFilter.GaussianBlur(28)))
        d = ImageDraw.Draw(im)
        if i % 2 == 0:
            d.rounded_rectangle((w * 0.37, h * 0.3, w * 0.63, h * 0.84), radius=60, fill=colour)
            d.rectangle((w * 0.45, h * 0.17, w * 0.55, h * 0.3), fill=tuple(c * 7 // 10 for c in colour))
            d.rectangle((w * 0.40, h * 0.46, w * 0.60, h * 0.62), fill=(250, 250, 250))
        else:
            d.ellipse((w * 0.24, h * 0.22, w * 0.76, h * 0.74), fill=colour)
            d.ellipse((w * 0.40, h * 0.38, w * 0.60, h * 0.58), fill=bg)
        path = folder / f"product_{i + 1}.jpg"
        im.save(path, quality=90)
        paths.append(path)
    return paths


# -- workers: each runs in its own process ------------------------------------------------------

def _usage() -> dict:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "child_maxrss_kb": kids.ru_maxrss,
        "self_maxrss_kb": me.ru_maxrss,
        "child_cpu_s": kids.ru_utime + kids.ru_stime,
        "self_cpu_s": me.ru_utime + me.ru_stime,
    }


def worker_ours(images: list[Path], out: Path) -> dict:
    from webapp.render import RenderSpec, render

    spec = RenderSpec(recipe="product_showcase", images=tuple(images), title=TITLE, price=PRICE,
                      aspect_ratio="16:9", duration=DURATION, fps=FPS, preset=PRESET, crf=CRF)
    start = time.perf_counter()
    result = render(spec, out, out.with_suffix(".jpg"))
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        **_usage(),
        "size_bytes": result.size_bytes,
        "duration": result.duration,
    }


def worker_moviepy(images: list[Path], out: Path) -> dict:
    """The same video in MoviePy 2: each photo letterboxed on its backdrop colour, the whole
    frame slowly zoomed, crossfades, then a title + price panel (Pillow's default font)."""
    from moviepy import ColorClip, CompositeVideoClip, ImageClip, TextClip
    from moviepy.video.fx import CrossFadeIn, Resize
    from PIL import Image

    h = SIZE[1]
    n = len(images)
    t = 0.6
    seg = (DURATION + (n - 1) * t) / n
    clips = []
    for i, path in enumerate(images):
        with Image.open(path) as im:
            backdrop = im.convert("RGB").getpixel((2, 2))
        photo = ImageClip(str(path)).resized(height=h).with_position("center")
        frame = CompositeVideoClip([ColorClip(SIZE, color=backdrop), photo], size=SIZE)

        def zoom(tt, i=i):
            p = min(1.0, tt / seg)
            return 1 + 0.10 * (p if i % 2 == 0 else 1 - p)

        clip = (frame.with_duration(seg).with_start(i * (seg - t))
                .with_effects([Resize(zoom)]).with_position("center"))
        if i:
            clip = clip.with_effects([CrossFadeIn(t)])
        clips.append(clip)
    title = TextClip(text=TITLE, font_size=43, color="white")
    price = TextClip(text=PRICE, font_size=32, color="black", bg_color=(255, 176, 32))
    box_w, box_h = max(title.w, price.w) + 60, title.h + price.h + 50
    box = ColorClip((box_w, box_h), color=(12, 12, 18)).with_opacity(0.8)
    y0 = h - 36 - box_h
    for c, pos in ((box, (36, y0)), (title, (66, y0 + 16)), (price, (66, y0 + 26 + title.h))):
        clips.append(c.with_start(0.45).with_duration(DURATION - 0.45).with_position(pos))
    video = CompositeVideoClip(clips, size=SIZE).with_duration(DURATION)
    start = time.perf_counter()
    video.write_videofile(str(out), fps=FPS, codec="libx264", preset=PRESET, audio=False,
                          ffmpeg_params=["-crf", str(CRF), "-pix_fmt", "yuv420p"], logger=None)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        **_usage(),
        "size_bytes": out.stat().st_size,
        "duration": DURATION,
    }


def run_worker(kind: str, images: list[Path], out: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--out", str(out),
           *map(str, images)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} render failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- report -------------------------------------------------------------------------------------

def measure(runs: int, moviepy_runs: int) -> dict:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        folder = Path(tmp)
        images = make_images(folder)
        ours = [run_worker("ours", images, folder / f"ours_{i}.mp4") for i in range(runs)]
        mp = [run_worker("moviepy", images, folder / f"moviepy_{i}.mp4") for i in range(moviepy_runs)]
    ours_s = statistics.median(r["seconds"] for r in ours)
    mp_s = statistics.median(r["seconds"] for r in mp)
    ours_mem = max(r["child_maxrss_kb"] for r in ours) / 1024
    mp_mem = max(r["self_maxrss_kb"] + r["child_maxrss_kb"] for r in mp) / 1024
    return {
        "ours_runs": [round(r["seconds"], 2) for r in ours],
        "moviepy_runs": [round(r["seconds"], 2) for r in mp],
        "ours_s": ours_s,
        "moviepy_s": mp_s,
        "speedup": mp_s / ours_s,
        "realtime": DURATION / ours_s,
        "ours_mem_mb": ours_mem,
        "ours_python_mem_mb": max(r["self_maxrss_kb"] for r in ours) / 1024,
        "moviepy_mem_mb": mp_mem,
        "ours_cpu_s": statistics.median(r["child_cpu_s"] for r in ours),
        "moviepy_cpu_s": statistics.median(r["child_cpu_s"] + r["self_cpu_s"] for r in mp),
        "load": load,
        "ours_size_kb": ours[0]["size_bytes"] / 1024,
        "moviepy_size_kb": mp[0]["size_bytes"] / 1024,
        "cpus": os.cpu_count(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }


def targets(m: dict) -> list[tuple[str, str, bool]]:
    return [
        ("Speed vs MoviePy", f"{m['speedup']:.1f}x (target >= 10x)", m["speedup"] >= 10),
        ("Realtime factor", f"{m['realtime']:.1f}x (target >= 3x on 2 cores)", m["realtime"] >= 3),
        ("Peak memory (ffmpeg)", f"{m['ours_mem_mb']:.0f} MB (target < 300 MB)", m["ours_mem_mb"] < 300),
    ]


def markdown(m: dict) -> str:
    ours_runs = ", ".join(map(str, m["ours_runs"]))
    mp_runs = ", ".join(map(str, m["moviepy_runs"]))
    rows = [
        "| | Reelboard renderer (ffmpeg graph) | MoviePy 2 |",
        "| --- | --- | --- |",
        (f"| Render time (median) | {m['ours_s']:.2f} s (runs: {ours_runs}) "
        f"| {m['moviepy_s']:.2f} s (runs: {mp_runs}) |"),
        f"| Realtime factor | {m['realtime']:.1f}x | {DURATION / m['moviepy_s']:.2f}x |",
        (f"| Peak memory | {m['ours_mem_mb']:.0f} MB (ffmpeg child) "
        f"| {m['moviepy_mem_mb']:.0f} MB (Python + ffmpeg) |"),
        (f"| CPU time (median) | {m['ours_cpu_s']:.2f} s | {m['moviepy_cpu_s']:.2f} s "
         f"({m['moviepy_cpu_s'] / m['ours_cpu_s']:.1f}x ours) |"),
        f"| File size | {m['ours_size_kb']:.0f} KB | {m['moviepy_size_kb']:.0f} KB |",
    ]
    checks = [f"- {name}: {value} {'— met' if ok else '— NOT met'}" for name, value, ok in targets(m)]
    return "\n".join([
        MARK_START,
        "## Local renderer vs MoviePy",
        "",
        (f"product_showcase, {DURATION:g} s {SIZE[0]}x{SIZE[1]} {FPS} fps from 4 photos, libx264 "
         f"`{PRESET}` CRF {CRF}; same machine, same run ({m['machine']}). "
         "`python bench/render.py`"),
        "",
        *rows,
        "",
        (f"Speed ratio (MoviePy / ours): **{m['speedup']:.1f}x**. Load average when the run "
        f"started: {m['load']:.1f} (wall times stretch when other work shares the cores; "
        "CPU time does not)."),
        "",
        *checks,
        MARK_END,
    ])


def write_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(MARK_START) + r".*?" + re.escape(MARK_END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="renders of ours (median is reported)")
    parser.add_argument("--moviepy-runs", type=int, default=1)
    parser.add_argument("--markdown", type=Path, help="write/replace the bench:render section here")
    parser.add_argument("--worker", choices=["ours", "moviepy"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("images", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        fn = worker_ours if args.worker == "ours" else worker_moviepy
        print(json.dumps(fn(args.images, args.out)))
        return 0

    m = measure(max(1, args.runs), max(1, args.moviepy_runs))
    print(f"Reelboard renderer: {m['ours_s']:.2f} s median of {m['ours_runs']}  "
          f"({m['realtime']:.1f}x realtime, ffmpeg peak {m['ours_mem_mb']:.0f} MB, "
          f"{m['ours_size_kb']:.0f} KB)")
    print(f"MoviePy 2:          {m['moviepy_s']:.2f} s ({m['moviepy_runs']}), "
          f"peak {m['moviepy_mem_mb']:.0f} MB, {m['moviepy_size_kb']:.0f} KB")
    print(f"CPU time: ours {m['ours_cpu_s']:.2f} s, MoviePy {m['moviepy_cpu_s']:.2f} s "
          f"(ratio {m['moviepy_cpu_s'] / m['ours_cpu_s']:.1f}x); load average at start {m['load']:.1f}")
    print(f"Speed ratio (MoviePy / ours): {m['speedup']:.1f}x")
    for name, value, ok in targets(m):
        print(f"  [{'met' if ok else 'NOT met'}] {name}: {value}")
    if args.markdown:
        write_section(args.markdown, markdown(m))
        print(f"wrote the bench:render section of {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
