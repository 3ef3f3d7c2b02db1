"""The local video renderer: product images in, H.264 MP4 + poster JPEG out.

One ffmpeg process (imageio-ffmpeg's binary) per video, running one filter graph built from a
recipe per template. Text is drawn with Pillow into PNG overlays, so no system fonts are needed.
A video can speak: an offline voiceover of its script (``voice``), word-by-word captions and
a WebVTT file (``captions``), the voice over ducked music at -14 LUFS (``audio``).
No Flask here: the local provider calls ``render`` from its worker pool.
"""

from .brand import DEFAULT_BRAND, FONTS, Brand
from .ffmpeg import contained, lower_thread_priority
from .recipes import RECIPES, Recipe
from .renderer import compose, render, render_instant, render_preview
from .spec import (
    ASPECT_SIZES,
    RESOLUTIONS,
    Caption,
    InvalidImageError,
    RenderCanceled,
    RenderError,
    RenderResult,
    RenderSpec,
    Word,
    frame_size,
)
from .stage import DirectoryCache, LookCache

__all__ = [
    "ASPECT_SIZES",
    "DEFAULT_BRAND",
    "FONTS",
    "RECIPES",
    "RESOLUTIONS",
    "Brand",
    "Caption",
    "DirectoryCache",
    "InvalidImageError",
    "LookCache",
    "Recipe",
    "RenderCanceled",
    "RenderError",
    "RenderResult",
    "RenderSpec",
    "Word",
    "compose",
    "contained",
    "frame_size",
    "lower_thread_priority",
    "render",
    "render_instant",
    "render_preview",
]
