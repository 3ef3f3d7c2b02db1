"""Fonts for the text overlays, with no dependency on installed system fonts.

Pillow ships a scalable font (Aileron Regular, via ``ImageFont.load_default(size=...)``) that
covers basic Latin; it is used whenever it has every glyph a video needs (a synthetic bold is
drawn with a stroke). When a text needs more (accents, currency signs, dashes) a system font
is used if one is installed; if none is, the text is folded to what Aileron can draw.
"""

from __future__ import annotations

import os
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

Font = ImageFont.FreeTypeFont

# (regular, bold) candidates, first match wins. REELBOARD_FONT / REELBOARD_FONT_BOLD override.
_SYSTEM_FONTS: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
     "/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
     "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    ("/usr/share/fonts/noto/NotoSans-Regular.ttf", "/usr/share/fonts/noto/NotoSans-Bold.ttf"),
    ("/System/Library/Fonts/Supplemental/Arial.ttf",
     "/System/Library/Fonts/Supplemental/Arial Bold.ttf"),
)

_FOLD = {
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201a": ",",
    "\u201c": '"', "\u201d": '"', "\u2022": "-", "\u00b7": "-", "\u00a0": " ", "\u2009": " ",
    "\u202f": " ", "\u20ac": "EUR ", "\u00a3": "GBP ", "\u00a5": "JPY ", "\u00d7": "x",
    "\u00ae": "(R)", "\u2122": "TM", "\u00bd": "1/2", "\u00b0": " deg", "\u00df": "ss",
    "\u00f8": "o", "\u00d8": "O", "\u00e6": "ae", "\u00c6": "AE", "\u0153": "oe", "\u2026": "...",
}


# FreeType faces must not be shared between threads (renders run in a pool): one cache each.
_local = threading.local()


def _cached(key: tuple, make) -> Font:
    cache = getattr(_local, "fonts", None)
    if cache is None:
        cache = _local.fonts = {}
    font = cache.get(key)
    if font is None:
        font = cache[key] = make()
    return font


def _default(size: int) -> Font:
    return _cached(("default", size), lambda: ImageFont.load_default(size=size))


@lru_cache(maxsize=1)
def _notdef() -> bytes:
    return bytes(ImageFont.load_default(size=40).getmask("\uffff"))


@lru_cache(maxsize=4096)
def _default_has(ch: str) -> bool:
    if ch in " \n\t":
        return True
    return bytes(_default(40).getmask(ch)) != _notdef()


def _installed_fonts() -> list[tuple[str, str]]:
    """(regular, bold) of every installed candidate, the REELBOARD_FONT override first."""
    found = []
    env_regular = os.environ.get("REELBOARD_FONT")
    if env_regular and Path(env_regular).is_file():
        env_bold = os.environ.get("REELBOARD_FONT_BOLD") or env_regular
        found.append((env_regular, env_bold if Path(env_bold).is_file() else env_regular))
    for regular, bold in _SYSTEM_FONTS:
        if Path(regular).is_file():
            found.append((regular, bold if Path(bold).is_file() else regular))
    return found


def _system_paths() -> tuple[str, str] | None:
    found = _installed_fonts()
    return found[0] if found else None


@lru_cache(maxsize=16384)
def has_glyph(path: str, ch: str) -> bool:
    """Whether the font file at ``path`` draws ``ch`` (rather than its empty "missing" box)."""
    if ch.isspace():
        return True
    font = _truetype(path, 40)
    return bytes(font.getmask(ch)) != bytes(font.getmask("\U0010FFFD"))


def fold_text(text: str) -> str:
    """Reduce text to characters the built-in font can draw (accents dropped, dashes ASCII)."""
    out = []
    for ch in text:
        if _default_has(ch):
            out.append(ch)
            continue
        if ch in _FOLD:
            out.append(_FOLD[ch])
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(_default_has(c) for c in base) else "")
    return "".join(out)


@dataclass(frozen=True)
class FontSet:
    """The two faces of one video. ``bold_stroke`` > 0 means bold is drawn with a stroke."""

    regular_path: str | None  # None: Pillow's built-in font
    bold_path: str | None
    fold: bool  # fold text to the built-in font's glyphs

    @classmethod
    def for_texts(cls, texts: list[str]) -> FontSet:
        if all(_default_has(ch) for t in texts for ch in t):
            return cls(None, None, fold=False)
        paths = _system_paths()
        if paths:
            return cls(paths[0], paths[1], fold=False)
        return cls(None, None, fold=True)

    @classmethod
    def for_captions(cls, texts: list[str]) -> FontSet:
        """A real bold face for big captions: the first installed font whose bold draws every
        character of ``texts`` (Arabic and Hebrew included); else as ``for_texts``."""
        needed = {ch for text in texts for ch in text}
        for regular, bold in _installed_fonts():
            if all(has_glyph(bold, ch) for ch in needed):
                return cls(regular, bold, fold=False)
        return cls.for_texts(texts)

    def drawable(self, text: str, bold: bool = True) -> str:
        """``text`` without the characters this set's face cannot draw (never an empty box)."""
        path = self.bold_path if bold else self.regular_path
        if path is None:
            return fold_text(text)
        return "".join(ch for ch in text if has_glyph(path, ch))

    @property
    def synthetic_bold(self) -> bool:
        return self.bold_path is None

    def prepare(self, text: str) -> str:
        text = " ".join(text.split()) if "\n" not in text else text
        return fold_text(text) if self.fold or self.regular_path is None else text

    def font(self, size: int, bold: bool = False) -> Font:
        size = max(6, int(size))
        path = self.bold_path if bold else self.regular_path
        if path is None:
            return _default(size)
        return _truetype(path, size)

    def stroke(self, size: int, bold: bool) -> int:
        """Stroke width that makes the built-in regular face look bold."""
        if bold and self.synthetic_bold:
            return max(1, round(size / 30))
        return 0


def _truetype(path: str, size: int) -> Font:
    return _cached((path, size), lambda: ImageFont.truetype(path, size))
