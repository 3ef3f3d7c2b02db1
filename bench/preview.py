"""Benchmark: the instant preview (issue 12: "a preview arrives in under 2 s on an idle 2-core
machine"), for every template in every aspect ratio.

    python -m bench.preview [--runs 3] [--markdown BENCHMARKS.md]

What the generate form's Preview button and ``POST /api/v1/previews`` call: ``render_instant``
(3.5 s at 360p, x264 ``ultrafast``, the product's first two photos, the brand kit with its logo
and watermark, the script's first lines as captions, a one-second end card), in this process, as
the web worker runs it. Each template's demo product is the one the contact sheets use. Two
cases:

- **first preview of a product**: an empty look cache, so the packshots are analysed and cut
  out (draft GrabCut) inside the measured call;
- **looks kept**: the same call once the product's looks are in the cache (a second preview,
  another template or aspect ratio, or any preview after a video of the product).

Wall time is what the merchant waits for; CPU is user + sys of this process (every thread) and
of the ffmpeg children it waited for, during the call. Medians over the runs of each case; no
timed assertions. Photos and logo are written before the clock starts.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.contact_sheets import CASES, logo
from bench.report import write_section
from webapp.catalog.demo import DEMO_BY_KEY, demo_photo
from webapp.generation.script import write_script
from webapp.render import (
    ASPECT_SIZES,
    Brand,
    DirectoryCache,
    RenderSpec,
    render_instant,
)

TARGET_S = 2.0


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def spec_for(template: str, aspect: str, folder: Path) -> RenderSpec:
    key, kit = CASES[template]
    product = DEMO_BY_KEY[key]
    images = []
    for position in range(min(2, len(product.shots))):
        path = folder / f"{key}-{position}.jpg"
        if not path.exists():
            path.write_bytes(demo_photo(key, position))
        images.append(path)
    mark = folder / f"logo-{kit.name}.png"
    if not mark.exists():
        logo(kit, mark)
    brand = Brand(primary=kit.primary, accent=kit.accent, font=kit.font, logo=mark, cta_text="Shop now",
                  cta_url="https://shop.example.com", watermark=True)
    price = f"${product.price}"
    was = f"${product.compare_at_price}" if product.compare_at_price else None
    script = write_script(title=product.title, description=product.description, price=price, compare_at_price=was,
                          instructions="")
    return RenderSpec(recipe=template, images=tuple(images), title=product.title, price=price, compare_at_price=was,
                      description=product.description, aspect_ratio=aspect, script=script.lines, voiceover=True,
                      music=True, brand=brand, link=f"https://shop.example.com/products/{key}")


def timed(spec: RenderSpec, folder: Path, looks: DirectoryCache) -> tuple[float, float]:
    out = folder / "preview.mp4"
    cpu0, t0 = _cpu(), time.perf_counter()
    render_instant(spec, out, out.with_suffix(".jpg"), looks=looks)
    return time.perf_counter() - t0, _cpu() - cpu0


def measure(runs: int, log=print) -> dict:
    results: dict[str, dict[str, list[tuple[float, float]]]] = {"first": {}, "kept": {}}
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        folder = Path(tmp)
        for template in CASES:
            for aspect in ASPECT_SIZES:
                spec = spec_for(template, aspect, folder)
                case = f"{template} {aspect}"
                for run in range(runs):
                    fresh = DirectoryCache(folder / f"looks-{template}-{aspect.replace(':', 'x')}-{run}")
                    results["first"].setdefault(case, []).append(timed(spec, folder, fresh))
                    results["kept"].setdefault(case, []).append(timed(spec, folder, fresh))
                first, kept = (statistics.median(w for w, _ in results[k][case]) for k in ("first", "kept"))
                log(f"{case}: first {first:.2f} s, looks kept {kept:.2f} s")
    return results


def markdown(results: dict, runs: int, load_before: tuple, load_after: tuple) -> str:
    rows = []
    summary = {}
    for kind, label in (("first", "first preview of a product"), ("kept", "looks kept")):
        walls = {case: statistics.median(w for w, _ in values) for case, values in results[kind].items()}
        cpus = {case: statistics.median(c for _, c in values) for case, values in results[kind].items()}
        slowest = max(walls, key=walls.get)
        summary[kind] = (walls, slowest)
        rows.append(f"| {label} | {statistics.median(walls.values()):.2f} s | {walls[slowest]:.2f} s ({slowest}) "
                    f"| {statistics.median(cpus.values()):.2f} s | {max(cpus.values()):.2f} s |")
    per_case = [f"| {case} | {statistics.median(w for w, _ in results['first'][case]):.2f} s "
                f"| {statistics.median(w for w, _ in results['kept'][case]):.2f} s |" for case in results["first"]]
    worst = max(max(summary[k][0].values()) for k in summary)
    verdict = "met" if worst < TARGET_S else "**NOT met**"
    return "\n".join([
        "## Instant preview: every template in every aspect ratio",
        "",
        (f"`python -m bench.preview` (`render_instant` in this process as the web worker runs it: 3.5 s at 360p, "
        f"x264 ultrafast, the first two demo photos, brand kit with logo watermark, captions, end card; medians of "
        f"{runs} runs per case; load average 1/5/15 min {'/'.join(f'{v:.2f}' for v in load_before)} at the start, "
        f"{'/'.join(f'{v:.2f}' for v in load_after)} at the end, {os.cpu_count()} CPUs). "
        "*First preview*: an empty look cache, so the packshots are cut out (draft GrabCut) inside the call. "
        "*Looks kept*: the product's looks already in the cache. CPU: user + sys of the process and its ffmpeg children."),
        "",
        "| | wall, median of the 18 cases | wall, slowest case | CPU, median | CPU, most |",
        "| --- | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        f"Target: a preview in under {TARGET_S:.0f} s on an idle 2-core machine — slowest case {worst:.2f} s, {verdict}.",
        "",
        "| case | first preview | looks kept |",
        "| --- | ---: | ---: |",
        *per_case,
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    before = os.getloadavg()
    results = measure(args.runs)
    text = markdown(results, args.runs, before, os.getloadavg())
    print(text)
    if args.markdown:
        write_section(args.markdown, "preview", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
