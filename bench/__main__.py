"""`make bench`: every benchmark, each in its own process, each writing its section of the
markdown file given with --markdown (default BENCHMARKS.md).

    python -m bench [--markdown BENCHMARKS.md] [--only render,web]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name -> the command after `python`, each taking --markdown PATH
BENCHMARKS = {
    "render": ["bench/render.py"],
    "claim": ["-m", "bench.claim"],
    "queue": ["-m", "bench.fair_claim"],
    "scale": ["-m", "bench.scale"],
    "sync": ["-m", "bench.sync"],
    "web": ["-m", "bench.web"],
    "import": ["-m", "bench.import"],
    "bulk": ["-m", "bench.bulk"],
    "voice": ["-m", "bench.voice"],
    "storefront": ["-m", "bench.storefront"],
    "preview": ["-m", "bench.preview"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", default="BENCHMARKS.md")
    parser.add_argument("--only", help="comma-separated names: " + ", ".join(BENCHMARKS))
    arguments = parser.parse_args()
    names = arguments.only.split(",") if arguments.only else list(BENCHMARKS)
    failed = []
    for name in names:
        print(f"== bench {name}", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, *BENCHMARKS[name], "--markdown", arguments.markdown], cwd=ROOT)
        print(f"== bench {name}: {'ok' if code == 0 else f'exit {code}'} in {time.monotonic() - started:.0f} s")
        if code:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
