"""Photo analysis, cut-outs and crops, scored against the demo generator's true silhouettes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from webapp.catalog.demo import DEMO_PRODUCTS, demo_shot
from webapp.render.compose import (
    PhotoError,
    analyse,
    backdrop_png,
    cut_out,
    fill_crop,
    find_product,
    product_stage,
    soft_shadow,
)
from webapp.render.layout import Box
from webapp.render.stage import Look, with_products_found

PACKSHOTS = [(p.key, i) for p in DEMO_PRODUCTS for i, s in enumerate(p.shots) if s.kind == "packshot"]
SCENES = [(p.key, i) for p in DEMO_PRODUCTS for i, s in enumerate(p.shots) if s.kind == "scene"]
# Cut-outs that score below 0.9 today: a lamp's glow.
KNOWN_WEAK = {("aurora-lamp", 0)}


def _save(tmp_path, key, position):
    shot = demo_shot(key, position)
    path = tmp_path / f"{key}-{position}.jpg"
    shot.image.save(path, quality=90)
    return shot, path


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _cover(box: Box, inner: Box) -> float:
    w = max(0.0, min(box.right, inner.right) - max(box.x, inner.x))
    h = max(0.0, min(box.bottom, inner.bottom) - max(box.y, inner.y))
    return w * h / (inner.w * inner.h)


@pytest.mark.parametrize("key,position", [
    pytest.param(k, i, marks=pytest.mark.xfail(strict=True, reason="known weak cut-out")) if (k, i) in KNOWN_WEAK
    else (k, i) for k, i in PACKSHOTS if i == 0 or (k, i) in KNOWN_WEAK
])
@pytest.mark.parametrize("draft", [False, True], ids=["full", "draft"])
def test_cut_out_matches_the_true_silhouette(tmp_path, key, position, draft):
    shot, path = _save(tmp_path, key, position)
    cut = cut_out(path, tmp_path / "cut.png", draft=draft)
    with Image.open(cut.path) as png:
        assert png.mode == "RGBA" and png.size == cut.size
        rgba = np.asarray(png)
    alpha = np.zeros(shot.mask.shape, bool)
    x, y = int(cut.box.x), int(cut.box.y)
    alpha[y:y + rgba.shape[0], x:x + rgba.shape[1]] = rgba[..., 3] > 127
    assert _iou(alpha, shot.mask) >= 0.9
    assert 0 < (rgba[..., 3] % 255).sum()  # a feathered edge, not a hard stencil


@pytest.mark.parametrize("position", [0, 2])
def test_the_hole_of_a_mug_handle_is_transparent_all_through(tmp_path, position):
    """The hole shows the backdrop lit brighter than around the mug: a cream blob stayed in it
    (on the paper sweep, the whole hole)."""
    shot, path = _save(tmp_path, "nimbus-mug", position)
    cut = cut_out(path, tmp_path / "mug.png")
    rgba = np.asarray(Image.open(cut.path))
    alpha = np.zeros(shot.mask.shape, np.uint8)
    x, y = int(cut.box.x), int(cut.box.y)
    alpha[y:y + rgba.shape[0], x:x + rgba.shape[1]] = rgba[..., 3]
    # the hole: what the true silhouette's outline encloses, a margin in from its edge
    filled = shot.mask.astype(np.uint8).copy()
    flood = np.zeros((filled.shape[0] + 2, filled.shape[1] + 2), np.uint8)
    cv2.floodFill(filled, flood, (0, 0), 2)
    hole = cv2.erode((filled == 0).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert hole.sum() > 500
    assert (alpha[hole] < 30).mean() > 0.98


@pytest.mark.parametrize("key,position", [("orbit-headphones", 0), ("trail-pack", 2)])
def test_the_floor_under_an_overhang_is_not_cut_out_with_the_product(tmp_path, key, position):
    """Where an ear cup meets its pad, or a bag's bottom curves over the floor, a strip of
    shaded floor sat between the flood and the product's outline, and GrabCut kept it: a light
    grey crescent under the product on a dark stage (673 and 771 pixels). Now nothing of the
    floor larger than a speck (after a 3x3 opening) is kept beyond the true silhouette."""
    shot, path = _save(tmp_path, key, position)
    cut = cut_out(path, tmp_path / "cut.png")
    rgba = np.asarray(Image.open(cut.path))
    alpha = np.zeros(shot.mask.shape, bool)
    x, y = int(cut.box.x), int(cut.box.y)
    alpha[y:y + rgba.shape[0], x:x + rgba.shape[1]] = rgba[..., 3] > 127
    kept_floor = cv2.morphologyEx((alpha & ~shot.mask).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(kept_floor)
    assert count == 1 or stats[1:, cv2.CC_STAT_AREA].max() < 300


@pytest.mark.parametrize("key", ["nimbus-mug", "trail-pack", "orbit-headphones", "stride-sneaker", "echo-speaker"])
def test_the_outline_of_a_cut_out_carries_no_backdrop(tmp_path, key):
    """Placed on a dark stage, a product cut from a light sweep had a bright broken rim: the
    photo's pixels along its outline mix in the backdrop. Along the outline (3 px in from the
    half-opaque edge), the colours are the product's, not the sweep's: of the pixels where the
    two differ, about a quarter were nearer the sweep."""
    shot, path = _save(tmp_path, key, 0)
    photo = np.asarray(shot.image.convert("RGB"), np.float32)
    sweep = np.median(np.concatenate([photo[:8].reshape(-1, 3), photo[:, :8].reshape(-1, 3),
                                      photo[:, -8:].reshape(-1, 3)]), 0)
    rgba = np.asarray(Image.open(cut_out(path, tmp_path / "cut.png").path))
    rgb = rgba[..., :3].astype(np.float32)
    solid = (rgba[..., 3] >= 128).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    outline = (solid > 0) & (cv2.erode(solid, kernel, iterations=3) == 0)
    inside = cv2.erode(solid, kernel, iterations=6).astype(np.float32)
    weight = cv2.GaussianBlur(inside, (0, 0), 4)
    near_inside = cv2.GaussianBlur(rgb * inside[..., None], (0, 0), 4) / np.maximum(weight, 1e-6)[..., None]
    judged = outline & (weight > 0.02) & (np.abs(near_inside - sweep).max(-1) > 60)
    nearer_sweep = judged & (np.abs(rgb - sweep).max(-1) < np.abs(rgb - near_inside).max(-1))
    assert judged.sum() > 500
    assert nearer_sweep.sum() / judged.sum() < 0.03


@pytest.mark.parametrize("key,position", [("nimbus-mug", 0), ("stride-sneaker", 0), ("summit-bottle", 0),
                                          ("orbit-headphones", 2)])
def test_packshots_are_recognised_with_their_product_box(tmp_path, key, position):
    shot, path = _save(tmp_path, key, position)
    analysis = analyse(path)
    assert analysis.kind == "packshot"
    true = shot.product_box
    assert _cover(analysis.product_box, true) > 0.97
    assert analysis.product_box.w * analysis.product_box.h < 1.15 * true.w * true.h


@pytest.mark.parametrize("key,position", SCENES)
def test_scenes_are_recognised_as_scenes(tmp_path, key, position):
    """The Summit bottle's kitchen was taken for a packshot, and cut out with its chopping
    board: the counter's back edge joined the two."""
    _, path = _save(tmp_path, key, position)
    assert analyse(path).kind == "scene"


@pytest.mark.parametrize("aspect", ["16:9", "9:16", "1:1"])
@pytest.mark.parametrize("image_size,product", [((1600, 1067), Box(1100, 500, 200, 400)),
                                                 ((1067, 1600), Box(80, 200, 300, 300)),
                                                 ((1200, 1200), Box(500, 900, 200, 250))])
def test_a_fill_crop_has_the_frame_aspect_and_contains_the_product(aspect, image_size, product):
    crop = fill_crop(image_size, product, aspect)
    w, h = (float(n) for n in aspect.split(":"))
    assert crop.w / crop.h == pytest.approx(w / h, rel=1e-6)
    assert Box(0, 0, *image_size).contains(crop)
    assert crop.contains(product)
    # as large as the photo allows: one side is the photo's whole side
    assert crop.w == pytest.approx(image_size[0]) or crop.h == pytest.approx(image_size[1])


def _packshot_cut_out(tmp_path, key):
    position = next(i for k, i in PACKSHOTS if k == key)
    _, photo = _save(tmp_path, key, position)
    return cut_out(photo, tmp_path / f"{key}-cut.png").path


def _box_iou(a: Box, b: Box) -> float:
    inter = _cover(a, b) * b.w * b.h
    return inter / (a.w * a.h + b.w * b.h - inter)


@pytest.mark.parametrize("key,position", SCENES)
def test_the_crop_of_every_demo_scene_shows_its_product(tmp_path, key, position):
    """Found by its packshot's colours: the saliency alone framed the books beside the Bloom
    vase, and the chopping board behind the Summit bottle. Framed whole by its shape: the
    colours alone framed the Aurora lamp's shade (a box of 0.19 of the lamp), the kettle's body
    without its handle, the planter's leaves without its pot."""
    shot, path = _save(tmp_path, key, position)
    box = find_product(path, _packshot_cut_out(tmp_path, key))
    assert box is not None
    true = shot.product_box
    assert _box_iou(box, true) >= 0.85
    for aspect in ("9:16", "1:1", "16:9"):
        crop = fill_crop(shot.image.size, box, aspect)
        room = min(1.0, crop.w / true.w) * min(1.0, crop.h / true.h)  # a tall bottle fits no 16:9 crop
        assert _cover(crop, true) >= 0.9 * room, aspect


def test_scene_looks_take_the_box_their_products_colours_find(tmp_path):
    vase_scene, vase_path = _save(tmp_path, "bloom-vase", 1)
    _, mug_path = _save(tmp_path, "nimbus-mug", 1)
    cutout = _packshot_cut_out(tmp_path, "bloom-vase")
    saliency = analyse(vase_path).product_box
    assert _cover(saliency, vase_scene.product_box) == 0  # the books
    looks = [Look(0, vase_path, (1600, 1067), "scene", saliency, (200, 200, 200)),
             Look(1, mug_path, (1600, 1067), "scene", Box(10, 20, 300, 400), (200, 200, 200)),
             Look(2, tmp_path / "bloom-vase-0.jpg", (1600, 1067), "packshot", Box(0, 0, 10, 10), (255, 255, 255),
                  cutout, Box(0, 0, 10, 10))]
    vase, mug, packshot = with_products_found(looks)
    assert _cover(vase.product_box, vase_scene.product_box) > 0.9
    assert (mug, packshot) == (looks[1], looks[2])  # no vase in the mug's kitchen: its saliency box stays


def test_product_stage_fills_half_a_tall_frame(tmp_path):
    for cutout in ((400, 800), (600, 600), (800, 900)):
        box = product_stage(1080, 1920, cutout)
        assert box.h >= 0.5 * 1920 - 1 and Box(0, 0, 1080, 1920).contains(box)
    wide = product_stage(1080, 1920, (1200, 400))  # too wide for half the height: 90 % of the width
    assert wide.w == pytest.approx(0.9 * 1080)
    for size in ((1280, 720), (1080, 1080)):
        assert Box(0, 0, *size).contains(product_stage(*size, (500, 700)))


def test_a_backdrop_png_and_a_soft_shadow(tmp_path):
    path = backdrop_png(640, 360, (30, 42, 68), (242, 179, 61), tmp_path / "bg.png")
    with Image.open(path) as image:
        pixels = np.asarray(image, np.float32)
    assert image.size == (640, 360) and pixels.std() > 2  # a sweep, not a flat fill
    _, photo = _save(tmp_path, "summit-bottle", 0)
    cut = cut_out(photo, tmp_path / "bottle.png")
    stage = product_stage(640, 360, cut.size)
    with Image.open(cut.path) as opened:
        shadow, where = soft_shadow(opened.convert("RGBA"), stage)
    assert np.asarray(shadow.getchannel("A")).max() > 60
    assert where.y < stage.bottom < where.bottom  # under the product's base


def test_an_unreadable_photo_gets_a_clear_error(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(PhotoError, match="not an image"):
        analyse(bad)
    assert not (tmp_path / "out.png").exists()
