"""Voice benchmark: what the spoken words cost.

1. Synthesis: CPU seconds of the Piper voice per second of speech (the voice loaded once per
   process first; its load time is reported apart).
2. A full 9:16 product_showcase render (libx264 ``veryfast``, 30 fps, 4 photos) with a
   voiceover of a six-line script, word-by-word captions and the ducked music bed, against the
   same video (same length) without voice, captions or music. Each render runs in its own
   process; its CPU is that of the whole process tree (the process itself, the voice's ONNX
   threads included, plus its ffmpeg children), measured around the render with the voice
   already loaded.
3. The same pair with the photos' cut-outs taken from the look cache, as a product's second
   video makes them: the words' share of a cheaper render.

Targets (issue 11): the words add <= 30 % CPU; the render stays >= 2x realtime on 2 cores.

    python -m bench.voice [--runs 3] [--markdown BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import json
import os
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

from bench.render import make_images
from bench.report import write_section

CPU_TARGET = 0.30
REALTIME_TARGET = 2.0
TITLE = "Aurora Desk Lamp"
DESCRIPTION = "Warm dimmable LED. Touch control with three levels. Aluminium arm folds flat. USB-C powered."
SYNTHESIS_TEXTS = [
    ("Desk at night.", "USB-C charging."),
    ("Aurora Desk Lamp.", "Warm dimmable LED.", "Touch control with three levels.", "Now $89, was $119.",
     "Shop now."),
    ("Made for late nights, early mornings and everything in between.",
     "The aluminium arm folds flat, so it fits the smallest desk.", "Order yours today!"),
]


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def worker_synthesis(folder: Path) -> dict:
    from webapp.render.voice import load_voice, synthesize

    start = _cpu()
    load_voice()
    load_cpu = _cpu() - start
    cpu, speech = 0.0, 0.0
    for k, lines in enumerate(SYNTHESIS_TEXTS * 2):
        before = _cpu()
        spoken = synthesize(lines, folder / f"s{k}.wav")
        cpu += _cpu() - before
        speech += spoken.duration
    return {"load_cpu_s": load_cpu, "cpu_s": cpu, "speech_s": speech}


def worker_render(kind: str, folder: Path, duration: float | None, cached: bool) -> dict:
    from webapp.generation.script import write_script
    from webapp.render import ASPECT_SIZES, RenderSpec, render
    from webapp.render.renderer import prepare_images
    from webapp.render.stage import DirectoryCache, look_at
    from webapp.render.voice import load_voice

    images = make_images(folder)
    looks = None
    if cached:  # the cut-outs made before the timing starts, as for a product's second video
        looks = DirectoryCache(folder / "looks")
        for im in prepare_images(images, folder, max_side=2 * max(ASPECT_SIZES["9:16"])):  # as render() does
            look_at(im.index, im.source, im.path, (im.width, im.height), folder, looks)
    script = write_script(title=TITLE, description=DESCRIPTION, price="$89.00", compare_at_price="$119.00",
                          instructions="")
    speaking = kind == "voice"
    spec = RenderSpec(recipe="product_showcase", images=tuple(images), title=TITLE, price="$89.00",
                      description=DESCRIPTION, aspect_ratio="9:16", duration=duration, music=speaking,
                      script=script.lines if speaking else (), voiceover=speaking, fps=30,
                      preset="veryfast", crf=23)
    if speaking:
        load_voice()  # once per worker process in production: not part of a render
    before, started = _cpu(), time.perf_counter()
    result = render(spec, folder / f"{kind}.mp4", folder / f"{kind}.jpg", looks=looks)
    return {"seconds": time.perf_counter() - started, "cpu_s": _cpu() - before, "duration": result.duration,
            "words": len(result.words)}


def run_worker(*args: str) -> dict:
    cmd = [sys.executable, "-m", "bench.voice", "--worker", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"worker {args} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_pairs(folder: Path, runs: int, *, cached: bool) -> tuple[list[dict], list[dict]]:
    """``runs`` back-to-back pairs: the video with the words, then the same video, as long,
    without the words and the music."""
    voiced, plain = [], []
    flag = "cached" if cached else "fresh"
    for k in range(runs):
        run_dir = folder / f"{flag}{k}"
        run_dir.mkdir()
        voiced.append(run_worker("voice", str(run_dir), "follow", flag))
        plain.append(run_worker("plain", str(run_dir), str(voiced[-1]["duration"]), flag))
    return voiced, plain


def extra_cpu(voiced: list[dict], plain: list[dict]) -> float:
    """The median of the pairs' ratios: each pair ran back to back, so its ratio is the least
    disturbed by other work on the machine."""
    return statistics.median(v["cpu_s"] / p["cpu_s"] for v, p in zip(voiced, plain, strict=True)) - 1


def measure(runs: int) -> dict:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-voice-") as tmp:
        folder = Path(tmp)
        synthesis = run_worker("synthesis", str(folder))
        voiced, plain = measure_pairs(folder, runs, cached=False)
        voiced_cached, plain_cached = measure_pairs(folder, runs, cached=True)
    voice_cpu = statistics.median(r["cpu_s"] for r in voiced)
    plain_cpu = statistics.median(r["cpu_s"] for r in plain)
    voice_s = statistics.median(r["seconds"] for r in voiced)
    duration = voiced[0]["duration"]
    return {
        "load": load,
        "cpus": os.cpu_count(),
        "synthesis_cpu_per_s": synthesis["cpu_s"] / synthesis["speech_s"],
        "synthesis_speech_s": synthesis["speech_s"],
        "load_cpu_s": synthesis["load_cpu_s"],
        "duration": duration,
        "words": voiced[0]["words"],
        "voice_cpu": voice_cpu,
        "plain_cpu": plain_cpu,
        "extra": extra_cpu(voiced, plain),
        "cached_voice_cpu": statistics.median(r["cpu_s"] for r in voiced_cached),
        "cached_plain_cpu": statistics.median(r["cpu_s"] for r in plain_cached),
        "cached_extra": extra_cpu(voiced_cached, plain_cached),
        "cached_voice_s": statistics.median(r["seconds"] for r in voiced_cached),
        "cached_plain_s": statistics.median(r["seconds"] for r in plain_cached),
        "cached_voice_runs": [round(r["cpu_s"], 2) for r in voiced_cached],
        "cached_plain_runs": [round(r["cpu_s"], 2) for r in plain_cached],
        "voice_s": voice_s,
        "plain_s": statistics.median(r["seconds"] for r in plain),
        "realtime": duration / voice_s,
        "voice_runs": [round(r["cpu_s"], 2) for r in voiced],
        "plain_runs": [round(r["cpu_s"], 2) for r in plain],
    }


def markdown(m: dict) -> str:
    extra_ok, rt_ok = m["extra"] <= CPU_TARGET, m["realtime"] >= REALTIME_TARGET
    return "\n".join([
        "## Voiceover and captions",
        "",
        (f"Synthesis (Piper, en_US joe, ONNX on the CPU): **{m['synthesis_cpu_per_s']:.3f} CPU s per second of "
         f"speech** over {m['synthesis_speech_s']:.0f} s of speech; loading the voice once per process: "
         f"{m['load_cpu_s']:.1f} CPU s."),
        "",
        (f"9:16 product_showcase, {m['duration']:.2f} s at 30 fps, x264 `veryfast`, 4 photos; a six-line script "
         f"({m['words']} words). CPU of the render's whole process tree, median of {len(m['voice_runs'])} runs "
         f"each (`python -m bench.voice`):"),
        "",
        "| | CPU time | Wall time | Runs (CPU s) |",
        "| --- | --- | --- | --- |",
        (f"| Voice + word captions + ducked music, -14 LUFS | {m['voice_cpu']:.2f} s | {m['voice_s']:.2f} s "
         f"| {', '.join(map(str, m['voice_runs']))} |"),
        (f"| Same video without them | {m['plain_cpu']:.2f} s | {m['plain_s']:.2f} s "
         f"| {', '.join(map(str, m['plain_runs']))} |"),
        (f"| With the words, cut-outs from the look cache | {m['cached_voice_cpu']:.2f} s | "
         f"{m['cached_voice_s']:.2f} s | {', '.join(map(str, m['cached_voice_runs']))} |"),
        (f"| Without them, cut-outs from the look cache | {m['cached_plain_cpu']:.2f} s | "
         f"{m['cached_plain_s']:.2f} s | {', '.join(map(str, m['cached_plain_runs']))} |"),
        "",
        (f"- CPU the words add to a full render (median of the back-to-back pairs): {m['extra'] * 100:+.0f} % "
         f"(target <= {CPU_TARGET * 100:.0f} %) {'— met' if extra_ok else '— NOT met'}"),
        (f"- The same with the cut-outs cached (a product's second video, whose render is cheaper): "
         f"{m['cached_extra'] * 100:+.0f} % {'— met' if m['cached_extra'] <= CPU_TARGET else '— NOT met'}"),
        (f"- Realtime factor with the words: {m['realtime']:.1f}x (target >= {REALTIME_TARGET:g}x on "
        f"{m['cpus']} cores) {'— met' if rt_ok else '— NOT met'}"),
        (f"- Load average when the run started: {m['load']:.1f} (wall times stretch when other work shares "
         "the cores; CPU times much less)"),
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, folder, *rest = args.worker
        if kind == "synthesis":
            print(json.dumps(worker_synthesis(Path(folder))))
        else:
            duration = None if rest[0] == "follow" else float(rest[0])
            print(json.dumps(worker_render(kind, Path(folder), duration, cached=rest[1] == "cached")))
        return 0
    m = measure(max(1, args.runs))
    print(markdown(m))
    if args.markdown:
        write_section(args.markdown, "voice", markdown(m))
        print(f"wrote the bench:voice section of {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
