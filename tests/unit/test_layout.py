"""The layout rectangles: the safe zone of each frame and collisions refused at layout time."""

from __future__ import annotations

import pytest

from webapp.render.layout import Box, Layout, LayoutError, safe_zone


def test_tall_safe_zone_keeps_out_of_the_platform_interface():
    zone = safe_zone(1080, 1920)
    assert zone.y == pytest.approx(0.12 * 1920)
    assert zone.bottom == pytest.approx(0.80 * 1920)
    assert zone.right <= 0.88 * 1080


def test_wide_and_square_frames_keep_title_safe_margins():
    for width, height in ((1280, 720), (1080, 1080)):
        zone = safe_zone(width, height)
        assert zone.x == pytest.approx(0.05 * width) and zone.right == pytest.approx(0.95 * width)
        assert zone.y == pytest.approx(0.05 * height) and zone.bottom == pytest.approx(0.95 * height)


def test_a_box_leaving_the_safe_zone_is_refused():
    layout = Layout(720, 1280)
    with pytest.raises(LayoutError, match="safe zone"):
        layout.place("caption", Box(40, 1100, 500, 100))  # inside the bottom 20 %
    assert "caption" not in layout.boxes


def test_overlapping_boxes_are_refused_unless_allowed():
    layout = Layout(1280, 720)
    layout.place("product", Box(0, 0, 700, 720), in_safe_zone=False)
    with pytest.raises(LayoutError, match="overlaps 'product'"):
        layout.place("title", Box(600, 100, 300, 80))
    layout.place("title", Box(720, 100, 300, 80))
    layout.place("badge", Box(650, 40, 100, 40), may_overlap=("product", "title"))
    assert set(layout.boxes) == {"product", "title", "badge"}


def test_touching_edges_do_not_collide():
    assert not Box(0, 0, 10, 10).intersects(Box(10, 0, 10, 10))
    assert Box(0, 0, 10, 10).intersects(Box(9.5, 9.5, 10, 10))


def test_free_bands_are_what_no_box_crosses():
    layout = Layout(720, 1280)
    zone = layout.safe
    layout.place("product", Box(zone.x, zone.y, zone.w, 500))
    bands = layout.free_bands()
    assert bands[0].y == pytest.approx(zone.y + 500)
    assert bands[0].bottom == pytest.approx(zone.bottom)
    assert all(not band.intersects(layout.boxes["product"]) for band in bands)
