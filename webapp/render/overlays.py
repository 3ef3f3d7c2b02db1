"""Text and graphics drawn with Pillow into transparent PNGs that ffmpeg overlays.

Everything here is measured before it is drawn: text is wrapped to the width it is given and
shrunk until it fits, so a long title never runs off the frame in any aspect ratio.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from .brand import Brand, readable_ink, typeset
from .fonts import Font, FontSet
from .layout import Box
from .textutil import is_rtl

RGBA = tuple[int, int, int, int]
# the least size of a kicker (units: 1 % of the short side): its capitals about 2.3 % of the
# frame's width tall, read on a phone held upright (2.6 left "TECH SPECS" 14 px tall at 720p)
KICKER_LEAST_U = 3.2


def rgba(hex_colour: str, alpha: int = 255) -> RGBA:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha


@dataclass(frozen=True)
class Overlay:
    """A PNG to composite at (x, y) of the frame. ``content`` is the box of what it shows (its
    text or panel, without the soft shadow around it), in the frame: what the layout places."""

    path: Path
    x: int
    y: int
    w: int
    h: int
    content: Box | None = None

    @property
    def box(self) -> Box:
        if self.content is not None:
            return self.content
        return Box(self.x, self.y, self.w, self.h)


@dataclass(frozen=True)
class Piece:
    """A measured graphic before it is placed: the image, and the box of its content (its text
    or panel, without the soft shadow around it) in the image's pixels."""

    image: Image.Image
    content: Box
    text_size: int = 0  # px of its main text (a headline's, a lower third's title), when it has one

    @property
    def w(self) -> float:
        return self.content.w

    @property
    def h(self) -> float:
        return self.content.h


@dataclass(frozen=True)
class TextBlock:
    lines: tuple[str, ...]
    font: Font
    size: int
    stroke: int
    line_height: int
    widths: tuple[int, ...]
    rtl: bool = False  # right-to-left text: lines go flush right

    @property
    def width(self) -> int:
        return max(self.widths, default=0)

    @property
    def height(self) -> int:
        if not self.lines:
            return 0
        ascent, descent = self.font.getmetrics()
        return self.line_height * (len(self.lines) - 1) + ascent + descent + 2 * self.stroke


def _measure(font: Font, text: str, stroke: int) -> int:
    if not text:
        return 0
    left, _, right, _ = font.getbbox(text, stroke_width=stroke)
    return int(right - min(left, 0))


def _wrap(words: list[str], font: Font, stroke: int, max_w: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and _measure(font, candidate, stroke) > max_w:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def _break_long_word(word: str, font: Font, stroke: int, max_w: int) -> list[str]:
    parts, current = [], ""
    for ch in word:
        if current and _measure(font, current + ch, stroke) > max_w:
            parts.append(current)
            current = ch
        else:
            current += ch
    if current:
        parts.append(current)
    return parts


def _ellipsize(line: str, font: Font, stroke: int, max_w: int, ellipsis: str) -> str:
    line = line.rstrip(" ,.;:-")
    while line and _measure(font, line + ellipsis, stroke) > max_w:
        line = line[:-1].rstrip(" ,.;:-")
    return line + ellipsis


def layout_text(
    fonts: FontSet,
    text: str,
    max_w: int,
    size: int,
    *,
    bold: bool = False,
    max_lines: int = 2,
    min_size: int | None = None,
    line_spacing: float = 1.12,
    balance: bool = True,
) -> TextBlock:
    """Wrap ``text`` into at most ``max_lines`` lines no wider than ``max_w``, shrinking the
    font from ``size`` towards ``min_size`` until it fits; at the smallest size the last line
    is cut with an ellipsis."""
    text = fonts.prepare(text).strip()
    words = text.split()
    min_size = min_size or max(10, int(size * 0.55))
    max_w = max(20, int(max_w))
    cur = max(min_size, int(size))
    while True:
        font = fonts.font(cur, bold)
        stroke = fonts.stroke(cur, bold)
        lines = _wrap(words, font, stroke, max_w)
        too_wide = any(_measure(font, ln, stroke) > max_w for ln in lines)
        if (len(lines) <= max_lines and not too_wide) or cur <= min_size:
            break
        cur = max(min_size, int(cur * 0.93))
    if too_wide or len(lines) > max_lines:
        # smallest size reached: break over-long words, then cut what does not fit
        pieces: list[str] = []
        for word in words:
            if _measure(font, word, stroke) > max_w:
                pieces.extend(_break_long_word(word, font, stroke, max_w))
            else:
                pieces.append(word)
        lines = _wrap(pieces, font, stroke, max_w)
        if len(lines) > max_lines:
            ellipsis = "..." if fonts.fold or fonts.regular_path is None else "\u2026"
            lines = lines[:max_lines]
            lines[-1] = _ellipsize(lines[-1], font, stroke, max_w, ellipsis)
    elif balance and len(lines) > 1:
        # narrowest width that keeps the same number of lines: avoids a lonely last word
        target = len(lines)
        width = max_w
        while width > max_w * 0.45:
            trial = _wrap(words, font, stroke, int(width * 0.95))
            if len(trial) != target:
                break
            width *= 0.95
            lines = trial
    ascent, descent = font.getmetrics()
    line_height = int((ascent + descent) * line_spacing) + stroke
    widths = tuple(_measure(font, ln, stroke) for ln in lines)
    return TextBlock(tuple(lines), font, cur, stroke, line_height, widths, is_rtl(text))


def draw_block(
    draw: ImageDraw.ImageDraw,
    block: TextBlock,
    x: float,
    y: float,
    fill: RGBA,
    *,
    align: str = "left",
    box_w: int | None = None,
    stroke_fill: RGBA | None = None,
    extra_stroke: int = 0,
) -> None:
    """Draw ``block`` with its top-left at (x, y); ``align`` within ``box_w`` (default: block
    width). Right-to-left text set "left" goes flush right: its reading start."""
    box_w = box_w or block.width
    if block.rtl and align == "left":
        align = "right"
    stroke = block.stroke + extra_stroke
    for i, (line, w) in enumerate(zip(block.lines, block.widths, strict=True)):
        if align == "center":
            lx = x + (box_w - w) / 2
        elif align == "right":
            lx = x + box_w - w
        else:
            lx = x
        draw.text(
            (lx + block.stroke, y + block.stroke + i * block.line_height),
            line,
            font=block.font,
            fill=fill,
            anchor="la",
            stroke_width=stroke,
            stroke_fill=stroke_fill if stroke_fill is not None else fill,
        )


def soft_shadow(layer: Image.Image, radius: float, offset: tuple[int, int], opacity: int) -> Image.Image:
    """Return ``layer`` composited over a blurred dark copy of its alpha."""
    alpha = layer.getchannel("A")
    shadow = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    mask = alpha.point(lambda a: a * opacity // 255)
    shadow.paste((0, 0, 0, 255), offset, mask)
    shadow = shadow.filter(ImageFilter.GaussianBlur(radius))
    return Image.alpha_composite(shadow, layer)


class OverlayMaker:
    """Makes overlay PNGs for one video in ``workdir``, every text in the brand's font; sizes are
    relative to the frame."""

    def __init__(self, workdir: Path, width: int, height: int, brand: Brand):
        self.workdir = workdir
        self.W = width
        self.H = height
        self.brand = brand
        self.u = min(width, height) / 100.0  # one "unit": 1 % of the short side
        self._seq = itertools.count()

    # -- plumbing --------------------------------------------------------------------------
    def save(self, im: Image.Image, x: float, y: float, *, trim: bool = True,
             content: Box | None = None) -> Overlay:
        """``content``: the box that counts for the layout, in the image's pixels (default:
        all of it)."""
        content = Box(x + content.x, y + content.y, content.w, content.h) if content else None
        if trim:
            bbox = im.getchannel("A").getbbox()
            if bbox:
                im = im.crop(bbox)
                x += bbox[0]
                y += bbox[1]
        # even offsets and sizes keep chroma-subsampled overlays crisp
        pad_l, pad_t = int(x) % 2, int(y) % 2
        w, h = im.size
        canvas = Image.new("RGBA", (w + pad_l + (w + pad_l) % 2, h + pad_t + (h + pad_t) % 2))
        canvas.paste(im, (pad_l, pad_t))
        path = self.workdir / f"overlay_{next(self._seq):02d}.png"
        # uncompressed: a scratch file read once by ffmpeg (zlib took a second of a render)
        canvas.save(path, compress_level=0)
        return Overlay(path, int(x) - pad_l, int(y) - pad_t, canvas.width, canvas.height, content)

    def px(self, units: float) -> int:
        return max(1, round(units * self.u))

    def text(self, text: str, max_w: float, size_u: float, **kw) -> TextBlock:
        """``text`` set in the brand's font (DejaVu Sans for scripts it lacks, emoji left out)."""
        fonts, drawn = typeset(self.brand.font, text)
        return layout_text(fonts, drawn, int(max_w), self.px(size_u), **kw)

    # -- pieces: measured images, placed by the recipe through the layout ---------------------
    def put(self, piece: Piece, x: float, y: float) -> Overlay:
        """The piece as an overlay whose content's top-left is at (x, y) of the frame."""
        x, y = int(x) // 2 * 2, int(y) // 2 * 2
        return self.save(piece.image, x - piece.content.x, y - piece.content.y, trim=False, content=piece.content)

    def lower_third(self, title: str, price: str | None, *, accent: str, panel: RGBA, max_w: float,
                    title_colour: RGBA = (255, 255, 255, 255), price_text: RGBA | None = None,
                    outline: RGBA | None = None, size_u: float = 6.0, max_lines: int = 2) -> Piece:
        """Title with an accent bar and a price pill, on a rounded panel."""
        bar = self.px(0.9)
        pad = self.px(2.2)
        inner_w = max_w - 2 * pad - bar - self.px(1.6)
        block = self.text(title, inner_w, size_u, bold=True, max_lines=max_lines, min_size=self.px(3.2))
        pill = self.pill(price, accent, size_u * 0.72, price_text) if price else None
        gap = self.px(1.4)
        content_w = max(block.width, pill.width if pill else 0)
        content_h = block.height + ((gap + pill.height) if pill else 0)
        pw = content_w + 2 * pad + bar + self.px(1.6)
        ph = content_h + 2 * pad
        im = Image.new("RGBA", (pw, ph), (0, 0, 0, 0))
        d = ImageDraw.Draw(im)
        d.rounded_rectangle((0, 0, pw - 1, ph - 1), radius=self.px(1.6), fill=panel,
                            outline=outline, width=max(1, self.px(0.2)) if outline else 0)
        d.rounded_rectangle((pad, pad, pad + bar, ph - pad), radius=bar // 2, fill=rgba(accent))
        tx = pad + bar + self.px(1.6)
        draw_block(d, block, tx, pad, title_colour, box_w=content_w)
        if pill:
            px_ = tx + content_w - pill.width if block.rtl else tx
            im.alpha_composite(pill, (int(px_), int(pad + block.height + gap)))
        return Piece(im, Box(0, 0, pw, ph), block.size)

    def pill(self, text: str, colour: str, size_u: float, text_colour: RGBA | None = None,
             max_w: float | None = None) -> Image.Image:
        block = self.text(text, max_w or self.W * 0.6, size_u, bold=True, max_lines=1)
        px_, py_ = self.px(1.6), self.px(0.7)
        w, h = block.width + 2 * px_, block.height + 2 * py_
        im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        d = ImageDraw.Draw(im)
        d.rounded_rectangle((0, 0, w - 1, h - 1), radius=h // 2, fill=rgba(colour))
        fill = text_colour or (*readable_ink(rgba(colour)[:3]), 255)
        draw_block(d, block, px_, py_, fill)
        return im

    def price_tag(self, price: str, colour: str, size_u: float = 5.5) -> Piece:
        im = self.pill(price, colour, size_u)
        pad = self.px(2)
        return Piece(soft_shadow(_pad(im, pad), self.px(1), (0, self.px(0.4)), 120),
                     Box(pad, pad, im.width, im.height))

    def headline(self, text: str, *, max_w: float, size_u: float, colour: RGBA = (255, 255, 255, 255),
                 bold: bool = True, max_lines: int = 2, shadow: int = 150, outline: RGBA | None = None,
                 min_size_u: float | None = None, align: str = "center", kicker: str | None = None,
                 kicker_colour: RGBA | None = None, plate: RGBA | None = None,
                 kicker_scale: float = 0.42) -> Piece:
        """Free text with a soft shadow (or an outline, or on a plate), under an optional kicker
        in capitals; ``max_w`` is the width of the whole piece's content."""
        plate_pad = (self.px(2.4), self.px(1.6)) if plate else (0, 0)
        outline_w = max(2, round(self.px(size_u) / 14)) if outline else 0
        text_w = max_w - 2 * plate_pad[0] - 2 * outline_w
        block = self.text(text, text_w, size_u, bold=bold, max_lines=max_lines,
                          min_size=self.px(min_size_u) if min_size_u else None)
        kblock = None
        if kicker:
            kblock = self.text(kicker.upper(), text_w, max(KICKER_LEAST_U, size_u * kicker_scale), bold=True, max_lines=1)
        margin = self.px(3) + outline_w
        gap = self.px(1.2) if kblock else 0
        inner_w = max(block.width, kblock.width if kblock else 0)
        content_w = inner_w + 2 * outline_w + 2 * plate_pad[0]
        content_h = block.height + (kblock.height + gap if kblock else 0) + 2 * outline_w + 2 * plate_pad[1]
        w, h = content_w + 2 * margin, content_h + 2 * margin
        im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        d = ImageDraw.Draw(im)
        if plate:
            d.rounded_rectangle((margin, margin, w - margin, h - margin), radius=self.px(1.6), fill=plate)
        ox, oy = margin + plate_pad[0] + outline_w, margin + plate_pad[1] + outline_w
        if kblock:
            draw_block(d, kblock, ox, oy, kicker_colour or colour, align=align, box_w=inner_w)
            oy += kblock.height + gap
        draw_block(d, block, ox, oy, colour, align=align, box_w=inner_w, stroke_fill=outline, extra_stroke=outline_w)
        if shadow:
            im = soft_shadow(im, self.px(1.0), (0, self.px(0.35)), shadow)
        return Piece(im, Box(margin, margin, content_w, content_h), block.size)

    def bullet(self, text: str, number: int, *, max_w: float, accent: str, size_u: float = 4.2,
               panel: RGBA = (255, 255, 255, 26), ink: RGBA = (241, 245, 249, 255)) -> Piece:
        """One spec call-out: a numbered accent disc and the phrase, on a faint panel."""
        disc = self.px(size_u * 1.55)
        gap = self.px(1.8)
        pad = self.px(1.4)
        block = self.text(text, max_w - disc - gap - 2 * pad, size_u, bold=True, max_lines=2,
                          min_size=self.px(2.4))
        h = max(disc, block.height) + 2 * pad
        w = int(max_w)
        im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        d = ImageDraw.Draw(im)
        d.rounded_rectangle((0, 0, w - 1, h - 1), radius=self.px(1.2), fill=panel)
        d.rounded_rectangle((0, 0, self.px(0.5), h - 1), radius=self.px(0.25), fill=rgba(accent))
        cy = h // 2
        d.ellipse((pad, cy - disc // 2, pad + disc, cy + disc // 2), fill=rgba(accent))
        num = self.text(str(number), disc, disc * 0.55 / self.u, bold=True, max_lines=1)
        draw_block(d, num, pad + (disc - num.width) / 2, cy - num.height / 2, (*readable_ink(rgba(accent)[:3]), 255))
        draw_block(d, block, pad + disc + gap, cy - block.height / 2, ink, box_w=w - 2 * pad - disc - gap)
        return Piece(im, Box(0, 0, w, h))

    def boxed_lines(self, text: str, *, max_w: float, size_u: float, box: RGBA, ink: RGBA,
                    max_lines: int = 2) -> Piece:
        """Big social-style caption: each line on its own rounded box, centred."""
        block = self.text(text, max_w - 2 * self.px(2.0), size_u, bold=True, max_lines=max_lines,
                          min_size=self.px(size_u * 0.55))
        pad_x, pad_y = self.px(2.0), self.px(0.9)
        line_h = block.height if len(block.lines) == 1 else block.line_height
        ascent, descent = block.font.getmetrics()
        box_h = ascent + descent + 2 * block.stroke + 2 * pad_y
        step = box_h - self.px(0.2)
        w = block.width + 2 * pad_x
        h = step * (len(block.lines) - 1) + box_h
        im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        d = ImageDraw.Draw(im)
        for i, (line, lw) in enumerate(zip(block.lines, block.widths, strict=True)):
            x0 = (w - lw) / 2 - pad_x
            y0 = i * step
            d.rounded_rectangle((x0, y0, x0 + lw + 2 * pad_x, y0 + box_h), radius=self.px(1.2), fill=box)
            one = TextBlock((line,), block.font, block.size, block.stroke, line_h, (lw,), block.rtl)
            draw_block(d, one, x0 + pad_x, y0 + pad_y, ink)
        pad = self.px(2)
        return Piece(soft_shadow(_pad(im, pad), self.px(1.2), (0, self.px(0.5)), 110), Box(pad, pad, w, h))

    def scrim(self, height: float, max_alpha: int = 170, top: bool = False) -> Overlay:
        """A full-width dark gradient that makes text readable over any photo."""
        h = int(height)
        col = Image.new("L", (1, h))
        for yy in range(h):
            t = yy / max(1, h - 1)
            t = 1 - t if top else t
            col.putpixel((0, yy), int(max_alpha * (t ** 1.6)))
        alpha = col.resize((self.W, h))
        im = Image.new("RGBA", (self.W, h), (8, 6, 4, 255))
        im.putalpha(alpha)
        return self.save(im, 0, 0 if top else self.H - h, trim=False)

    def image(self, im: Image.Image, x: float, y: float) -> Overlay:
        return self.save(im, x, y, trim=False)

    def gradient_plate(self, top: RGBA, bottom: RGBA, *, grid: RGBA | None = None,
                       glow: tuple[float, float, RGBA] | None = None) -> Path:
        """A full-frame opaque background: vertical gradient, optional grid and radial glow."""
        im = Image.new("RGBA", (self.W, self.H))
        col = Image.new("RGBA", (1, self.H))
        for yy in range(self.H):
            t = yy / max(1, self.H - 1)
            col.putpixel((0, yy), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
        im = col.resize((self.W, self.H))
        if glow:
            gx, gy, gcol = glow
            g = Image.new("RGBA", (self.W, self.H), (0, 0, 0, 0))
            gd = ImageDraw.Draw(g)
            r = max(self.W, self.H) * 0.42
            gd.ellipse((gx - r, gy - r, gx + r, gy + r), fill=gcol)
            g = g.filter(ImageFilter.GaussianBlur(r * 0.45))
            im = Image.alpha_composite(im, g)
        if grid:
            gl = Image.new("RGBA", (self.W, self.H), (0, 0, 0, 0))
            gd = ImageDraw.Draw(gl)
            step = self.px(6)
            for gx in range(step // 2, self.W, step):
                gd.line((gx, 0, gx, self.H), fill=grid, width=1)
            for gy in range(step // 2, self.H, step):
                gd.line((0, gy, self.W, gy), fill=grid, width=1)
            im = Image.alpha_composite(im, gl)
        path = self.workdir / f"plate_{next(self._seq):02d}.png"
        im.convert("RGB").save(path, compress_level=0)
        return path

    def card_shadow(self, x: float, y: float, w: float, h: float, radius_u: float = 1.6,
                    opacity: int = 150) -> Overlay:
        """A soft drop shadow for a card placed at (x, y, w, h)."""
        spread = self.px(3)
        im = Image.new("RGBA", (int(w) + 2 * spread, int(h) + 2 * spread), (0, 0, 0, 0))
        d = ImageDraw.Draw(im)
        d.rounded_rectangle((spread, spread + self.px(0.8), spread + w, spread + h + self.px(0.8)),
                            radius=self.px(radius_u), fill=(0, 0, 0, opacity))
        im = im.filter(ImageFilter.GaussianBlur(self.px(1.4)))
        return self.save(im, x - spread, y - spread, trim=False)

    def tile_mask(self, w: int, h: int, spread: int, radius_u: float = 1.4, shadow: int = 120) -> Path:
        """Alpha mask (grey PNG) for a tile padded by ``spread`` px: rounded corners and a soft
        drop shadow around it (the padding is black, so the mask turns it into a shadow)."""
        W, H = w + 2 * spread, h + 2 * spread
        mask = Image.new("L", (W, H), 0)
        d = ImageDraw.Draw(mask)
        off = max(1, spread // 3)
        d.rounded_rectangle((spread, spread + off, spread + w - 1, spread + h - 1 + off),
                            radius=self.px(radius_u), fill=shadow)
        mask = mask.filter(ImageFilter.GaussianBlur(spread / 2.5))
        sharp = Image.new("L", (W, H), 0)
        ImageDraw.Draw(sharp).rounded_rectangle((spread, spread, spread + w - 1, spread + h - 1),
                                                radius=self.px(radius_u), fill=255)
        mask.paste(255, (0, 0), sharp)
        path = self.workdir / f"mask_{next(self._seq):02d}.png"
        mask.save(path, compress_level=0)
        return path


def place(ov: Overlay, *, x: float | None = None, y: float | None = None) -> Overlay:
    """The same overlay moved (kept on even pixels for crisp 4:2:0 chroma)."""
    nx = ov.x if x is None else int(x) // 2 * 2
    ny = ov.y if y is None else int(y) // 2 * 2
    return Overlay(ov.path, nx, ny, ov.w, ov.h)


def _pad(im: Image.Image, pad: int) -> Image.Image:
    out = Image.new("RGBA", (im.width + 2 * pad, im.height + 2 * pad), (0, 0, 0, 0))
    out.paste(im, (pad, pad))
    return out
