"""The six video templates of seeds/002, described once.

The local renderer makes each as a recipe of its own (``render.recipes``, keyed by ``key``);
providers that make a video from a text prompt send ``prompt``; the ``templates`` table is
seeded from here and shows ``name`` and ``description`` in the picker. A provider with its own
template catalog (RCK) adds its templates to that table beside these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeedTemplate:
    key: str
    name: str
    description: str  # what the picker says the template makes
    prompt: str  # the template in words, for providers that generate from a prompt
    mood: str  # the music bed the local renderer plays under it (render.audio.MOODS)


SEED_TEMPLATES: tuple[SeedTemplate, ...] = (
    SeedTemplate(
        "product_showcase", "Product showcase",
        "A slow zoom over each photo with soft crossfades, and the title and price in a lower third.",
        "A clean product showcase: slow, smooth camera moves around the product on a neutral studio background.",
        "bright",
    ),
    SeedTemplate(
        "human_usage", "Human usage",
        "Big, bold captions from your instructions tell how people use the product.",
        "A person using the product naturally in everyday life, showing how it is used.",
        "playful",
    ),
    SeedTemplate(
        "store_display", "Store display",
        "A mosaic of every photo, revealed tile by tile, then the hero shot, like a shop window.",
        "The product on display on a shelf in a bright, modern store.",
        "retail",
    ),
    SeedTemplate(
        "lifestyle", "Lifestyle",
        "Gentle pans in a warm grade, with a tagline from the description.",
        "A warm lifestyle scene with the product in a stylish, lived-in home.",
        "warm",
    ),
    SeedTemplate(
        "technical_demo", "Technical demo",
        "Spec call-outs taken from the description appear one by one beside the photos.",
        "A technical demonstration with close-ups of the product's features and details.",
        "tech",
    ),
    SeedTemplate(
        "unboxing", "Unboxing",
        "Wipe and slide reveals, as if the product comes out of its box.",
        "An unboxing: the product is revealed as it comes out of its box.",
        "upbeat",
    ),
)

SEED_BY_KEY: dict[str, SeedTemplate] = {template.key: template for template in SEED_TEMPLATES}
SEED_KEYS: tuple[str, ...] = tuple(SEED_BY_KEY)
GENERIC_PROMPT = "A marketing video for an online store's product."
