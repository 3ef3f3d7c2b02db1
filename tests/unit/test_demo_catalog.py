"""The demo catalog's procedural photography: sizes, determinism, real shading, ground truth."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from webapp.catalog.demo import (
    DEMO_PRODUCTS,
    LANDSCAPE,
    PORTRAIT,
    SQUARE,
    demo_photo,
    demo_shot,
)


def test_fourteen_products_with_two_to_four_photos_in_three_sizes():
    assert len(DEMO_PRODUCTS) == 14
    sizes = set()
    for product in DEMO_PRODUCTS:
        assert 2 <= len(product.shots) <= 4, product.key
        sizes.update(shot.size for shot in product.shots)
    assert sizes == {SQUARE, LANDSCAPE, PORTRAIT}
    assert sum(1 for p in DEMO_PRODUCTS if any(s.kind == "scene" for s in p.shots)) >= 8
    discounted = [p for p in DEMO_PRODUCTS if p.compare_at_price]
    assert len(discounted) >= 4
    assert all(float(p.compare_at_price) > float(p.price) for p in discounted)


def test_a_photo_is_a_jpeg_of_its_size_and_the_same_every_time():
    first, second = demo_photo("nimbus-mug", 1), demo_photo("nimbus-mug", 1)
    assert first == second
    with Image.open(io.BytesIO(first)) as image:
        assert image.format == "JPEG" and image.size == LANDSCAPE
    assert demo_photo("nimbus-mug", 0) != first


@pytest.mark.parametrize("key", ["brew-kettle", "stride-sneaker", "bloom-vase"])
def test_packshots_are_shaded_products_on_a_soft_backdrop(key):
    shot = demo_shot(key, 0)
    pixels = np.asarray(shot.image.convert("L"), np.float32)
    assert shot.kind == "packshot"
    product, backdrop = pixels[shot.mask], pixels[~shot.mask]
    # real shading: highlights and shadows across the product, not a flat fill
    assert np.percentile(product, 95) - np.percentile(product, 5) > 60
    # a lit sweep: a gradient, but no hard detail in the backdrop far from the product
    assert np.percentile(backdrop, 95) - np.percentile(backdrop, 5) > 8
    box = shot.product_box
    assert box.h > 0.45 * shot.image.height or box.w > 0.6 * shot.image.width  # the product is the subject


def test_lifestyle_scenes_put_the_product_off_centre_in_a_set():
    shot = demo_shot("trail-pack", 1)
    assert shot.kind == "scene"
    centre_x = shot.product_box.center[0] / shot.image.width
    assert abs(centre_x - 0.5) > 0.08  # rule of thirds, not the middle
    pixels = np.asarray(shot.image.convert("L"), np.float32)
    assert pixels[~shot.mask].std() > 20  # a set with depth, not a plain backdrop
