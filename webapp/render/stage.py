"""What each product photo is to a video: a packshot to cut out and stage on the brand's backdrop,
or a scene to crop around its product, with the product's box in the photo.

Looking at a photo costs 40–100 ms (``compose.analyse``) and cutting out a packshot 0.3–0.8 s
(GrabCut), so both are kept in a ``LookCache`` keyed by the image's bytes: a product's second
video, its instant previews and the other aspect ratios reuse them. The local provider keeps
them in the media storage; tests and benchmarks in a directory.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from .compose import PhotoError, analyse, cut_out, find_product
from .layout import Box

# Bumped whenever analyse or cut_out change what they make, so that old entries are not used.
LOOK_VERSION = 10
SILHOUETTE_SIDE = 64  # px: cut-outs are compared as silhouettes this size
SAME_SIDE_IOU = 0.85  # two silhouettes that overlap this much show the same side of a product


class LookCache(Protocol):
    """Where looks at photos are kept between renders (files by name)."""

    def load(self, name: str, dest: Path) -> bool:
        """Copies the file called ``name`` to ``dest``; False when there is none."""

    def save(self, name: str, src: Path) -> None:
        """Keeps a copy of ``src`` as ``name`` (a failure to keep it is not an error)."""


class DirectoryCache:
    """A LookCache in a local directory."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def load(self, name: str, dest: Path) -> bool:
        source = self.folder / name
        if not source.is_file():
            return False
        shutil.copyfile(source, dest)
        return True

    def save(self, name: str, src: Path) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self.folder / f".{name}.part"
        shutil.copyfile(src, partial)
        partial.replace(self.folder / name)


@dataclass(frozen=True)
class Look:
    """A photo as a video uses it. ``path`` is the JPEG ffmpeg reads, ``size`` its pixels;
    ``product_box`` is where the product is in it. A packshot has ``cutout``: a transparent PNG
    of the product alone, cropped to it, that stood at ``cutout_box`` in the photo."""

    index: int
    path: Path
    size: tuple[int, int]
    kind: str  # "packshot" | "scene"
    product_box: Box
    backdrop: tuple[int, int, int]
    cutout: Path | None = None
    cutout_box: Box | None = None

    @property
    def staged(self) -> bool:
        return self.cutout is not None

    def cutout_size(self) -> tuple[int, int]:
        assert self.cutout_box is not None
        return round(self.cutout_box.w), round(self.cutout_box.h)

    def looks_like(self, other: Look) -> bool:
        """Whether two cut-outs show the product from the same side: their silhouettes, brought
        to one size, overlap almost wholly (two shots of the front; a side view does not)."""
        if self.cutout is None or other.cutout is None:
            return False
        a, b = _silhouette(str(self.cutout)), _silhouette(str(other.cutout))
        return float((a & b).sum() / max(1, (a | b).sum())) >= SAME_SIDE_IOU


@lru_cache(maxsize=64)
def _silhouette(cutout: str) -> np.ndarray:
    """A cut-out's opaque pixels, SILHOUETTE_SIDE square (each cut-out is read once a render)."""
    with Image.open(cutout) as opened:
        alpha = opened.getchannel("A") if opened.mode == "RGBA" else opened.convert("RGBA").getchannel("A")
        return np.asarray(alpha.resize((SILHOUETTE_SIDE, SILHOUETTE_SIDE))) > 127


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()[:32]


def _box(values: Sequence[float]) -> Box:
    x, y, w, h = (float(v) for v in values)
    return Box(x, y, w, h)


def look_at(index: int, source: Path, prepared: Path, size: tuple[int, int], workdir: Path,
            cache: LookCache | None = None, *, draft: bool = False) -> Look:
    """The look of one photo: ``source`` is the merchant's file (a transparent PNG is its own
    cut-out), ``prepared`` the JPEG of it that ffmpeg reads. ``draft``: a quicker cut-out
    (instant previews at 360p, where its softer edge does not show), unless the full one is
    kept already."""
    alpha = _transparent_cutout(source, workdir / f"cutout_{index:02d}.png")
    if alpha is not None:
        png, box = alpha
        return Look(index, prepared, size, "packshot", box, (255, 255, 255), png, box)
    full = f"{_digest(prepared)}-v{LOOK_VERSION}"
    names = (full, f"{full}-draft") if draft else (full,)  # a draft takes the full look when kept
    name = names[-1]
    facts_file, png = workdir / f"look_{index:02d}.json", workdir / f"cutout_{index:02d}.png"
    for kept in names:
        if cache is not None and cache.load(f"{kept}.json", facts_file):
            facts = json.loads(facts_file.read_text())
            if facts["kind"] != "packshot" or cache.load(f"{kept}.png", png):
                return _from_facts(index, prepared, facts, png)
    analysis = analyse(prepared)
    facts = {"kind": analysis.kind, "size": list(analysis.size), "backdrop": list(analysis.backdrop),
             "product_box": [analysis.product_box.x, analysis.product_box.y, analysis.product_box.w,
                             analysis.product_box.h]}
    if analysis.kind == "packshot":
        try:
            cut = cut_out(prepared, png, draft=draft)
        except PhotoError:
            facts["kind"] = "scene"  # nothing stands out clearly enough to cut: crop the photo
        else:
            facts["cutout_box"] = [cut.box.x, cut.box.y, cut.box.w, cut.box.h]
    if cache is not None:
        if facts["kind"] == "packshot":
            cache.save(f"{name}.png", png)
        facts_file.write_text(json.dumps(facts))
        cache.save(f"{name}.json", facts_file)
    return _from_facts(index, prepared, facts, png)


def with_products_found(looks: list[Look]) -> list[Look]:
    """``looks`` with each scene's product box where the colours of the product's first
    cut-out find it (``compose.find_product``); a scene they do not find it in keeps the box
    its saliency gave."""
    cutout = next((look.cutout for look in looks if look.cutout is not None), None)
    if cutout is None:
        return looks
    found = []
    for look in looks:
        box = find_product(look.path, cutout) if look.kind == "scene" else None
        found.append(look if box is None else replace(look, product_box=box))
    return found


def _from_facts(index: int, prepared: Path, facts: dict, png: Path) -> Look:
    size = (int(facts["size"][0]), int(facts["size"][1]))
    backdrop = tuple(int(c) for c in facts["backdrop"])
    product_box = _box(facts["product_box"])
    if facts["kind"] == "packshot":
        cutout_box = _box(facts["cutout_box"])
        return Look(index, prepared, size, "packshot", cutout_box, backdrop, png, cutout_box)  # type: ignore[arg-type]
    return Look(index, prepared, size, "scene", product_box, backdrop)  # type: ignore[arg-type]


def _transparent_cutout(source: Path, out_png: Path) -> tuple[Path, Box] | None:
    """A photo with real transparency (a product the merchant cut out already), trimmed to
    what is drawn; None for an opaque photo."""
    with Image.open(source) as opened:
        if opened.mode not in ("RGBA", "LA", "PA") and not (opened.mode == "P" and "transparency" in opened.info):
            return None
        image = opened.convert("RGBA")
    alpha = np.asarray(image.getchannel("A"))
    if alpha.min() >= 250:
        return None
    ys, xs = np.nonzero(alpha > 8)
    if len(xs) == 0:
        return None
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    image.crop((x0, y0, x1, y1)).save(out_png, compress_level=0)
    return out_png, Box(float(x0), float(y0), float(x1 - x0), float(y1 - y0))
