"""What a render is asked for (RenderSpec), what it gives back (RenderResult) and its errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..limits import MAX_IMAGES, MAX_INSTRUCTIONS, MAX_SCRIPT_CHARS, MAX_SCRIPT_LINES
from .brand import DEFAULT_BRAND, Brand
from .layout import Box, Layout

# Each shape's standard size: what a video is made at when no resolution is asked for
ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (1280, 720),
    "9:16": (720, 1280),
    "1:1": (1080, 1080),
}
# A resolution a video may ask for instead: the short side of its frame, in pixels
SHORT_SIDES: dict[str, int] = {"720p": 720, "1080p": 1080}
RESOLUTIONS = tuple(SHORT_SIDES)


def frame_size(aspect_ratio: str, resolution: str | None = None) -> tuple[int, int]:
    """The frame of a video of ``aspect_ratio`` at ``resolution`` (None: the shape's standard)."""
    if resolution is None:
        return ASPECT_SIZES[aspect_ratio]
    w, h = (int(n) for n in aspect_ratio.split(":"))
    side = SHORT_SIDES[resolution]
    return (side * w // h, side) if w >= h else (side, side * h // w)

MIN_DURATION = 5.0
MAX_DURATION = 30.0
DEFAULT_DURATION = 8.0  # a video with neither a voice nor a chosen duration
VOICE_START_S = 0.4  # the voice starts after the opening fade
END_CARD_S = 2.0  # after the last word: room for the end card


def speech_room(duration: float | None) -> float:
    """Seconds the voice has in a video of ``duration`` (None: as long as the voice, up to the
    longest video): all but the lead-in and the end card."""
    return (duration if duration is not None else MAX_DURATION) - VOICE_START_S - END_CARD_S


class RenderError(Exception):
    """A render failed; the message is meant for a person (it is shown on the video page)."""


class InvalidImageError(RenderError):
    """A product image cannot be decoded; raised before ffmpeg starts, nothing is written."""


class RenderCanceled(RenderError):
    """The render was canceled through its cancel event; partial output was removed."""


@dataclass(frozen=True)
class Caption:
    """A caption the merchant wrote, shown from ``start`` to ``end`` seconds; without times,
    one of the lines spread evenly over the video (before its end card), whatever its length."""

    start: float | None
    end: float | None
    text: str


def spread(captions: Sequence[Caption], length: float) -> tuple[Caption, ...]:
    """The captions with times: the untimed lines take even shares of ``length`` seconds, in
    order; timed ones keep theirs."""
    step = length / max(1, sum(1 for c in captions if c.start is None))
    placed, k = [], 0
    for caption in captions:
        if caption.start is None:
            caption = Caption(round(k * step, 3), round((k + 1) * step, 3), caption.text)
            k += 1
        placed.append(caption)
    return tuple(placed)


@dataclass(frozen=True)
class Word:
    """A spoken word and when it is said (seconds)."""

    text: str  # as written, with its punctuation ("night."), without quotes or brackets
    start: float
    end: float
    line: int  # index of the script line it belongs to


@dataclass(frozen=True)
class RenderSpec:
    recipe: str
    images: tuple[Path, ...]
    title: str
    price: str | None = None
    description: str = ""
    custom_instructions: str = ""
    aspect_ratio: str = "16:9"
    resolution: str | None = None  # "720p" | "1080p"; None: the shape's standard size (ASPECT_SIZES)
    duration: float | None = None  # None: as long as the voice needs (8 s without a voice)
    captions: tuple[Caption, ...] = ()  # merchant-timed: shown instead of the word captions
    music: bool = False
    script: tuple[str, ...] = ()  # the lines the voice says, in order
    voiceover: bool = False
    fps: int = 30
    preset: str = "veryfast"
    crf: int = 23
    brand: Brand = DEFAULT_BRAND  # colours, font, logo, call to action, watermark
    compare_at_price: str | None = None  # the "was" price, struck through on the end card
    link: str | None = None  # the end card's QR code (``providers.base.shop_link``): none, no code
    end_card: bool = True


@dataclass(frozen=True)
class RenderResult:
    video_path: Path
    thumbnail_path: Path
    duration: float
    width: int
    height: int
    size_bytes: int
    captions_path: Path | None = None  # the WebVTT file, written when there are words or captions
    words: tuple[Word, ...] = ()  # what the voice said, in video time
    layout: Layout | None = None  # every box of the video: product areas, texts, captions, logo
    end_card: Layout | None = None  # the boxes of the end card, when it has one
    product_boxes: tuple[Box, ...] = ()  # where each shot shows the product, in frame pixels


_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
)


def validate_spec(spec: RenderSpec, recipes: dict, *, min_duration: float = MIN_DURATION) -> None:
    """Raise ValueError with a clear message when the spec cannot be rendered."""
    if spec.recipe not in recipes:
        raise ValueError(
            f"Unknown recipe {spec.recipe!r}; expected one of: {', '.join(sorted(recipes))}"
        )
    if not spec.images:
        raise ValueError("At least one product image is needed to render a video")
    if len(spec.images) > MAX_IMAGES:
        raise ValueError(f"At most {MAX_IMAGES} product images can be used, got {len(spec.images)}")
    if spec.aspect_ratio not in ASPECT_SIZES:
        raise ValueError(
            f"Unknown aspect ratio {spec.aspect_ratio!r}; expected one of: {', '.join(ASPECT_SIZES)}"
        )
    if spec.resolution is not None and spec.resolution not in SHORT_SIDES:
        raise ValueError(
            f"Unknown resolution {spec.resolution!r}; expected one of: {', '.join(SHORT_SIDES)}"
        )
    if spec.duration is not None:
        try:
            duration = float(spec.duration)
        except (TypeError, ValueError):
            raise ValueError(f"Duration must be a number of seconds, got {spec.duration!r}") from None
        if not min_duration <= duration <= MAX_DURATION:
            raise ValueError(
                f"Duration must be between {min_duration:g} and {MAX_DURATION:g} seconds, got {duration:g}"
            )
    if not isinstance(spec.fps, int) or not 10 <= spec.fps <= 60:
        raise ValueError(f"Frame rate must be a whole number between 10 and 60, got {spec.fps!r}")
    if spec.preset not in _PRESETS:
        raise ValueError(f"Unknown x264 preset {spec.preset!r}")
    if not isinstance(spec.crf, int) or not 0 <= spec.crf <= 51:
        raise ValueError(f"CRF must be a whole number between 0 and 51, got {spec.crf!r}")
    if len(spec.custom_instructions or "") > MAX_INSTRUCTIONS:
        raise ValueError(f"Custom instructions are limited to {MAX_INSTRUCTIONS} characters")
    if spec.voiceover and not any(any(ch.isalnum() for ch in line) for line in spec.script):
        raise ValueError("A voiceover needs a script: at least one line with words to speak")
    if len(spec.script) > MAX_SCRIPT_LINES:
        raise ValueError(f"A script has at most {MAX_SCRIPT_LINES} lines, got {len(spec.script)}")
    if sum(len(line) for line in spec.script) > MAX_SCRIPT_CHARS:
        raise ValueError(f"A script has at most {MAX_SCRIPT_CHARS} characters")
    for i, cap in enumerate(spec.captions, 1):
        if (cap.start is None) != (cap.end is None):
            raise ValueError(f"Caption {i} needs both a start and an end, or neither")
        if cap.start is not None and not (cap.end > cap.start >= 0):
            raise ValueError(f"Caption {i} must end after it starts (start {cap.start}, end {cap.end})")
