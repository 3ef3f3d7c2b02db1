"""A workspace's brand kit as the renderer sees it: colours, a bundled font, a logo, the call to
action, and the helpers every template uses to draw with them.

The fonts are open-licence families installed from PyPI wheels (pinned in requirements.txt), so
a video looks the same on every machine. A text with glyphs the brand font lacks (Arabic,
Hebrew) is set in DejaVu Sans instead; emoji are dropped, since no bundled face draws them in
colour and a monochrome fallback looks broken in an ad.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import (
    Image,
    ImageDraw,
    ImageFilter,
    ImageFont,
    ImageStat,
    UnidentifiedImageError,
)

from ..limits import MAX_CTA_TEXT
from .fonts import FontSet

RGB = tuple[int, int, int]

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class FontChoice:
    """One bundled family: ``bold`` is None when the family has a single weight (drawn with a
    synthetic bold stroke)."""

    key: str
    name: str
    licence: str
    regular: Path
    bold: Path | None


def _package_file(package: str, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the font package {package!r} is not installed (see requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations))) / "files" / name


def _choice(key: str, name: str, licence: str, package: str, regular: str, bold: str | None) -> FontChoice:
    return FontChoice(key, name, licence, _package_file(package, regular),
                      _package_file(package, bold) if bold else None)


FONTS: dict[str, FontChoice] = {
    choice.key: choice
    for choice in (
        _choice("manrope", "Manrope", "OFL-1.1", "font_manrope", "Manrope-Regular.ttf", "Manrope-ExtraBold.ttf"),
        _choice("red-hat-display", "Red Hat Display", "OFL-1.1", "font_rhd",
                "RedHatDisplay-Regular.ttf", "RedHatDisplay-Bold.ttf"),
        _choice("lato", "Lato", "OFL-1.1", "font_lato", "Lato-Regular.ttf", "Lato-Black.ttf"),
        _choice("source-sans", "Source Sans Pro", "OFL-1.1", "font_source_sans_pro",
                "SourceSansPro-Regular.ttf", "SourceSansPro-Bold.ttf"),
        _choice("fjalla-one", "Fjalla One", "OFL-1.1", "font_fjallaone", "FjallaOne-Regular.ttf", None),
    )
}

# Glyphs the brand fonts lack (Arabic, Hebrew, Cyrillic in some) are drawn with this face.
FALLBACK_FONT = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
                 Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"))

# Typographic characters some faces lack, and the plain ones that read the same.
_PLAIN = {"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"',
          "\u201d": '"', "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " "}


@dataclass(frozen=True)
class Brand:
    """The brand kit of a workspace, as plain values."""

    primary: str = "#1E2A44"
    accent: str = "#F2B33D"
    font: str = "manrope"
    logo: Path | None = None
    cta_text: str = "Shop now"
    cta_url: str | None = None
    watermark: bool = False

    def __post_init__(self) -> None:
        for name in ("primary", "accent"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _HEX.match(value):
                raise ValueError(f"{name} colour must look like #RRGGBB, not {value!r}")
        if self.font not in FONTS:
            raise ValueError(f"unknown font {self.font!r}; choose one of {', '.join(FONTS)}")
        if not self.cta_text.strip():
            raise ValueError("the call to action needs some text")
        if len(self.cta_text) > MAX_CTA_TEXT:
            raise ValueError(f"the call to action is at most {MAX_CTA_TEXT} characters")

    @property
    def primary_rgb(self) -> RGB:
        return hex_to_rgb(self.primary)

    @property
    def accent_rgb(self) -> RGB:
        return hex_to_rgb(self.accent)


DEFAULT_BRAND = Brand()


# -- colour ------------------------------------------------------------------------------------

def hex_to_rgb(value: str) -> RGB:
    if not _HEX.match(value):
        raise ValueError(f"a colour must look like #RRGGBB, not {value!r}")
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def rgb_to_hex(rgb: RGB) -> str:
    return "#{:02X}{:02X}{:02X}".format(*(max(0, min(255, round(c))) for c in rgb))


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved a fraction ``t`` of the way to ``b``."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2 relative luminance, 0 (black) to 1 (white)."""
    def linear(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio, 1 to 21; 4.5 is the minimum for body text, 3 for large text."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


INK_DARK: RGB = (17, 19, 24)
INK_LIGHT: RGB = (255, 255, 255)


def readable_ink(background: RGB) -> RGB:
    """Near-black or white, whichever reads better on ``background``."""
    return max((INK_DARK, INK_LIGHT), key=lambda ink: contrast_ratio(ink, background))


def legible_on(colour: RGB, background: RGB, ratio: float = 3.0) -> RGB:
    """``colour`` where it reads on ``background`` (WCAG's 3:1, for large text), else the
    least mix of it toward the ink that reads there that does: a red kicker on a deep red
    wall turns pink, not white."""
    ink = readable_ink(background)
    for step in range(11):
        mixed = mix(colour, ink, step / 10)
        if contrast_ratio(mixed, background) >= ratio:
            return mixed
    return ink


def is_dark(rgb: RGB) -> bool:
    return readable_ink(rgb) == INK_LIGHT


# -- type --------------------------------------------------------------------------------------

_local = threading.local()


def _probe(path: Path) -> ImageFont.FreeTypeFont:
    cache = getattr(_local, "probes", None)
    if cache is None:
        cache = _local.probes = {}
    font = cache.get(path)
    if font is None:
        font = cache[path] = ImageFont.truetype(str(path), 32)
    return font


@lru_cache(maxsize=16384)
def has_glyph(path: Path, char: str) -> bool:
    """Whether the face at ``path`` draws ``char`` (anything but its "missing glyph" box)."""
    if char.isspace():
        return True
    font = _probe(path)
    return bytes(font.getmask(char)) != bytes(font.getmask("\uffff"))


def _is_emoji(char: str) -> bool:
    code = ord(char)
    return (code >= 0x1F000 or 0x2600 <= code <= 0x27BF or 0x2B00 <= code <= 0x2BFF
            or code in (0x200D, 0xFE0F, 0xFE0E, 0x20E3) or unicodedata.category(char) == "Cs")


@dataclass(frozen=True)
class BrandFontSet(FontSet):
    """A bundled family: a family with one weight draws bold with its own regular face and a
    stroke (the base class would fall back to Pillow's built-in face)."""

    def font(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        path = (self.bold_path or self.regular_path) if bold else self.regular_path
        return _face(str(path), max(6, int(size)))

    def drawable(self, text: str, bold: bool = True) -> str:
        path = (self.bold_path or self.regular_path) if bold else self.regular_path
        return "".join(ch for ch in text if has_glyph(Path(str(path)), ch))


def _face(path: str, size: int) -> ImageFont.FreeTypeFont:
    cache = getattr(_local, "faces", None)
    if cache is None:
        cache = _local.faces = {}
    font = cache.get((path, size))
    if font is None:
        font = cache[(path, size)] = ImageFont.truetype(path, size)
    return font


def _fontset(regular: Path, bold: Path | None) -> BrandFontSet:
    return BrandFontSet(str(regular), str(bold) if bold and bold.is_file() else None, fold=False)


def typeset(font_key: str, text: str) -> tuple[FontSet, str]:
    """The faces to draw ``text`` with, and the text as it will be drawn: the brand font when
    it has every glyph (plain substitutes for typographic signs it lacks), else DejaVu Sans;
    emoji and glyphs no face has are dropped."""
    choice = FONTS[font_key]
    text = "".join(ch for ch in text if not _is_emoji(ch))
    text = " ".join(text.split())
    text = "".join(ch if has_glyph(choice.regular, ch) else _PLAIN.get(ch, ch) for ch in text)
    if all(has_glyph(choice.regular, ch) for ch in text):
        return _fontset(choice.regular, choice.bold), text
    regular, bold = FALLBACK_FONT
    if not regular.is_file():
        return _fontset(choice.regular, choice.bold), "".join(ch for ch in text if has_glyph(choice.regular, ch))
    return _fontset(regular, bold), "".join(ch for ch in text if has_glyph(regular, ch))


# -- logo and watermark ------------------------------------------------------------------------

class LogoError(ValueError):
    """The logo file cannot be used: a clear message for the person who uploaded it."""


def load_logo(path: Path) -> Image.Image:
    """The logo as RGBA: a PNG keeps its transparency; a logo with no transparency (a JPEG)
    is set on a rounded plate of its own background colour, so it reads as a deliberate badge
    rather than a pasted rectangle."""
    try:
        with Image.open(path) as opened:
            opened.load()
            image = opened.convert("RGBA")
    except (OSError, UnidentifiedImageError) as error:
        raise LogoError(f"the logo {path.name!r} is not a PNG or JPEG image we can read") from error
    alpha = image.getchannel("A")
    if alpha.getextrema()[0] < 250:  # has transparency: keep it, trimmed to what is drawn
        bbox = alpha.point(lambda a: 255 if a > 8 else 0).getbbox()
        return image.crop(bbox) if bbox else image
    corner = image.getpixel((0, 0))[:3]
    pad = max(4, round(min(image.size) * 0.12))
    plate = Image.new("RGBA", (image.width + 2 * pad, image.height + 2 * pad), (0, 0, 0, 0))
    ImageDraw.Draw(plate).rounded_rectangle(
        (0, 0, plate.width - 1, plate.height - 1), radius=pad * 1.5, fill=(*corner, 255))
    plate.alpha_composite(image, (pad, pad))
    return plate


def fit_image(image: Image.Image, max_w: float, max_h: float) -> Image.Image:
    """``image`` scaled (down or up) to fit within ``max_w`` x ``max_h``, keeping its shape."""
    scale = min(max_w / image.width, max_h / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


WATERMARK_OPACITY = 0.55
LOGO_GLOW = 0.5  # opacity of the glow that sets a logo off a backdrop of its own colours


def logo_colour(logo: Image.Image) -> RGB:
    """The average colour of what the logo draws (its opaque pixels)."""
    drawn = ImageStat.Stat(logo.convert("RGB"), mask=logo.getchannel("A").point(lambda a: 255 if a > 127 else 0))
    return tuple(round(v) for v in drawn.mean)  # type: ignore[return-value]


def on_glow(logo: Image.Image, *, opacity: float = 1.0) -> tuple[Image.Image, int]:
    """``logo`` (at ``opacity``) on a soft glow of the ink that contrasts with its own colours,
    so that a red logo still shows on a red wall; and how far the glow reaches past the logo."""
    alpha = logo.getchannel("A")
    reach = max(1, round(logo.height * 0.06))
    pad = 3 * reach
    spread = Image.new("L", (logo.width + 2 * pad, logo.height + 2 * pad), 0)
    spread.paste(alpha, (pad, pad))
    spread = spread.filter(ImageFilter.MaxFilter(2 * reach + 1)).filter(ImageFilter.GaussianBlur(reach))
    mark = Image.new("RGBA", spread.size, (*readable_ink(logo_colour(logo)), 0))
    mark.putalpha(spread.point(lambda a: round(a * LOGO_GLOW)))
    faded = logo.copy()
    faded.putalpha(alpha.point(lambda a: round(a * opacity)))
    mark.alpha_composite(faded, (pad, pad))
    return mark, pad


def watermark(brand: Brand, width: int, height: int) -> Image.Image | None:
    """The corner watermark for a frame, or None when the brand has none: the logo at
    ``WATERMARK_OPACITY``, about 1/9 of the frame width, on its glow, since the frame under a
    corner changes from shot to shot (the renderer picks the corner)."""
    if not brand.watermark or brand.logo is None:
        return None
    mark, _ = on_glow(fit_image(load_logo(brand.logo), width * 0.11, height * 0.06), opacity=WATERMARK_OPACITY)
    return mark
