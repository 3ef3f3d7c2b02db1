"""The local video renderer: product images in, H.264 MP4 + poster JPEG out.

One ffmpeg process (imageio-ffmpeg's binary) per video, running one filter graph built from a
recipe per template. Text is drawn with Pillow into PNG overlays, so no system fonts are needed.
No Flask here: the local provider calls ``render`` from its worker pool.
"""

from .recipes import RECIPES, Recipe
from .renderer import render, render_preview
from .spec import (
    ASPECT_SIZES,
    Caption,
    InvalidImageError,
    RenderCanceled,
    RenderError,
    RenderResult,
    RenderSpec,
)

__all__ = [
    "ASPECT_SIZES",
    "RECIPES",
    "Caption",
    "InvalidImageError",
    "Recipe",
    "RenderCanceled",
    "RenderError",
    "RenderResult",
    "RenderSpec",
    "render",
    "render_preview",
]
