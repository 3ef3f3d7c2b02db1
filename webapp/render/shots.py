"""The shots of a video: where each photo's product goes in the frame, and the rhythm of the
cuts.

A recipe names a product area for each frame shape. A packshot's cut-out is fitted into it
(standing on the area's floor line, with its soft shadow, as one transparent layer that moves
on its own over the backdrop); a scene is cropped so that its product lands in the area and the
photo fills the whole frame. Either way the shot knows the box the product takes in the frame,
which the texts and captions keep out of. Cuts fall on the music's beats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .compose import soft_shadow
from .layout import Box, safe_zone
from .stage import Look

MIN_TALL_SHARE = 0.5  # in 9:16 the product is at least half the frame's height...
MAX_TALL_WIDTH = 0.9  # ...unless that makes it wider than this share of the frame
MAX_SCENE_UPSCALE = 2.6  # a scene is not blown up more than this to frame the product
SCENE_CROP_HOLDS = 0.9  # share of its product a scene's crop shows, or the scene is shown as a card
DETAIL_SHARE = 0.5  # a detail card shows this share of its product across
MAX_DETAIL_UPSCALE = 1.6  # and blows the photo up no more than this
DETAIL_SEARCH_SHRINK = 3  # the detail is looked for on a copy this many times smaller
DETAIL_MIN_COVER = 0.5  # share of the card the product fills, at least, where it can
DETAIL_OVERLAP = 0.3  # a further detail shows at most this share of one shown before
DETAIL_FURTHER_COVER = 0.8  # and at least this share of the product the first one shows


def is_tall(width: int, height: int) -> bool:
    return height / width > 1.2


def is_wide(width: int, height: int) -> bool:
    return width / height > 1.2


def even(value: float) -> int:
    return max(2, round(value / 2) * 2)


@dataclass(frozen=True)
class Layer:
    """A product cut-out with its shadow, drawn at frame size: a PNG whose top-left goes at
    (x, y); ``product`` is the product's own box in the frame (the shadow is outside it)."""

    path: Path
    x: int
    y: int
    w: int
    h: int
    product: Box


@dataclass(frozen=True)
class Shot:
    """One photo on screen: ``layer`` for a staged packshot, else ``crop`` (photo pixels, the
    frame's shape) of a scene; ``product`` is where the product shows, in frame pixels (for a
    scene that zooms, its largest extent)."""

    look: Look
    product: Box
    layer: Layer | None = None
    crop: Box | None = None
    focus: tuple[float, float] = (0.5, 0.5)  # where a scene's zoom goes, in fractions of the crop
    closer: bool = False  # a card of a part of the product (``detail_card_layer``), not the whole

    @property
    def staged(self) -> bool:
        return self.layer is not None


def stage_box(area: Box, cutout: tuple[int, int], width: int, height: int, *, fill: float = 1.0) -> Box:
    """The cut-out fitted into ``area`` (``fill`` of its size), standing on the area's bottom
    edge, centred across it. In a tall frame it is at least half the frame's height unless
    that would make it wider than 90 % of the frame."""
    cw, ch = cutout
    ratio = cw / ch
    h = min(area.h * fill, area.w * fill / ratio)
    if is_tall(width, height):
        h = max(h, min(MIN_TALL_SHARE * height, MAX_TALL_WIDTH * width / ratio))
    w = h * ratio
    return Box(area.x + (area.w - w) / 2, area.bottom - h, w, h)


def product_layer(look: Look, box: Box, out: Path, *, shadow: bool = True) -> Layer:
    """The cut-out resized to ``box`` with its soft shadow under it, as one PNG."""
    assert look.cutout is not None
    box = Box(round(box.x), round(box.y), even(box.w), even(box.h))
    with Image.open(look.cutout) as opened:
        product = opened.convert("RGBA").resize((int(box.w), int(box.h)), Image.Resampling.LANCZOS)
    pieces = [soft_shadow(product, box), (product, box)] if shadow else [(product, box)]
    x = int(math.floor(min(where.x for _, where in pieces) / 2) * 2)
    y = int(math.floor(min(where.y for _, where in pieces) / 2) * 2)
    w = even(max(where.right for _, where in pieces) - x + 1)
    h = even(max(where.bottom for _, where in pieces) - y + 1)
    canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    for image, where in pieces:
        canvas.alpha_composite(image, (round(where.x) - x, round(where.y) - y))
    canvas.save(out, compress_level=0)
    return Layer(out, x, y, w, h, box)


def scene_crop(look: Look, area: Box, width: int, height: int, *, zoom: float = 0.0) -> tuple[Box, Box]:
    """The crop of a scene (photo pixels, the frame's shape) that fills the frame and shows its
    product inside ``area``, as large as fits there (in a tall frame, at least half the frame's
    height when it can be), and the product's box in the frame. A product near the photo's edge
    cannot always be moved into the area: then the scale that leaves the least of it outside
    wins. ``zoom``: the shot pushes in that much more towards the product, so the box returned
    is the product's at the end of it."""
    pw, ph = look.size
    product = look.product_box
    fill = max(width / pw, height / ph)  # frame pixels per photo pixel when the crop is the whole photo
    target = min(area.w / product.w, area.h / product.h) / (1 + zoom)
    if is_tall(width, height):
        target = max(target, min(MIN_TALL_SHARE * height / product.h, MAX_TALL_WIDTH * width / product.w))
    best: tuple[tuple[float, float], Box, Box] | None = None
    steps = 24
    for k in range(steps + 1):
        scale = fill * MAX_SCENE_UPSCALE ** (k / steps)
        crop, shown = _crop_at(look, area, width, height, scale, zoom)
        # what lies outside the area where text could go (the safe zone) is what counts
        safe = safe_zone(width, height)
        outside = _overlap(shown, safe) - _overlap(_clip(shown, area), safe)
        key = (round(outside / (width * height), 3), abs(scale - target) / target)
        if best is None or key < best[0]:
            best = (key, crop, shown)
    assert best is not None
    return best[1], best[2]


def _crop_at(look: Look, area: Box, width: int, height: int, scale: float, zoom: float) -> tuple[Box, Box]:
    pw, ph = look.size
    product = look.product_box
    cw, ch = width / scale, height / scale
    # the product's centre goes to the area's centre, as far as the photo's edges allow
    ax, ay = area.center
    x = min(max(product.center[0] - (ax / width) * cw, 0.0), pw - cw)
    y = min(max(product.center[1] - (ay / height) * ch, 0.0), ph - ch)
    shown = Box((product.x - x) * scale, (product.y - y) * scale, product.w * scale, product.h * scale)
    if zoom:
        fx, fy = ((product.center[0] - x) / cw * width, (product.center[1] - y) / ch * height)
        grow = 1 + zoom
        shown = Box(fx - (fx - shown.x) * grow, fy - (fy - shown.y) * grow, shown.w * grow, shown.h * grow)
    x0, y0 = max(0.0, shown.x), max(0.0, shown.y)
    shown = Box(x0, y0, min(shown.right, width) - x0, min(shown.bottom, height) - y0)
    return Box(x, y, cw, ch), shown


def _clip(a: Box, b: Box) -> Box:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    return Box(x0, y0, max(0.0, min(a.right, b.right) - x0), max(0.0, min(a.bottom, b.bottom) - y0))


def spills(shown: Box, area: Box, width: int, height: int) -> bool:
    """Whether a scene's product, framed as well as its photo allows, still covers much of the
    safe zone outside the area (where the text goes)."""
    safe = safe_zone(width, height)
    return _overlap(shown, safe) - _overlap(_clip(shown, area), safe) > 0.02 * width * height


def cuts_off(crop: Box, product: Box) -> bool:
    """Whether a scene's crop leaves much of its product out: a tall bottle in a portrait photo
    has no wide crop that holds it."""
    return _overlap(crop, product) < SCENE_CROP_HOLDS * product.w * product.h


def card_layer(look: Look, area: Box, out: Path, *, radius: float) -> Layer:
    """A scene that cannot fill the frame around its product (the product is too near its
    edge, or too large, or too tall for the frame's shape): the part of it around the product, as a card with rounded corners and
    a soft shadow that fills the area."""
    pw, ph = look.size
    product = look.product_box
    aspect = area.w / area.h
    # the product with some of its scene around it, in the area's shape
    w = min(pw, max(product.w * 1.3, product.h * 1.15 * aspect))
    h = min(ph, w / aspect)
    w = h * aspect
    x = min(max(product.center[0] - w / 2, 0.0), pw - w)
    y = min(max(product.center[1] - h / 2, 0.0), ph - h)
    return _card(look.path, Box(x, y, w, h), area, out, radius=radius)


def detail_windows(look: Look, area: Box, most: int = 1) -> list[Box]:
    """Closer looks at a packshot, for one that follows another on the same stage (the same
    product, the same size, twice running), or for a long video of few photos: windows of the
    photo in the shape of ``area``, on the parts of its product with the most detail (the most
    edge energy on the product, in a window it mostly fills: an ear cup, a dial, a label), the
    most detailed first; each further one overlaps none before it by more than DETAIL_OVERLAP.
    At most ``most``, and fewer where the product has no other such part (a lamp's shade)."""
    pw, ph = look.size
    product = look.product_box
    aspect = area.w / area.h
    # half the product across, or wider where the photo has too few pixels to blow it up
    w = min(pw, ph * aspect, max(product.w * DETAIL_SHARE, product.h * DETAIL_SHARE * aspect,
                                 area.w / MAX_DETAIL_UPSCALE))
    h = w / aspect
    # the search runs on a copy DETAIL_SEARCH_SHRINK times smaller: window sums, not pixels, count
    f = DETAIL_SEARCH_SHRINK
    with Image.open(look.path) as opened:
        grey = np.asarray(opened.convert("L").reduce(f), np.float32)
    product_pixels = _product_mask(look, (grey.shape[1], grey.shape[0]), 1 / f)
    energy = cv2.integral(np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)) * product_pixels)
    cover = cv2.integral(product_pixels)
    sw, sh = w / f, h / f
    ranked = []
    for cx in np.linspace(product.x, product.right, 9) / f:  # windows centred on the product
        for cy in np.linspace(product.y, product.bottom, 9) / f:
            x0, y0 = int(min(max(cx - sw / 2, 0), grey.shape[1] - sw)), int(min(max(cy - sh / 2, 0), grey.shape[0] - sh))
            x1, y1 = int(x0 + sw), int(y0 + sh)
            share = _window_sum(cover, x0, y0, x1, y1) / max(1.0, (x1 - x0) * (y1 - y0))
            # mostly product (not the hollow of a headband), then the most detail in it
            score = (float(share >= DETAIL_MIN_COVER), _window_sum(energy, x0, y0, x1, y1) if share >= DETAIL_MIN_COVER else share)
            ranked.append((score, share, Box(min(x0 * f, pw - w), min(y0 * f, ph - h), w, h)))
    ranked.sort(key=lambda item: item[0], reverse=True)  # stable: the first of equals wins
    # a further one shows as much product as the first, nearly (not a corner of backdrop)
    least = min(DETAIL_MIN_COVER, ranked[0][1] * DETAIL_FURTHER_COVER)
    chosen: list[Box] = []
    for _, share, window in ranked:
        if len(chosen) == most:
            break
        if share >= least and all(_overlap(window, other) <= DETAIL_OVERLAP * window.w * window.h for other in chosen):
            chosen.append(window)
    return chosen


def detail_card_layer(look: Look, window: Box, area: Box, out: Path, *, radius: float) -> Layer:
    """A closer look (one of ``detail_windows``) as a card filling ``area``."""
    return _card(look.path, window, area, out, radius=radius)


def _product_mask(look: Look, size: tuple[int, int], scale: float) -> np.ndarray:
    """1.0 where the photo, ``scale`` times its size, shows the product (its cut-out's opaque
    pixels), else 0.0."""
    mask = np.zeros((size[1], size[0]), np.float32)
    if look.cutout is None or look.cutout_box is None:
        return mask + 1.0
    b = look.cutout_box
    box = Box(b.x * scale, b.y * scale, b.w * scale, b.h * scale)
    with Image.open(look.cutout) as cut:
        alpha = np.asarray(cut.convert("RGBA").getchannel("A").resize((max(1, round(box.w)), max(1, round(box.h)))))
    x0, y0 = round(box.x), round(box.y)
    part = mask[max(0, y0):y0 + alpha.shape[0], max(0, x0):x0 + alpha.shape[1]]
    part[...] = alpha[max(0, -y0):max(0, -y0) + part.shape[0], max(0, -x0):max(0, -x0) + part.shape[1]] > 127
    return mask


def _window_sum(integral: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> float:
    return float(integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0])


def _card(photo: Path, crop: Box, area: Box, out: Path, *, radius: float) -> Layer:
    """``crop`` of the photo filling ``area``, with rounded corners and a soft shadow."""
    cw, ch = even(area.w), even(area.h)
    with Image.open(photo) as opened:
        card = opened.convert("RGB").crop((round(crop.x), round(crop.y), round(crop.right), round(crop.bottom)))
    card = card.resize((cw, ch), Image.Resampling.LANCZOS).convert("RGBA")
    mask = Image.new("L", (cw, ch), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, cw - 1, ch - 1), radius=radius, fill=255)
    card.putalpha(mask)
    spread = max(4, round(radius * 1.5))
    shadow = Image.new("RGBA", (cw + 2 * spread, ch + 2 * spread), (0, 0, 0, 0))
    ImageDraw.Draw(shadow).rounded_rectangle((spread, spread + spread // 3, spread + cw, spread + ch + spread // 3),
                                             radius=radius, fill=(0, 0, 0, 120))
    shadow = shadow.filter(ImageFilter.GaussianBlur(spread / 2.5))
    shadow.alpha_composite(card, (spread, spread))
    bx, by = round(area.x) // 2 * 2, round(area.y) // 2 * 2
    shadow.save(out, compress_level=0)
    return Layer(out, bx - spread, by - spread, shadow.width, shadow.height, Box(bx, by, cw, ch))


def _overlap(a: Box, b: Box) -> float:
    return max(0.0, min(a.right, b.right) - max(a.x, b.x)) * max(0.0, min(a.bottom, b.bottom) - max(a.y, b.y))


def focus_of(look: Look, crop: Box) -> tuple[float, float]:
    """The product's centre in fractions of the crop: where a scene's zoom pushes in."""
    cx, cy = look.product_box.center
    return (min(1.0, max(0.0, (cx - crop.x) / crop.w)), min(1.0, max(0.0, (cy - crop.y) / crop.h)))


# -- rhythm --------------------------------------------------------------------------------------

def beat_cuts(total: int, shots: int, beat: float, fps: int, *, first: int = 0) -> list[int]:
    """Frame numbers where each of ``shots`` shots starts (the first at ``first``) within
    ``total`` frames: as even as can be, each cut moved to the nearest beat of the music
    (``beat`` seconds apart, from the video's start), never two cuts on one beat."""
    starts = [first]
    span = total - first
    beat_f = beat * fps
    for k in range(1, shots):
        ideal = first + span * k / shots
        snapped = round(round(ideal / beat_f) * beat_f)
        low = starts[-1] + max(1, round(beat_f))
        high = total - max(1, round(beat_f)) * (shots - k)
        starts.append(min(max(snapped, low), high))
    return starts


def lengths(starts: Sequence[int], total: int) -> list[int]:
    return [b - a for a, b in zip(starts, [*starts[1:], total], strict=True)]
