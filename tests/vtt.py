"""Reading back the WebVTT files the renderer writes, as a player would."""

from __future__ import annotations

import re
from pathlib import Path

TIMING = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})")


def read_vtt(path: Path, *, line_break: str = "\n") -> list[tuple[float, float, str]]:
    """The cues of ``path``: start and end in seconds, and the text with its lines joined by
    ``line_break``."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT\n")
    cues = []
    for block in text.strip().split("\n\n")[1:]:
        lines = block.split("\n")
        timing = TIMING.fullmatch(lines[1])
        assert timing, lines
        v = [int(x) for x in timing.groups()]
        start = v[0] * 3600 + v[1] * 60 + v[2] + v[3] / 1000
        end = v[4] * 3600 + v[5] * 60 + v[6] + v[7] / 1000
        cues.append((start, end, line_break.join(lines[2:])))
    return cues
