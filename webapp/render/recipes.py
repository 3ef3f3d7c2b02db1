"""The six templates of the local renderer. Each recipe adds its part of one filter graph:
motion, transitions, text layout and colours are its own; the renderer adds captions, the
music bed, the encoder settings and the poster frame."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from .graph import Graph, num, slide
from .overlays import OverlayMaker, draw_block, place, rgba, soft_shadow
from .spec import RenderSpec
from .textutil import bullets, phrases, tagline


@dataclass(frozen=True)
class SourceImage:
    """A product image ready for ffmpeg: a JPEG path and the colours of its borders when they
    are plain (a studio shot on white), so letterboxing can extend the photo seamlessly."""

    index: int
    path: Path
    width: int
    height: int
    edge_sides: str | None = None  # "#rrggbb" when the left and right borders are one plain colour
    edge_ends: str | None = None  # same for top and bottom

    @property
    def aspect(self) -> float:
        return self.width / self.height

    def edge_for(self, box: tuple[int, int]) -> str | None:
        """The padding colour for fitting into ``box``: bars left/right or top/bottom."""
        if self.width / self.height < box[0] / box[1]:
            return self.edge_sides
        return self.edge_ends


@dataclass
class Ctx:
    spec: RenderSpec
    width: int
    height: int
    fps: int
    frames: int
    images: list[SourceImage]
    g: Graph
    ov: OverlayMaker
    caption_top: float | None = None  # top of the timed-caption zone, when there are captions

    @property
    def bottom(self) -> float:
        """Lowest y recipe text may use: above the captions, or the bottom margin."""
        if self.caption_top is not None:
            return self.caption_top - self.px(2)
        return self.height - self.px(5)

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    @property
    def wide(self) -> bool:
        return self.width / self.height > 1.2

    @property
    def tall(self) -> bool:
        return self.height / self.width > 1.2

    def px(self, units: float) -> int:
        return self.ov.px(units)


@dataclass
class Built:
    label: str
    poster: float  # seconds
    post: list[str] = field(default_factory=list)  # filters after captions (e.g. fades)


@dataclass(frozen=True)
class Recipe:
    key: str
    name: str
    description: str
    mood: str  # music bed, see audio.MOODS
    build: Callable[[Ctx], Built] = field(repr=False, compare=False)


def plan(total: int, n: int, t_pref: int) -> tuple[int, int]:
    """Frames per segment and per transition so that n segments joined by n-1 transitions
    last at least ``total`` frames; transitions never take more than ~40 % of a segment."""
    if n <= 1:
        return total, 0
    t = max(2, min(t_pref, int(total / (n + 1) * 0.8)))
    seg = math.ceil((total + (n - 1) * t) / n)
    return seg, t


def _segment_start(k: int, seg: int, t: int, fps: int) -> float:
    return k * (seg - t) / fps


# -- product_showcase ------------------------------------------------------------------------

def _showcase(c: Ctx) -> Built:
    g, ov, s = c.g, c.ov, c.spec
    n = len(c.images)
    seg, t = plan(c.frames, n, round(0.6 * c.fps))
    segs = []
    for i, im in enumerate(c.images):
        still = g.still(g.image(i), (c.width, c.height), fill="blur", aspect=im.aspect, edge=im.edge_for((c.width, c.height)))
        kind = "zoom_in" if i % 2 == 0 else "zoom_out"
        segs.append((g.motion(still, seg, kind, 0.10), seg))
    base = g.sequence(segs, ["fade"], t)
    lt = ov.lower_third(s.title, s.price, accent="#FFB020", panel=(12, 12, 18, 205), bottom=c.bottom)
    t_in = 0.45
    base = g.overlay(base, lt, t_in, c.duration, fade_in=0.5, x=slide(lt.x, t_in, -c.px(6), 0.7),
                     total=c.duration)
    first_cut = (seg - t) / c.fps if n > 1 else c.duration
    poster = max(0.2, min(t_in + 1.0, first_cut - 0.1))
    return Built(base, poster, ["fade=t=in:st=0:d=0.3"])


# -- lifestyle ---------------------------------------------------------------------------------

WARM_GRADE = (
    # cheap look-up tables on the still (applied once per photo): warmer chroma, gentle contrast
    "lutyuv=u='clip(val-6,16,240)':v='clip(val+7,16,240)'",
    "eq=saturation=1.08:contrast=1.04",
    "vignette=angle=PI/5",
)


def _lifestyle(c: Ctx) -> Built:
    g, ov, s = c.g, c.ov, c.spec
    W, H, D = c.width, c.height, c.duration
    n = len(c.images)
    seg, t = plan(c.frames, n, round(1.0 * c.fps))
    pans = ["pan_down", "pan_up"] if c.tall else ["pan_right", "pan_left"]
    segs = []
    for i, im in enumerate(c.images):
        still = g.still(g.image(i), (W, H), fill="blur", aspect=im.aspect, edge=im.edge_for((W, H)),
                        grade=WARM_GRADE, blur_tint=":gamma_r=1.06:gamma_b=0.94")
        segs.append((g.motion(still, seg, pans[i % 2], 0.14), seg))
    smooth = ["smoothup", "smoothdown"] if c.tall else ["smoothleft", "smoothright"]
    base = g.sequence(segs, smooth, t)
    # a warm dark scrim at the bottom; the tagline, then the name and price, sit on it
    base = g.overlay_static(base, ov.scrim(H * (0.38 if c.tall else 0.5), 185))
    m = c.px(6)
    cream = rgba("#FFF3DF")
    line = tagline(s.description, s.custom_instructions, s.title)
    tag = ov.headline(line, max_w=W - 2 * m, size_u=7.2, colour=cream, bold=False, max_lines=2,
                      left_top=(m, 0), align="left", shadow=160, min_size_u=4.2)
    tag = place(tag, y=c.bottom - tag.h + c.px(2))
    tag_end = D * 0.58
    base = g.overlay(base, tag, 0.6, tag_end, fade_in=0.8, fade_out=0.5,
                     y=slide(tag.y, 0.6, c.px(3), 1.2), total=D)
    name = ov.headline(s.title, max_w=W - 2 * m, size_u=5.6, max_lines=2, align="left",
                       left_top=(m, 0), shadow=160, kicker=s.price or "Made for everyday life",
                       kicker_colour=rgba("#FFC977"), min_size_u=3.4,
                       kicker_scale=0.62)
    name = place(name, y=c.bottom - name.h + c.px(2))
    name_in = tag_end + 0.1
    base = g.overlay(base, name, name_in, D, fade_in=0.6, y=slide(name.y, name_in, c.px(3), 1.0),
                     total=D)
    return Built(base, min(2.0, tag_end - 0.3),
                 ["fade=t=in:st=0:d=0.6", f"fade=t=out:st={num(D - 0.6)}:d=0.6"])


# -- store_display -----------------------------------------------------------------------------

def _grid(n: int, aspect: str) -> tuple[int, int]:
    """Columns x rows of the shelf: one row of upright tiles when few, a wall when many."""
    tables = {
        "16:9": ({1: (1, 1), 2: (2, 1), 3: (3, 1), 4: (4, 1), 5: (3, 2), 6: (3, 2)}, (5, 2)),
        "9:16": ({1: (1, 1), 2: (1, 2), 3: (1, 3), 4: (2, 2), 5: (2, 3), 6: (2, 3)}, (2, 4)),
        "1:1": ({1: (1, 1), 2: (2, 1), 3: (3, 1), 4: (2, 2), 5: (3, 2), 6: (3, 2)}, (3, 3)),
    }
    table, default = tables.get(aspect, tables["1:1"])
    return table.get(n, default)


def _store(c: Ctx) -> Built:
    g, ov, s = c.g, c.ov, c.spec
    W, H, D, fps = c.width, c.height, c.duration, c.fps
    n = len(c.images)
    t = round(0.6 * fps)
    mosaic = min(round(max(2.4, 0.45 * D) * fps), c.frames - round(2.0 * fps))
    hero = c.frames - mosaic + t
    m = c.px(5)
    # 1. the shelf: header, then tiles pop in one after another under a spotlight
    plate = ov.gradient_plate(rgba("#1C1917"), rgba("#0C0A09"),
                              glow=(W / 2, H * 0.1, (255, 214, 150, 70)))
    base = g.plate(plate, mosaic)
    header = ov.headline(s.title, max_w=W - 2 * m, size_u=5.2, max_lines=1, align="left",
                         left_top=(m, m * 0.8), kicker="Now in store", kicker_colour=rgba("#FACC15"),
                         shadow=0, min_size_u=3.2)
    base = g.overlay(base, header, 0.1, mosaic / fps, fade_in=0.4, fade_out=0)
    top = header.y + header.h + c.px(3)
    cols, rows = _grid(n, s.aspect_ratio)
    gap = c.px(2.2)
    area_w, area_h = W - 2 * m, c.bottom - top
    tw = int((area_w - (cols - 1) * gap) / cols) // 2 * 2
    th = int((area_h - (rows - 1) * gap) / rows) // 2 * 2
    spread = c.px(2.4) // 2 * 2
    mask = ov.tile_mask(tw, th, spread)
    count = cols * rows
    step = min(0.3, (mosaic / fps - 1.2) / max(1, count))
    for k in range(count):
        i = k % n
        im = c.images[i]
        tile = g.flat(g.still(g.image(i), (tw, th), fill="blur", aspect=im.aspect,
                              edge=im.edge_for((tw, th)), scale=1.0))
        tile = g.add(tile, f"pad={tw + 2 * spread}:{th + 2 * spread}:{spread}:{spread}:color=black")
        tile = g.add([tile, g.add(g.input(mask), ["format=gray"])], ["alphamerge", "format=yuva420p"])
        start_f = round((0.35 + k * step) * fps)
        tile = g.hold(tile, mosaic - start_f, start_f)
        tile = g.add(tile, f"fade=t=in:st={num(start_f / fps)}:d=0.35:alpha=1")
        col, row = k % cols, k // cols
        x = m + col * (tw + gap) - spread
        y = int(top + row * (th + gap)) - spread
        base = g.add([base, tile], f"overlay=x={x}:y='{slide(y, start_f / fps, c.px(5), 0.5)}'"
                                   f":eof_action=pass:format=yuv420:eval=frame")
    # 2. the hero: first photo, slow push in, a white shelf-talker with the price
    first = c.images[0]
    still = g.still(g.image(0), (W, H), fill="blur", aspect=first.aspect, edge=first.edge_for((W, H)))
    hero_label = g.motion(still, hero, "zoom_in", 0.08)
    seq = g.sequence([(base, mosaic), (hero_label, hero)], ["circleopen"], t)
    hero_start = (mosaic - t) / fps
    lt = ov.lower_third(s.title, s.price, accent="#FACC15", panel=(255, 255, 255, 240),
                        title_colour=rgba("#111827"), price_text=rgba("#111827"),
                        bottom=c.bottom, outline=(17, 24, 39, 60))
    t_in = hero_start + 0.45
    seq = g.overlay(seq, lt, t_in, D, fade_in=0.35, y=slide(lt.y, t_in, c.px(8), 0.6), total=D)
    return Built(seq, hero_start + 0.62 * (D - hero_start))


# -- technical_demo ----------------------------------------------------------------------------

def _technical(c: Ctx) -> Built:
    g, ov, s = c.g, c.ov, c.spec
    D, fps = c.duration, c.fps
    W, H = c.width, c.height
    m = c.px(5)
    accent = "#22D3EE"
    if c.wide:
        cw, ch = int(W * 0.5) // 2 * 2, (H - 2 * m) // 2 * 2
        cx, cy = m, m
        col_x, col_y, col_w = cx + cw + c.px(5), m, W - (cx + cw + c.px(5)) - m
    else:
        cw, ch = (W - 2 * m) // 2 * 2, int(H * (0.47 if c.tall else 0.46)) // 2 * 2
        cx, cy = m, m
        col_x, col_y, col_w = m, cy + ch + c.px(4), W - 2 * m
    col_bottom = c.bottom
    plate = ov.gradient_plate(rgba("#0B1220"), rgba("#111827"), grid=(148, 197, 255, 14),
                              glow=(cx + cw / 2, cy + ch / 2, (34, 211, 238, 46)))
    base = g.plate(plate, c.frames)
    base = g.overlay_static(base, ov.card_shadow(cx, cy, cw, ch, opacity=170))
    # the card: product images, gentle zoom, slide transitions
    n = len(c.images)
    seg, t = plan(c.frames, n, round(0.45 * fps))
    segs = []
    for i, im in enumerate(c.images):
        still = g.still(g.image(i), (cw, ch), fill="#F8FAFC", aspect=im.aspect,
                        edge=im.edge_for((cw, ch)))
        kind = "zoom_in" if i % 2 == 0 else "zoom_out"
        segs.append((g.motion(still, seg, kind, 0.06), seg))
    card = g.sequence(segs, ["slideleft"], t)
    base = g.add([base, card], f"overlay={cx}:{cy}:format=yuv420:eof_action=pass")
    # right (or lower) column: kicker + title, numbered call-outs, price
    title = ov.headline(s.title, max_w=col_w, size_u=6.2 if c.tall else 5.2, max_lines=2,
                        align="left", left_top=(col_x, col_y + c.px(1)), kicker="Tech specs",
                        kicker_colour=rgba(accent), shadow=0, min_size_u=3.2)
    base = g.overlay(base, title, 0.25, D, fade_in=0.4, total=D)
    price_ov = None
    if s.price:
        price_ov = ov.price_tag(s.price, accent, x=col_x, y=col_bottom - c.px(7.2), size_u=4.4)
    items = bullets(s.description, s.custom_instructions, s.title)
    top = title.y + title.h + c.px(0.5)
    bottom = (price_ov.y if price_ov else col_bottom) - c.px(1)
    size_u = 4.6 if c.tall else 3.8 if c.wide else 4.2
    while True:
        imgs = [ov.bullet(text, k + 1, max_w=col_w, accent=accent, size_u=size_u)
                for k, text in enumerate(items)]
        gap = c.px(1.6)
        total_h = sum(i.height for i in imgs) + gap * (len(imgs) - 1)
        if total_h <= bottom - top or size_u <= 2.4:
            break
        size_u *= 0.9
    y = top + max(0, (bottom - top - total_h) / 2)
    first = 0.8
    step = min(1.5, max(0.45, (D * 0.62 - first) / max(1, len(imgs))))
    for k, bim in enumerate(imgs):
        bov = ov.image(bim, col_x, y)
        t_in = first + k * step
        base = g.overlay(base, bov, t_in, D, fade_in=0.35, x=slide(bov.x, t_in, c.px(6), 0.5),
                         total=D)
        y += bim.height + gap
    if price_ov:
        p_in = min(D - 1.0, first + len(imgs) * step)
        base = g.overlay(base, price_ov, p_in, D, fade_in=0.35, total=D)
    poster = min(D - 0.2, first + (len(imgs) - 1) * step + 0.7)
    return Built(base, poster)


# -- unboxing ----------------------------------------------------------------------------------

def _unboxing(c: Ctx) -> Built:
    g, ov, s = c.g, c.ov, c.spec
    D, fps = c.duration, c.fps
    W, H = c.width, c.height
    n = len(c.images)
    paper, ink, clay = "#F3EADB", rgba("#1F1A17"), "#C2410C"
    intro = round((1.2 if D < 7 else 1.5) * fps)
    t0 = round(0.5 * fps)
    seg, t = plan(c.frames - intro + t0, n, t0)
    t = t or t0  # one photo: the only transition is the intro's
    seg = max(seg, 2 * t + 1)
    plate = ov.gradient_plate(rgba("#F7F0E6"), rgba("#E6D7BF"),
                              glow=(W / 2, H * 0.42, (255, 255, 255, 70)))
    intro_label = g.plate(plate, intro)
    card = ov.headline(s.title, max_w=W * 0.8, size_u=7.0, colour=ink, max_lines=2,
                       center=(W / 2, H / 2), kicker="Unboxing", kicker_colour=rgba(clay), shadow=0,
                       kicker_scale=0.6)
    intro_label = g.overlay(intro_label, card, 0.15, intro / fps, fade_in=0.35, fade_out=0,
                            y=slide(card.y, 0.15, c.px(4), 0.6))
    segs = [(intro_label, intro)]
    for i, im in enumerate(c.images):
        still = g.still(g.image(i), (W, H), fill=paper, aspect=im.aspect, edge=im.edge_for((W, H)))
        segs.append((g.motion(still, seg, "settle", 0.16), seg))
    reveals = ["wipeleft", "slideup", "wiperight", "slidedown", "circleopen"]
    base = g.sequence(segs, reveals, t)
    last_start = (intro - t + (n - 1) * (seg - t)) / fps
    m = c.px(5)
    price_text = f"Yours for {s.price}" if s.price else "Unboxed"
    tag = ov.pill(price_text, clay, 4.6)
    name = ov.text(s.title, W - 2 * m, 4.2, bold=True, max_lines=1, min_size=c.px(2.8))
    pad = c.px(2)
    bw = max(tag.width, name.width) + 2 * pad
    bh = name.height + c.px(1.4) + tag.height + 2 * pad
    banner = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
    d = ImageDraw.Draw(banner)
    d.rounded_rectangle((0, 0, bw - 1, bh - 1), radius=c.px(1.8), fill=(*rgba(paper)[:3], 235))
    draw_block(d, name, (bw - name.width) / 2, pad, ink)
    banner.alpha_composite(tag, ((bw - tag.width) // 2, pad + name.height + c.px(1.4)))
    sp = c.px(2)
    framed = Image.new("RGBA", (bw + 2 * sp, bh + 2 * sp), (0, 0, 0, 0))
    framed.paste(banner, (sp, sp))
    framed = soft_shadow(framed, c.px(1), (0, c.px(0.4)), 90)
    b_ov = ov.image(framed, (W - framed.width) / 2, c.bottom - framed.height + sp)
    b_in = max(last_start + 0.35, D * 0.5) if n > 1 else max(intro / fps + 0.4, D * 0.45)
    b_in = min(b_in, D - 1.2)
    base = g.overlay(base, b_ov, b_in, D, fade_in=0.3, y=slide(b_ov.y, b_in, c.px(10), 0.6),
                     total=D)
    return Built(base, min(D - 0.2, b_in + 0.8))


# -- human_usage -------------------------------------------------------------------------------

def _human(c: Ctx) -> Built:
    g, ov, s = c.g, c.ov, c.spec
    D, fps = c.duration, c.fps
    W, H = c.width, c.height
    n = len(c.images)
    seg, t = plan(c.frames, n, round(0.5 * fps))
    pans = ("pan_down", "pan_up") if c.tall else ("pan_right", "pan_left")
    kinds = ["zoom_in", pans[0], "zoom_out", pans[1]]
    segs = []
    for i, im in enumerate(c.images):
        still = g.still(g.image(i), (W, H), fill="blur", aspect=im.aspect, edge=im.edge_for((W, H)),
                        grade=("eq=saturation=1.08:contrast=1.05",))
        segs.append((g.motion(still, seg, kinds[i % len(kinds)], 0.12), seg))
    base = g.sequence(segs, ["hblur", "fadefast"] if n > 1 else ["fade"], t)
    m = c.px(5)
    chip_text = s.title if not s.price else f"{s.title}  \u00b7  {s.price}"
    chip = ov.headline(chip_text, max_w=W * (0.6 if c.wide else 0.8), size_u=3.4, max_lines=1,
                       align="left", left_top=(m, m), shadow=0, plate=(0, 0, 0, 140), min_size_u=2.4)
    base = g.overlay(base, chip, 0.3, D, fade_in=0.4, total=D)
    source = s.custom_instructions or s.description or s.title
    lines = phrases(source, D - 0.4) or [s.title]
    slot = (D - 0.5) / len(lines)
    cy = H * (0.62 if c.tall else 0.60)
    for k, line in enumerate(lines):
        big = ov.boxed_lines(line, max_w=W * 0.88, size_u=7.6 if not c.tall else 7.0,
                             box=(255, 255, 255, 242), ink=rgba("#111111"), center=(W / 2, cy))
        start = 0.3 + k * slot
        end = start + slot - 0.08
        base = g.overlay(base, big, start, end, fade_in=0.16, fade_out=0.14,
                         y=slide(big.y, start, c.px(3), 0.3), total=D)
    return Built(base, 0.3 + slot * 0.5)


RECIPES: dict[str, Recipe] = {
    r.key: r
    for r in (
        Recipe("product_showcase", "Product showcase",
               "Slow zoom on each photo with crossfades and a title + price lower third.",
               "bright", _showcase),
        Recipe("human_usage", "Human usage",
               "Big, punchy captions from your instructions over moving photos.",
               "playful", _human),
        Recipe("store_display", "Store display",
               "A shelf-style mosaic of your photos, then a hero shot with a price tag.",
               "retail", _store),
        Recipe("lifestyle", "Lifestyle",
               "Warm colour grade, slow pans and a tagline from your description.",
               "warm", _lifestyle),
        Recipe("technical_demo", "Technical demo",
               "Your photos on a spec sheet: numbered call-outs from the description.",
               "tech", _technical),
        Recipe("unboxing", "Unboxing",
               "A title card, then wipe and slide reveals of each photo, ending on the price.",
               "upbeat", _unboxing),
    )
}
