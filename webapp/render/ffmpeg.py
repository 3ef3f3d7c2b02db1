"""Running the ffmpeg binary: progress from ``-progress pipe:1``, stderr drained by a thread,
cancel by killing the process, and a probe that reads ``ffmpeg -i`` output (no ffprobe)."""

from __future__ import annotations

import collections
import logging
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .spec import RenderCanceled, RenderError

log = logging.getLogger(__name__)

# Renders run below the web's CPU priority, so requests keep their speed while renders take the
# idle cycles; and a child never outlives the worker that started it (kill -9 included).
RENDER_NICENESS = 10
_SETPRIV = shutil.which("setpriv")  # util-linux: parent-death signal for the child
_NICE = shutil.which("nice")


def contained(args: Sequence[str], niceness: int | None = None) -> list[str]:
    """``args`` wrapped to run at lower CPU priority and to be killed when this process dies.

    ``setpriv --pdeathsig KILL`` and ``nice`` exec the command in place (same pid), so killing
    the process we started kills the command. Without them (not Linux) the command runs as is."""
    niceness = RENDER_NICENESS if niceness is None else niceness
    prefix: list[str] = []
    if _SETPRIV:
        prefix += [_SETPRIV, "--pdeathsig", "KILL", "--"]
    if _NICE and niceness:
        prefix += [_NICE, "-n", str(niceness)]
    return prefix + list(args)


def lower_thread_priority(niceness: int | None = None) -> None:
    """Lowers the CPU priority of the calling thread (Linux: a thread has its own nice value),
    for Python work of a render (drawing overlays, speech synthesis) in a render thread."""
    niceness = RENDER_NICENESS if niceness is None else niceness
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, niceness))
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass


def ffmpeg_binary(override: str | None = None) -> str:
    if override:
        return override
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


class Progress:
    """Turns ffmpeg's ``out_time_us`` into throttled percent callbacks (never decreasing)."""

    def __init__(self, callback: Callable[[int, str], None] | None, interval: float = 0.5):
        self.callback = callback
        self.interval = interval
        self.last_sent = -1
        self.last_time = 0.0

    def report(self, percent: int, stage: str, *, force: bool = False) -> None:
        if self.callback is None:
            return
        percent = max(self.last_sent, min(100, int(percent)))
        now = time.monotonic()
        if not force and (now - self.last_time < self.interval or percent == self.last_sent):
            return
        self.last_sent = percent
        self.last_time = now
        self.callback(percent, stage)


# ffmpeg's generic epilogue after an error; the cause is in the lines before these
_NOISE = re.compile(
    r"Terminating thread with return code|Nothing was written into output file|"
    r"Task finished with error code|Could not open encoder before EOF|^\[swscaler @|"
    r"Error while filtering: |Conversion failed!$|Error sending frames to consumers"
)


def _drain_stderr(stream, tail: collections.deque) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            tail.append(line)
    stream.close()


def _read_progress(stream, state: dict) -> None:
    for raw in iter(stream.readline, b""):
        key, _, value = raw.decode("ascii", "replace").strip().partition("=")
        if key in ("out_time_us", "out_time_ms") and value.strip().lstrip("-").isdigit():
            state["out_us"] = max(state.get("out_us", 0), int(value))
        elif key == "progress":
            state["progress"] = value.strip()
    stream.close()


# ffmpeg 9's scheduler now and then deadlocks on our graphs (about one run in 40 of a 360p
# preview: every thread asleep, no frame out); the same command run again goes through. A run
# with no new frame for this long is stuck, not slow.
STALL_S = 30.0
RUNS_WHEN_STUCK = 2


def run(
    args: Sequence[str],
    *,
    total_seconds: float,
    on_percent: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 900.0,
    stall_s: float = STALL_S,
) -> None:
    """Run ffmpeg (``args[0]`` is the binary; ``-progress pipe:1`` must be among the args).

    ``on_percent`` gets 0..100 of the encoded duration, polled about ten times a second.
    A run that puts out no frame for ``stall_s`` is stopped and run again, once. Raises
    RenderCanceled when ``cancel`` is set, RenderError on failure."""
    for attempt in range(1, RUNS_WHEN_STUCK + 1):
        if _run_once(args, total_seconds=total_seconds, on_percent=on_percent, cancel=cancel, timeout=timeout,
                     stall_s=stall_s):
            return
        log.warning("ffmpeg put out no frame for %.0f s and was stopped (run %d of %d)", stall_s, attempt,
                    RUNS_WHEN_STUCK)
    raise RenderError(f"ffmpeg stopped making progress ({stall_s:.0f} s without a frame), {RUNS_WHEN_STUCK} times")


def _run_once(args: Sequence[str], *, total_seconds: float, on_percent: Callable[[float], None] | None,
              cancel: threading.Event | None, timeout: float, stall_s: float) -> bool:
    """One run of ffmpeg: True when it finished, False when it was stopped as stuck."""
    tail: collections.deque[str] = collections.deque(maxlen=40)
    state: dict = {}
    try:
        proc = subprocess.Popen(
            contained(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    except OSError as exc:
        raise RenderError(f"Could not start ffmpeg ({args[0]}): {exc.strerror or exc}") from exc
    readers = [
        threading.Thread(target=_drain_stderr, args=(proc.stderr, tail), daemon=True),
        threading.Thread(target=_read_progress, args=(proc.stdout, state), daemon=True),
    ]
    for r in readers:
        r.start()
    started = last_change = time.monotonic()
    last_out = None
    killed_for = None
    try:
        while True:
            try:
                proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if state.get("out_us") != last_out:
                last_out, last_change = state.get("out_us"), now
            if cancel is not None and cancel.is_set():
                killed_for = "cancel"
            elif now - started > timeout:
                killed_for = "timeout"
            elif now - last_change > stall_s:
                killed_for = "stall"
            if killed_for:
                proc.kill()
                proc.wait()
                break
            if on_percent and total_seconds > 0 and "out_us" in state:
                on_percent(min(100.0, state["out_us"] / 1e6 / total_seconds * 100))
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        for r in readers:
            r.join(timeout=2)
    if killed_for == "cancel":
        raise RenderCanceled("Render canceled")
    if killed_for == "timeout":
        raise RenderError(f"ffmpeg took longer than {timeout:.0f} s and was stopped")
    if killed_for == "stall":
        return False
    if proc.returncode != 0:
        lines = [ln for ln in tail if not _NOISE.search(ln)] or list(tail)
        detail = "\n".join(lines[-5:]) or "(no output)"
        raise RenderError(f"ffmpeg failed (exit code {proc.returncode}):\n{detail}")
    return True


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    width: int
    height: int
    video_codec: str
    pix_fmt: str
    fps: float
    audio_codec: str | None


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+).*?, (\w+)(?:\([^)]*\))?, (\d{2,5})x(\d{2,5})")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)")
_FPS = re.compile(r"(\d+(?:\.\d+)?) fps")


def probe(path: Path, ffmpeg_exe: str | None = None) -> MediaInfo:
    """Read duration, size, codecs and pixel format from ``ffmpeg -i`` (which exits 1)."""
    proc = subprocess.run(
        [ffmpeg_binary(ffmpeg_exe), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True, text=True, errors="replace", timeout=60, check=False,
    )
    text = proc.stderr
    d = _DURATION.search(text)
    v = _VIDEO.search(text)
    if not d or not v:
        raise RenderError(f"The rendered file {path.name} could not be read back")
    a = _AUDIO.search(text)
    f = _FPS.search(text[v.start():])
    duration = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3))
    return MediaInfo(
        duration=duration,
        width=int(v.group(3)),
        height=int(v.group(4)),
        video_codec=v.group(1),
        pix_fmt=v.group(2),
        fps=float(f.group(1)) if f else 0.0,
        audio_codec=a.group(1) if a else None,
    )
