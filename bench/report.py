"""Writing one benchmark's section of BENCHMARKS.md, between its markers."""

from __future__ import annotations

import platform
import re
from datetime import UTC, datetime
from pathlib import Path

HEADER = "# Benchmarks\n\nWritten by `make bench`. Each section replaces itself on every run.\n"


def write_section(markdown: str | Path, name: str, body: str) -> None:
    path = Path(markdown)
    text = path.read_text() if path.exists() else HEADER
    stamp = f"_{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, Python {platform.python_version()}_\n\n"
    section = f"<!-- bench:{name} -->\n{stamp}{body.strip()}\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else f"{text.rstrip()}\n\n{section}\n"
    path.write_text(text)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
