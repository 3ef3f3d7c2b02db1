"""What a render is asked for (RenderSpec), what it gives back (RenderResult) and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (1280, 720),
    "9:16": (720, 1280),
    "1:1": (1080, 1080),
}

MIN_DURATION = 5.0
MAX_DURATION = 30.0
MAX_IMAGES = 10
MAX_INSTRUCTIONS = 500


class RenderError(Exception):
    """A render failed; the message is meant for a person (it is shown on the video page)."""


class InvalidImageError(RenderError):
    """A product image cannot be decoded; raised before ffmpeg starts, nothing is written."""


class RenderCanceled(RenderError):
    """The render was canceled through its cancel event; partial output was removed."""


@dataclass(frozen=True)
class Caption:
    start: float  # seconds
    end: float
    text: str


@dataclass(frozen=True)
class RenderSpec:
    recipe: str
    images: tuple[Path, ...]
    title: str
    price: str | None = None
    description: str = ""
    custom_instructions: str = ""
    aspect_ratio: str = "16:9"
    duration: float = 8.0
    captions: tuple[Caption, ...] = ()
    music: bool = False
    fps: int = 30
    preset: str = "veryfast"
    crf: int = 23


@dataclass(frozen=True)
class RenderResult:
    video_path: Path
    thumbnail_path: Path
    duration: float
    width: int
    height: int
    size_bytes: int


_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
)


def validate_spec(spec: RenderSpec, recipes: dict) -> None:
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
    try:
        duration = float(spec.duration)
    except (TypeError, ValueError):
        raise ValueError(f"Duration must be a number of seconds, got {spec.duration!r}") from None
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise ValueError(
            f"Duration must be between {MIN_DURATION:g} and {MAX_DURATION:g} seconds, got {duration:g}"
        )
    if not isinstance(spec.fps, int) or not 10 <= spec.fps <= 60:
        raise ValueError(f"Frame rate must be a whole number between 10 and 60, got {spec.fps!r}")
    if spec.preset not in _PRESETS:
        raise ValueError(f"Unknown x264 preset {spec.preset!r}")
    if not isinstance(spec.crf, int) or not 0 <= spec.crf <= 51:
        raise ValueError(f"CRF must be a whole number between 0 and 51, got {spec.crf!r}")
    if len(spec.custom_instructions or "") > MAX_INSTRUCTIONS:
        raise ValueError(f"Custom instructions are limited to {MAX_INSTRUCTIONS} characters")
    for i, cap in enumerate(spec.captions, 1):
        if not (cap.end > cap.start >= 0):
            raise ValueError(f"Caption {i} must end after it starts (start {cap.start}, end {cap.end})")
