"""The numbers of the input contract (``generation.contract``), in the bottom layer so that the
renderer, which must not import the domain, checks its input against the very same numbers."""

from __future__ import annotations

ASPECT_RATIOS = ("16:9", "9:16", "1:1")
MIN_DURATION = 5  # seconds
MAX_DURATION = 30
DEFAULT_DURATION = 8  # a video with neither a voice nor a chosen duration
MAX_INSTRUCTIONS = 500  # characters (seeds/002)
MAX_CAPTIONS = 20
MAX_CAPTION_CHARS = 120
MAX_SCRIPT_LINES = 8
# ~27 s of speech at the voice's natural pace (~19 characters a second), which the voice can
# pick up to fit 30 s with the pauses and the end card: room for 500 characters of instructions
MAX_SCRIPT_CHARS = 520
MAX_IMAGES = 10  # product images a render uses
MAX_BULK = 10_000  # products in one bulk request
MAX_CTA_TEXT = 40  # characters of the brand's call to action: one button
