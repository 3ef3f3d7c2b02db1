"""Looks at photos kept in a look cache: read back instead of made again, and an instant
preview's draft taking the full cut-out when one is kept."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from webapp.catalog.demo import demo_shot
from webapp.render.stage import LOOK_VERSION, DirectoryCache, look_at


@pytest.fixture
def packshot(tmp_path):
    path = tmp_path / "mug.jpg"
    demo_shot("nimbus-mug", 0).image.save(path, quality=90)
    return path


def _look(photo, folder, cache, *, draft=False):
    folder.mkdir(exist_ok=True)
    with Image.open(photo) as opened:
        size = opened.size
    return look_at(0, photo, photo, size, folder, cache, draft=draft)


def _pixels(path):
    with Image.open(path) as opened:
        return np.asarray(opened.convert("RGBA"))


def _marked(cache_dir, suffix):
    """Paints the kept cut-out blue: a look that comes back blue was read from the cache."""
    (kept,) = cache_dir.glob(f"*{suffix}")
    with Image.open(kept) as opened:
        blue = Image.new("RGBA", opened.size, (0, 0, 255, 255))
    blue.save(kept)


def test_a_second_look_at_a_photo_is_read_from_the_cache(tmp_path, packshot):
    cache = DirectoryCache(tmp_path / "looks")
    first = _look(packshot, tmp_path / "one", cache)
    assert first.kind == "packshot" and sorted(p.suffix for p in cache.folder.iterdir()) == [".json", ".png"]
    _marked(cache.folder, f"-v{LOOK_VERSION}.png")
    again = _look(packshot, tmp_path / "two", cache)
    assert (again.kind, again.product_box, again.cutout_box) == (first.kind, first.product_box, first.cutout_box)
    assert (_pixels(again.cutout)[..., :3] == (0, 0, 255)).all()


def test_an_instant_preview_takes_the_full_cut_out_when_one_is_kept(tmp_path, packshot):
    cache = DirectoryCache(tmp_path / "looks")
    _look(packshot, tmp_path / "full", cache)
    _marked(cache.folder, f"-v{LOOK_VERSION}.png")
    draft = _look(packshot, tmp_path / "draft", cache, draft=True)
    assert (_pixels(draft.cutout)[..., :3] == (0, 0, 255)).all()
    assert not list(cache.folder.glob("*-draft*"))  # nothing more to keep


def test_a_draft_cut_out_is_kept_apart_from_the_full_one(tmp_path, packshot):
    cache = DirectoryCache(tmp_path / "looks")
    _look(packshot, tmp_path / "draft", cache, draft=True)
    assert len(list(cache.folder.glob("*-draft.*"))) == 2
    _marked(cache.folder, "-draft.png")
    full = _look(packshot, tmp_path / "full", cache)  # a video is not made with a draft's edge
    assert not (_pixels(full.cutout)[..., :3] == (0, 0, 255)).all()
    assert len(list(cache.folder.glob(f"*-v{LOOK_VERSION}.*"))) == 2
