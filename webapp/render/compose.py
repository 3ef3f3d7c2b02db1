"""Compositions made for each frame: what a product photo is, a cut-out of a packshot, the
crop of a scene that fills a frame, and the pieces a cut-out is staged with (a backdrop in
the brand's colours, a soft shadow, the product's box).

Plain functions over paths, with no model that downloads weights:

- ``analyse`` tells a packshot (a product on a plain or gradient backdrop: its border is
  smooth and a flood fill from it reaches around the product) from a scene, and finds the
  product's box (the flood fill's complement; in a scene, a saliency map of focus and colour
  contrast, since products are photographed sharp against a softer background).
- ``find_product`` finds a product in a scene by the colours of its packshot's cut-out, where
  a saliency map would pick the set's busiest corner.
- ``cut_out`` refines the flood fill with OpenCV's GrabCut, keeps holes of backdrop inside the
  product (a mug's handle) transparent, and writes a feathered RGBA PNG cropped to the product.
- ``fill_crop`` is the crop of a photo that fills a frame's aspect with the product in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .layout import Box

RGB = tuple[int, int, int]

ANALYSIS_SIDE = 320  # analysis runs on a copy this long: enough to find a product, fast
GRABCUT_SIDE = 512  # GrabCut runs on a copy this long, then the mask is refined at full size
# (640 cut the demo packshots no closer, mean IoU 0.978 both, for 1.6x the CPU)
DRAFT_GRABCUT_SIDE = 320  # for instant previews: nearly as close a cut, with a softer edge
GRABCUT_SEED = 1
# its seeds leave GrabCut little to decide: 2 iterations cut the 27 demo packshots as closely as
# 4 (mean IoU 0.9824 and 0.9825, none 0.003 worse) in 0.82 of the CPU
GRABCUT_ITERATIONS = 2
LEAK_WIDTH = 7  # px at GrabCut's size: a band thinner than this along the outline is no leak
MODEL_SIDE = 80  # the backdrop's model is blurred on a copy about this long
# A hole in a packshot's product stays this near the backdrop model (90 % of its pixels); the
# model comes from around the product, and a hole is lit a little otherwise (a mug's handle: 29)
HOLE_DISTANCE = 36
FRINGE_REACH = 4  # px at GrabCut's size: how far past the flood the floor's fringe may lie
FRINGE_STEP = 5  # levels between neighbours in the fringe: a shading, not an outline
FRINGE_SHADES = (0.72, 0.95)  # how much darker than the backdrop shaded floor is
FRINGE_TINT = 5  # levels its colour may stray from the backdrop's, darkened
FRINGE_OUTLINE_STEP = 30  # grey levels from the fringe to what lies beyond it: the product's outline
EDGE_BAND = 3  # px at full size: the outline's band whose colours are pulled in from inside
COLOUR_BINS = np.array((8, 16, 16))  # L*, a*, b*: coarse in lightness (shading), fine in hue
FOUND_AT_LEAST = 0.3  # share of a packshot's colours a scene's box holds when it is that product
FIND_STEPS = 17  # box sizes tried when finding a product in a scene
SHAPE_AT_LEAST = 0.4  # correlation of the product's pattern of colours with the scene's, to frame it by
SHAPE_SPREAD_FLOOR = 0.1  # likeness: the least spread a box of the scene is taken to have
TELLING_HELD = 0.8  # share of the telling colours' box (each way) a box framing the product holds


class PhotoError(ValueError):
    """A product photo that cannot be read or is too small: a clear message, nothing written."""


@dataclass(frozen=True)
class PhotoAnalysis:
    """``kind`` is "packshot" or "scene"; ``product_box`` in the photo's pixels; ``backdrop``
    the colour around the product (a packshot's backdrop, a scene's dominant border colour)."""

    kind: str
    product_box: Box
    backdrop: RGB
    size: tuple[int, int]


@dataclass(frozen=True)
class CutOut:
    """A transparent PNG of the product alone: ``box`` is where it was in the source photo,
    ``size`` the PNG's size (the box's, rounded)."""

    path: Path
    box: Box
    size: tuple[int, int]


def load_photo(path: Path) -> np.ndarray:
    """The photo as an RGB array, turned upright by its EXIF orientation."""
    return _read_photo(path, None)[0]


def load_small(path: Path, side: int) -> tuple[np.ndarray, float, tuple[int, int]]:
    """The photo at most ``side`` long, upright, with its scale to the photo and the photo's
    (upright) size. A JPEG is decoded at the half, quarter or eighth of its size that is just
    long enough (its DCT scaling: several times quicker than decoding it whole to shrink it)."""
    rgb, size = _read_photo(path, side)
    small, _ = _shrink(rgb, side)
    return small, small.shape[1] / size[0], size


def _read_photo(path: Path, side: int | None) -> tuple[np.ndarray, tuple[int, int]]:
    """The photo as an RGB array, upright, decoded at least ``side`` long when JPEG's scaling
    allows, and the upright size of the whole photo."""
    try:
        with Image.open(path) as opened:
            width, height = opened.size
            if opened.getexif().get(0x0112, 1) in (5, 6, 7, 8):  # a quarter turn
                width, height = height, width
            if side is not None and max(width, height) > side:
                shrink = side / max(width, height)
                opened.draft("RGB", (math.ceil(opened.width * shrink), math.ceil(opened.height * shrink)))
            image = ImageOps.exif_transpose(opened)
            image = image.convert("RGB")
    except (OSError, UnidentifiedImageError) as error:
        raise PhotoError(f"{Path(path).name!r} is not an image we can read") from error
    if min(width, height) < 32:
        raise PhotoError(f"{Path(path).name!r} is {width}x{height} pixels; at least 32x32 is needed")
    return np.asarray(image), (width, height)


def _shrink(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    h, w = rgb.shape[:2]
    scale = min(1.0, side / max(h, w))
    if scale == 1.0:
        return rgb, 1.0
    return cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA), scale


def _border(h: int, w: int, width: int) -> np.ndarray:
    ring = np.zeros((h, w), bool)
    ring[:width], ring[-width:], ring[:, :width], ring[:, -width:] = True, True, True, True
    return ring


def _flood_from_border(rgb: np.ndarray, tolerance: float) -> np.ndarray:
    """Pixels reached from the frame's edge through steps of at most ``tolerance`` per channel
    (a floating range: it follows a gradient backdrop and a soft shadow) without crossing an
    edge: a dark product base meeting its own shadow or floor reflection has no colour step
    to stop a flood, but it has an edge."""
    h, w = rgb.shape[:2]
    step = max(1, min(h, w) // 64)
    seeds = ([(x, 0) for x in range(0, w, step)] + [(x, h - 1) for x in range(0, w, step)]
             + [(0, y) for y in range(0, h, step)] + [(w - 1, y) for y in range(0, h, step)])
    return _flood(*_walled(rgb), tolerance, seeds)


def _walled(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The photo smoothed, and a flood mask whose walls are its edges."""
    smooth = cv2.GaussianBlur(rgb, (0, 0), 1.0)
    h, w = smooth.shape[:2]
    edges = cv2.Canny(cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY), 24, 60)
    edges = cv2.dilate(edges, np.ones((2, 2), np.uint8))  # close one-pixel gaps in the outline
    walls = np.zeros((h + 2, w + 2), np.uint8)
    walls[1:-1, 1:-1] = (edges > 0).astype(np.uint8)  # non-zero: a wall the fill stops at
    return smooth, walls


def _flood(smooth: np.ndarray, walls: np.ndarray, tolerance: float, seeds: list[tuple[int, int]]) -> np.ndarray:
    """Pixels reached from the (x, y) ``seeds`` without crossing a wall (``_walled``)."""
    mask = walls.copy()
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8)
    diff = (tolerance,) * 3
    for x, y in seeds:
        if not mask[y + 1, x + 1]:
            cv2.floodFill(smooth, mask, (x, y), 0, diff, diff, flags)
    return mask[1:-1, 1:-1] == 255


def _holes_of_backdrop(rgb: np.ndarray, enclosed_near: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """The backdrop seen through the product (the hole of a mug's handle). Lit otherwise than
    around the product, only part of it is near the backdrop model there: each such part (of
    at least a thousandth of the photo) is flooded up to its outline, and the flood is a hole
    when nearly all of it stays near the model. A flood into the product itself (a cream vase
    on a cream sweep) goes far from the model, and is left alone."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(enclosed_near.astype(np.uint8), connectivity=4)
    deepest = cv2.distanceTransform(enclosed_near.astype(np.uint8), cv2.DIST_L2, 3)
    holes = np.zeros_like(enclosed_near)
    parts = 1 + np.nonzero(stats[1:, cv2.CC_STAT_AREA] >= enclosed_near.size // 1000)[0]
    if not len(parts):
        return holes
    walled = _walled(rgb)
    for label in parts:
        at = int(np.argmax(np.where(labels == label, deepest, 0)))  # the farthest from its outline
        flood = _flood(*walled, 3.0, [(at % rgb.shape[1], at // rgb.shape[1])])
        if flood.any() and np.percentile(distance[flood], 90) < HOLE_DISTANCE:
            holes |= flood
    return holes


def _backdrop_model(rgb: np.ndarray, background: np.ndarray) -> np.ndarray:
    """The backdrop behind every pixel, estimated from the pixels known to be backdrop around
    it (a normalised blur: pools of light and vignettes are local), falling back to their
    median where none are near."""
    h, w = rgb.shape[:2]
    known = background.astype(np.float32)
    if known.sum() < 12:
        return np.broadcast_to(np.median(rgb.reshape(-1, 3), 0), rgb.shape).astype(np.float32)
    # The blur is wide (12 % of the photo), so it is as good run on a copy an eighth the size
    # and scaled back, at a thirtieth of the cost.
    shrink = max(1, max(h, w) // MODEL_SIDE)
    small_size = (max(1, w // shrink), max(1, h // shrink))
    sigma = max(small_size) * 0.12

    def blurred(a: np.ndarray) -> np.ndarray:
        small = cv2.resize(a, small_size, interpolation=cv2.INTER_AREA)
        return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma), (w, h), interpolation=cv2.INTER_LINEAR)

    weight = blurred(known)
    total = blurred(rgb.astype(np.float32) * known[..., None])
    median = np.median(rgb[background], 0).astype(np.float32)
    near = np.clip(weight / 0.005, 0, 1)[..., None]
    return total / np.maximum(weight, 1e-6)[..., None] * near + median * (1 - near)


def _border_residual(rgb: np.ndarray, ring: np.ndarray) -> float:
    """How far the frame's border is from one smooth surface (a quadratic in x and y per
    channel): a few levels for a studio backdrop, tens for a scene."""
    h, w = rgb.shape[:2]
    ys, xs = np.nonzero(ring)
    x, y = xs / w, ys / h
    terms = np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], -1)
    values = rgb[ys, xs].astype(np.float64)
    coeffs, *_ = np.linalg.lstsq(terms, values, rcond=None)
    return float(np.abs(terms @ coeffs - values).mean())


def _keep_main_parts(mask: np.ndarray, min_fraction: float = 0.04) -> np.ndarray:
    """The largest connected part and any other part at least ``min_fraction`` of its size
    (a product in two pieces), without specks."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return mask.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.nonzero(areas >= areas.max() * min_fraction)[0]
    return np.isin(labels, keep)


def _box_of(mask: np.ndarray, scale: float) -> Box:
    ys, xs = np.nonzero(mask)
    return Box(xs.min() / scale, ys.min() / scale, (xs.max() + 1 - xs.min()) / scale, (ys.max() + 1 - ys.min()) / scale)


def _saliency(rgb: np.ndarray) -> np.ndarray:
    """Where the eye goes in a scene: sharp detail (products are in focus, backgrounds soft)
    and colour that stands out from the photo's average, with a weak pull to the middle."""
    h, w = rgb.shape[:2]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    sigma = max(h, w) * 0.03
    focus = cv2.GaussianBlur(np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=3)), (0, 0), sigma)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    distinct = cv2.GaussianBlur(np.linalg.norm(lab - lab.reshape(-1, 3).mean(0), axis=-1), (0, 0), sigma)
    yy, xx = np.mgrid[0:h, 0:w]
    centre = 0.75 + 0.25 * np.exp(-(((xx / w - 0.5) / 0.35) ** 2 + ((yy / h - 0.5) / 0.35) ** 2))

    def unit(a: np.ndarray) -> np.ndarray:
        return (a - a.min()) / max(1e-6, float(a.max() - a.min()))

    return (0.6 * unit(focus) + 0.4 * unit(distinct)) * centre


def _one_object(foreground: np.ndarray) -> bool:
    """One thing stands on the backdrop, not a set with several (a kitchen's chopping board
    beside the bottle): one part holds nearly all of it, also once thin joins are cut (the
    counter's back edge ran from the board to the bottle; a lamp's arm is thicker)."""
    joined = foreground.astype(np.uint8)
    cut = cv2.morphologyEx(joined, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    for mask in (joined, cut):
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if count < 2 or stats[1:, cv2.CC_STAT_AREA].max() < 0.85 * stats[1:, cv2.CC_STAT_AREA].sum():
            return False
    return True


def analyse(path: Path) -> PhotoAnalysis:
    """What the photo is and where its product is."""
    small, scale, (width, height) = load_small(path, ANALYSIS_SIDE)
    h, w = small.shape[:2]
    ring = _border(h, w, max(2, min(h, w) // 50))
    background = _flood_from_border(small, 3.0)
    residual = _border_residual(small, ring)
    reached = float(background[ring].mean())
    foreground = _keep_main_parts(~background)
    fg_share = float(foreground.mean())
    if reached >= 0.9 and residual < 6 and 0.02 <= fg_share <= 0.85 and _one_object(foreground):
        backdrop = tuple(int(c) for c in np.median(small[background], 0))
        return PhotoAnalysis("packshot", _box_of(foreground, scale), backdrop, (width, height))  # type: ignore[arg-type]
    saliency = _saliency(small)
    hot = saliency >= saliency.max() * 0.55
    _, labels = cv2.connectedComponents(hot.astype(np.uint8))
    peak = np.unravel_index(np.argmax(saliency), saliency.shape)
    region = labels == labels[peak]
    box = _box_of(region, scale)
    backdrop = tuple(int(c) for c in np.median(small[ring], 0))
    return PhotoAnalysis("scene", box, backdrop, (width, height))  # type: ignore[arg-type]


def _colours(lab: np.ndarray) -> np.ndarray:
    """The share of ``lab`` pixels (n x 3, OpenCV's 8-bit L*a*b*) in each colour bin."""
    counts = np.bincount(_bin_of(lab).ravel(), minlength=int(COLOUR_BINS.prod())).astype(np.float32)
    return counts / max(1, len(lab))


def _bin_of(lab: np.ndarray) -> np.ndarray:
    """The colour bin of each L*a*b* pixel (the last axis), as one flat index."""
    bins = lab.astype(np.int32) * COLOUR_BINS // 256
    return (bins[..., 0] * COLOUR_BINS[1] + bins[..., 1]) * COLOUR_BINS[2] + bins[..., 2]


def find_product(path: Path, cutout: Path) -> Box | None:
    """Where the product of ``cutout`` (the transparent PNG of a packshot of it) stands in the
    scene at ``path``. Its colours tell whether it is there (Swain and Ballard's ratio
    histogram, back-projected): the box of the cut-out's shape that holds most of them beyond
    their usual share of the scene, None when that box holds too little of them (another
    product, or colours the whole scene is made of). A scene's saliency finds what is sharp and
    colourful, which is often the set (a row of books) rather than a smooth product; the
    product's colours do not. Its shape then frames it whole: where its telling colours lie on
    the cut-out (a lamp's shade, above an arm and a base the colour of the desk) is matched to
    where they lie in the scene, so the box grows from the part that tells to the product."""
    small, scale, _ = load_small(path, ANALYSIS_SIDE)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)
    with Image.open(cutout) as opened:
        pw, ph = opened.size
        opened.thumbnail((ANALYSIS_SIDE // 2, ANALYSIS_SIDE // 2), Image.Resampling.BOX)
        product = np.asarray(opened.convert("RGBA"))
    opaque = product[..., 3] > 200
    if opaque.sum() < 16:
        return None
    product_lab = cv2.cvtColor(np.ascontiguousarray(product[..., :3]), cv2.COLOR_RGB2LAB)
    wanted = _colours(product_lab[opaque])
    usual = _colours(lab.reshape(-1, 3))
    ratio = np.minimum(wanted / np.maximum(usual, 1e-9), 1.0).astype(np.float32)
    likeness = ratio[_bin_of(lab)]
    found = _richest_box(likeness, pw / ph)
    if found is None:
        return None
    x, y, bw, bh = found
    held = _colours(lab[y:y + bh, x:x + bw].reshape(-1, 3))
    if float(np.minimum(wanted, held).sum()) < FOUND_AT_LEAST:
        return None
    pattern = ratio[_bin_of(product_lab)] * (product[..., 3] / np.float32(255))
    x, y, bw, bh = _shaped_box(likeness, pattern, found) or found
    return Box(x / scale, y / scale, bw / scale, bh / scale)


def _box_sizes(h: int, w: int, aspect: float):
    """The boxes of ``aspect`` (width / height) tried in an ``h`` x ``w`` scene: every height
    from 15 % to 95 % of the scene's, in FIND_STEPS, that fits its width."""
    for share in np.linspace(0.15, 0.95, FIND_STEPS):
        bh = int(h * share)
        bw = round(bh * aspect)
        if 4 <= bw <= w:
            yield bw, bh


def _window_sums(summed: np.ndarray, bw: int, bh: int) -> np.ndarray:
    """The sum of every ``bw`` x ``bh`` window, from the integral image ``summed``."""
    return summed[bh:, bw:] - summed[:-bh, bw:] - summed[bh:, :-bw] + summed[:-bh, :-bw]


def _richest_box(likeness: np.ndarray, aspect: float) -> tuple[int, int, int, int] | None:
    """The box of ``aspect`` that holds the most likeness above twice the scene's mean: big
    enough to hold the product's telling colours, no bigger; at every size and place."""
    h, w = likeness.shape
    summed = cv2.integral((likeness - 2 * likeness.mean()).astype(np.float64))
    best, found = -np.inf, None
    for bw, bh in _box_sizes(h, w, aspect):
        sums = _window_sums(summed, bw, bh)
        y, x = np.unravel_index(np.argmax(sums), sums.shape)
        if sums[y, x] > best:
            best, found = sums[y, x], (int(x), int(y), bw, bh)
    return found


def _shaped_box(likeness: np.ndarray, pattern: np.ndarray,
                telling: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """The box where ``pattern`` (the product's likeness on its cut-out) correlates best with
    the scene's ``likeness``, at every size, among those that hold the ``telling`` box; None
    when none correlates clearly. The correlation is normalised with a floor under the scene's
    spread, so that a flat stretch of the scene matches nothing."""
    h, w = likeness.shape
    s1, s2 = cv2.integral2(likeness.astype(np.float64))
    tx, ty, tw, th = telling
    best, found = SHAPE_AT_LEAST, None
    for bw, bh in _box_sizes(h, w, pattern.shape[1] / pattern.shape[0]):
        # only the places whose box holds most of the telling box
        x_low, x_high = max(0, tx + round(tw * TELLING_HELD) - bw), min(w - bw, tx + round(tw * (1 - TELLING_HELD)))
        y_low, y_high = max(0, ty + round(th * TELLING_HELD) - bh), min(h - bh, ty + round(th * (1 - TELLING_HELD)))
        if x_low > x_high or y_low > y_high:
            continue
        template = cv2.resize(pattern, (bw, bh), interpolation=cv2.INTER_AREA)
        template -= template.mean()
        norm = float(np.sqrt((template * template).sum()))
        if norm < 1e-6:
            continue
        n = bw * bh
        places = np.s_[y_low:y_high + 1, x_low:x_high + 1]
        sums = _window_sums(s1, bw, bh)[places]
        spread = np.maximum(_window_sums(s2, bw, bh)[places] - sums * sums / n, n * SHAPE_SPREAD_FLOOR ** 2)
        held = likeness[y_low:y_high + bh, x_low:x_high + bw]
        score = cv2.matchTemplate(held, template, cv2.TM_CCORR) / (norm * np.sqrt(spread)).astype(np.float32)
        y, x = np.unravel_index(np.argmax(score), score.shape)
        if score[y, x] > best:
            best, found = float(score[y, x]), (int(x + x_low), int(y + y_low), bw, bh)
    return found


def cut_out(path: Path, out_png: Path, *, draft: bool = False) -> CutOut:
    """Cut the product out of a packshot into a transparent PNG cropped to it (with a small
    margin for the feathered edge). ``draft``: GrabCut on a smaller copy, in less than half the
    time, for an instant preview, whose 360p does not show its softer edge."""
    rgb = load_photo(path)
    height, width = rgb.shape[:2]
    small, scale = _shrink(rgb, DRAFT_GRABCUT_SIDE if draft else GRABCUT_SIDE)
    h, w = small.shape[:2]
    flooded = _without_leaks(_flood_from_border(small, 3.0), rgb)
    model = _backdrop_model(small, flooded)
    distance = _largest_channel(np.abs(small.astype(np.float32) - model))
    # Seeds for GrabCut: backdrop reached from the border is certain; anything enclosed that
    # matches the backdrop model (the hole of a handle) is probably backdrop; the rest is
    # probably product, and its eroded core certainly is.
    seeds = np.full((h, w), cv2.GC_PR_FGD, np.uint8)
    near_backdrop = distance < 24  # also a faint floor reflection
    near_backdrop |= _holes_of_backdrop(small, near_backdrop & ~flooded, distance)
    seeds[near_backdrop] = cv2.GC_PR_BGD
    certain_bg = cv2.erode(flooded.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2).astype(bool)
    seeds[certain_bg] = cv2.GC_BGD
    seeds[_floor_fringe(small, flooded, model)] = cv2.GC_BGD
    product = _keep_main_parts(~flooded & ~near_backdrop)
    if product.sum() < 0.005 * h * w:
        raise PhotoError(f"no product stands out from the backdrop of {Path(path).name!r}")
    core = cv2.erode(product.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=max(2, min(h, w) // 80))
    seeds[core > 0] = cv2.GC_FGD
    # GrabCut decides only what is uncertain: it runs on the box around that, with a margin of
    # certain backdrop (a fifth of the photo: a narrower one misjudged a shadowed sole) to learn
    # the backdrop's colours from, not on the whole photo.
    ys, xs = np.nonzero(seeds != cv2.GC_BGD)
    margin = max(8, min(h, w) // 5)
    y0, y1 = max(0, ys.min() - margin), min(h, ys.max() + 1 + margin)
    x0, x1 = max(0, xs.min() - margin), min(w, xs.max() + 1 + margin)
    region = np.ascontiguousarray(seeds[y0:y1, x0:x1])
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(GRABCUT_SEED)  # its k-means starts from this thread's random state: the same cut every time
    cv2.grabCut(cv2.cvtColor(np.ascontiguousarray(small[y0:y1, x0:x1]), cv2.COLOR_RGB2BGR), region, None, bgd, fgd,
                GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    seeds[y0:y1, x0:x1] = region
    mask = _keep_main_parts((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD))
    # back to full size: a smooth contour (bilinear, blurred, halved), then a feathered edge
    soft = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    soft = cv2.GaussianBlur(soft, (0, 0), max(0.8, 0.5 / scale))
    alpha = cv2.GaussianBlur((soft >= 0.5).astype(np.float32), (0, 0), max(0.7, 0.35 / scale))
    return _write_cutout(rgb, alpha, out_png)


def _largest_channel(a: np.ndarray) -> np.ndarray:
    """``a.max(-1)`` of an RGB array, in a third of the time (numpy reduces a 3-long axis slowly)."""
    return np.maximum(np.maximum(a[..., 0], a[..., 1]), a[..., 2])


def _floor_fringe(rgb: np.ndarray, flooded: np.ndarray, model: np.ndarray) -> np.ndarray:
    """The floor the flood stopped short of: a strip a few pixels wide under an overhang (where
    an ear cup meets its pad), that the flood's walls (the outline's edges, dilated) kept it
    from, and that GrabCut, which has learnt light greys from the product's metal, would keep.
    It is found from the flood's edge through small steps of shaded floor (the backdrop's own
    colour, darker) and kept where a sharp step parts it from what lies beyond: the product's
    outline. A light product's own soft edge runs on into the product instead, and stays."""
    h, w = flooded.shape
    pixel, floor = rgb.astype(np.float32), np.maximum(model, 1.0)
    shade = (pixel * floor).sum(-1) / (floor * floor).sum(-1)  # the backdrop's colour times this
    shaded_floor = ((shade > FRINGE_SHADES[0]) & (shade < FRINGE_SHADES[1])
                    & (_largest_channel(np.abs(pixel - shade[..., None] * floor)) < FRINGE_TINT))
    flood8 = flooded.astype(np.uint8)
    near = cv2.dilate(flood8, np.ones((3, 3), np.uint8), iterations=FRINGE_REACH) > 0
    mask = np.ones((h + 2, w + 2), np.uint8)  # non-zero: a wall, or the flood itself
    mask[1:-1, 1:-1] = (~near | ~shaded_floor | flooded).astype(np.uint8)
    smooth = cv2.GaussianBlur(rgb, (0, 0), 0.7)
    signed = smooth.astype(np.int16)
    diff = (FRINGE_STEP,) * 3
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):  # seeds: open pixels one small step from the flood
        beside = np.roll(flood8, (dy, dx), (0, 1)).astype(bool)
        step = _largest_channel(np.abs(signed - np.roll(signed, (dy, dx), (0, 1))))
        for y, x in zip(*np.nonzero(beside & (step <= FRINGE_STEP) & (mask[1:-1, 1:-1] == 0)), strict=True):
            if mask[y + 1, x + 1] == 0:
                cv2.floodFill(smooth, mask, (int(x), int(y)), 0, diff, diff, 4 | cv2.FLOODFILL_MASK_ONLY | (255 << 8))
    reached = mask[1:-1, 1:-1] == 255
    count, labels, stats, _ = cv2.connectedComponentsWithStats(reached.astype(np.uint8), connectivity=8)
    grey = cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY).astype(np.float32)
    fringe = np.zeros_like(reached)
    for label in range(1, count):
        x, y, bw, bh = stats[label, :4]
        window = np.s_[max(0, y - 2):y + bh + 2, max(0, x - 2):x + bw + 2]  # the part and two pixels round it
        part = labels[window] == label
        beyond = (cv2.dilate(part.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2) > 0) & ~part & ~flooded[window]
        if beyond.any() and abs(float(np.median(grey[window][beyond]) - np.median(grey[window][part]))) > FRINGE_OUTLINE_STEP:
            fringe[window] |= part
    return fringe


def _without_leaks(flooded: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """The flood less what leaked into the product. A flood at GrabCut's size can slip
    through a one-pixel gap in a soft outline (a canvas tote's seam with its shadow) and fill
    the product; at the analysis size the outline is solid. What only the fine flood reaches
    is a thin band along the outline (the two sizes' rounding), or a leak: a blob."""
    h, w = flooded.shape
    coarse = _flood_from_border(_shrink(rgb, ANALYSIS_SIDE)[0], 3.0)
    coarse = cv2.resize(coarse.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    only_fine = (flooded & ~coarse).astype(np.uint8)
    blobs = cv2.morphologyEx(only_fine, cv2.MORPH_OPEN, np.ones((LEAK_WIDTH, LEAK_WIDTH), np.uint8))
    if not blobs.any():
        return flooded
    _, labels = cv2.connectedComponents(only_fine, connectivity=8)
    leaked = np.isin(labels, np.unique(labels[blobs > 0]))
    return flooded & ~leaked


def _decontaminated(rgb: np.ndarray, alpha8: np.ndarray) -> np.ndarray:
    """The colours of the product's outline pulled in from just inside it. The photo's pixels
    along the outline mix in the backdrop: kept as they are, a light backdrop leaves a bright
    rim around the product on a dark stage. A part too thin to have an inside keeps its own."""
    solid = (alpha8 >= 128).astype(np.uint8)
    inside = cv2.erode(solid, np.ones((3, 3), np.uint8), iterations=EDGE_BAND)
    weight = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), EDGE_BAND)
    pulled = cv2.GaussianBlur(rgb.astype(np.float32) * inside[..., None], (0, 0), EDGE_BAND)
    band = (alpha8 > 0) & (inside == 0) & (weight > 0.02)
    out = rgb.copy()
    out[band] = np.clip(pulled[band] / weight[band][:, None] + 0.5, 0, 255).astype(np.uint8)
    return out


def _write_cutout(rgb: np.ndarray, alpha: np.ndarray, out_png: Path) -> CutOut:
    alpha8 = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    ys, xs = np.nonzero(alpha8 > 8)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    alpha8 = alpha8[y0:y1, x0:x1]
    rgba = np.dstack([_decontaminated(rgb[y0:y1, x0:x1], alpha8), alpha8])
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgba).save(out_png, compress_level=1)
    return CutOut(out_png, Box(float(x0), float(y0), float(x1 - x0), float(y1 - y0)), (int(x1 - x0), int(y1 - y0)))


# -- crops ---------------------------------------------------------------------------------------

def aspect_ratio(frame_aspect: float | str) -> float:
    """Width over height from 1.5, "16:9" or "9:16"."""
    if isinstance(frame_aspect, str):
        try:
            w, h = (float(part) for part in frame_aspect.split(":"))
        except ValueError as error:
            raise ValueError(f"an aspect ratio looks like 16:9, not {frame_aspect!r}") from error
        frame_aspect = w / h
    if not 0.2 <= frame_aspect <= 5:
        raise ValueError(f"aspect ratio {frame_aspect} is out of range")
    return float(frame_aspect)


def fill_crop(image_size: tuple[int, int], product_box: Box, frame_aspect: float | str) -> Box:
    """The largest crop of the photo with the frame's aspect (so the frame is filled, no bars)
    that keeps the product in, as near the crop's centre as the photo's edges allow. When the
    product is wider (or taller) than any such crop, the crop is centred on the product."""
    width, height = image_size
    aspect = aspect_ratio(frame_aspect)
    if width / height > aspect:
        cw, ch = height * aspect, float(height)
    else:
        cw, ch = float(width), width / aspect
    cx, cy = product_box.center

    def place(centre: float, size: float, limit: float, low: float, high: float) -> float:
        start = centre - size / 2
        if high - low <= size:  # the product fits: keep all of it in
            start = min(max(start, high - size), low)
        return min(max(start, 0.0), limit - size)

    x = place(cx, cw, width, product_box.x, product_box.right)
    y = place(cy, ch, height, product_box.y, product_box.bottom)
    return Box(x, y, cw, ch)


def scene_crop(path: Path, frame_aspect: float | str) -> Box:
    """``fill_crop`` of a photo around the product ``analyse`` finds in it."""
    analysis = analyse(path)
    return fill_crop(analysis.size, analysis.product_box, frame_aspect)


# -- staging a cut-out ---------------------------------------------------------------------------

def is_tall(width: int, height: int) -> bool:
    return height / width > 1.2


def product_stage(width: int, height: int, cutout_size: tuple[int, int]) -> Box:
    """Where a cut-out product stands in a frame, leaving room for text:
    9:16 — centred, at least half the frame's height (unless that would make it wider than
    90 % of the frame), its top under the platforms' top bar; 16:9 — the right half, up to
    78 % of the height, text on the left; 1:1 — centred in the upper part, text below."""
    cw, ch = cutout_size
    ratio = cw / ch
    if is_tall(width, height):
        box_h = max(0.5 * height, min(0.56 * height, 0.9 * width / ratio))
        box_h = min(box_h, 0.9 * width / ratio)
        box_w = box_h * ratio
        return Box((width - box_w) / 2, 0.14 * height + (0.56 * height - box_h) / 2, box_w, box_h)
    if width / height > 1.2:
        box_h = min(0.78 * height, 0.46 * width / ratio)
        box_w = box_h * ratio
        return Box(0.74 * width - box_w / 2, 0.88 * height - box_h, box_w, box_h)
    box_h = min(0.6 * height, 0.8 * width / ratio)
    box_w = box_h * ratio
    return Box((width - box_w) / 2, 0.08 * height + (0.6 * height - box_h), box_w, box_h)


def _mix(a: RGB, b: RGB, t: float) -> np.ndarray:
    return np.array(a, np.float32) * (1 - t) + np.array(b, np.float32) * t


def backdrop_png(width: int, height: int, primary: RGB, accent: RGB, out_png: Path, *,
                 light_at: tuple[float, float] = (0.5, 0.45), floor_at: float = 0.72, dark: bool | None = None) -> Path:
    """A full-frame backdrop in the brand's colours, like a paper sweep in a studio: the wall
    a tint (or, for a dark primary, a deep shade) of the primary, a floor that curves up into
    it at ``floor_at`` of the height, a pool of light at ``light_at`` warmed by the accent,
    darker corners, and fine grain so the gradients do not band once encoded."""
    luminance = (0.2126 * primary[0] + 0.7152 * primary[1] + 0.0722 * primary[2]) / 255
    dark = luminance < 0.25 if dark is None else dark
    if dark:
        wall, floor = _mix(primary, (0, 0, 0), 0.35), _mix(primary, (255, 255, 255), 0.08)
        glow = _mix(accent, primary, 0.55)
    else:
        wall, floor = _mix(primary, (255, 255, 255), 0.84), _mix(primary, (255, 255, 255), 0.93)
        glow = _mix(accent, (255, 255, 255), 0.75)
    sw, sh = max(2, width // 4), max(2, height // 4)
    y = np.linspace(0, 1, sh, dtype=np.float32)[:, None, None]
    x = np.linspace(0, 1, sw, dtype=np.float32)[None, :, None]
    sweep = np.clip((y - (floor_at - 0.18)) / 0.3, 0, 1)
    sweep = sweep * sweep * (3 - 2 * sweep)
    image = wall * (1 - sweep) + floor * sweep
    ratio = width / height
    pool = np.exp(-(((x - light_at[0]) * ratio) ** 2 + (y - light_at[1]) ** 2) / 0.12)
    image = image * (1 - 0.5 * pool) + glow * 0.5 * pool + (8 if not dark else 14) * pool
    vignette = 1 - 0.28 * (((x - 0.5) * 1.5) ** 2 + ((y - 0.5) * 1.4) ** 2)
    image = cv2.resize(image * vignette, (width, height), interpolation=cv2.INTER_LINEAR)
    rng = np.random.default_rng(width * 7919 + height)
    tile = rng.normal(0, 1.6, (128, 128)).astype(np.float32)
    image += np.tile(tile, (height // 128 + 1, width // 128 + 1))[:height, :width, None]
    out_png = Path(out_png)
    Image.fromarray(np.clip(image + 0.5, 0, 255).astype(np.uint8)).save(out_png, compress_level=0)
    return out_png


def soft_shadow(cutout: Image.Image, box: Box, *, strength: float = 1.0) -> tuple[Image.Image, Box]:
    """A soft shadow for a cut-out (RGBA, at any size) standing at ``box`` (frame pixels), and
    where it goes in the frame: a tight contact shadow under its footprint and a broad soft one,
    both flattened onto the floor. Drawn at a quarter of the size (it is all blur) and cropped
    to where it shows."""
    alpha = np.asarray(cutout.getchannel("A"), np.float32) / 255
    rows = max(2, alpha.shape[0] // 25)
    foot = alpha[-rows:].max(0) > 0.5
    cols = np.nonzero(foot)[0]
    left, right = (cols.min(), cols.max() + 1) if len(cols) else (0, alpha.shape[1])
    sx = box.w / alpha.shape[1]
    foot_w = (right - left) * sx
    foot_cx = box.x + (left + right) / 2 * sx
    rx, ry = foot_w * 0.55, max(4.0, foot_w * 0.08)
    pad = int(rx * 0.6 + ry * 4)
    w, h = int(2 * rx + 2 * pad), int(2 * ry + 2 * pad)
    q = 0.25
    sw, sh = max(8, round(w * q)), max(8, round(h * q))
    canvas = np.zeros((sh, sw), np.float32)
    cv2.ellipse(canvas, (sw // 2, sh // 2), (max(1, int(rx * q)), max(1, int(ry * q))), 0, 0, 360, 0.55, -1)
    shadow = cv2.GaussianBlur(canvas, (0, 0), max(0.6, ry * 0.4 * q))
    wide = np.zeros_like(canvas)
    cv2.ellipse(wide, (sw // 2, sh // 2 - int(ry * 0.4 * q)), (max(1, int(rx * 1.35 * q)), max(1, int(ry * 2.2 * q))),
                0, 0, 360, 0.35, -1)
    shadow = np.clip((shadow + cv2.GaussianBlur(wide, (0, 0), max(1.0, rx * 0.25 * q))) * strength, 0, 0.85)
    shadow = cv2.resize(shadow, (w, h), interpolation=cv2.INTER_CUBIC)
    alpha8 = np.clip(shadow * 255 + 0.5, 0, 255).astype(np.uint8)
    ys, xs = np.nonzero(alpha8 >= 3)  # the faint tail is invisible: cropped, it costs nothing to draw
    x0, y0, x1, y1 = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1) if len(xs) else (0, 0, w, h)
    rgba = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
    rgba[..., 3] = alpha8[y0:y1, x0:x1]
    where = Box(foot_cx - w / 2 + x0, box.bottom - h / 2 - ry * 0.3 + y0, float(x1 - x0), float(y1 - y0))
    return Image.fromarray(rgba), where
