"""The six templates of the local renderer.

Every template fills the frame it is made for: a packshot is cut out and staged on a backdrop
in the brand's colours (the product a layer of its own, so it can scale in, slide or rise while
the backdrop drifts), a scene is cropped around its product. A recipe names the area its
product takes in each frame shape and the rhythm of its cuts (on the beats of its music); the
renderer plans the shots there and places the captions, then the recipe draws its own text —
in the brand's font and colours — into the space left, through the layout, so nothing covers
the product or another text. Each has a hook in its first second: the product moving in and
bold type.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from ..video_templates import SEED_TEMPLATES
from .audio import MOODS
from .brand import RGB, hex_to_rgb, is_dark, legible_on, mix, readable_ink, rgb_to_hex
from .captions import CaptionStyle
from .compose import backdrop_png
from .graph import Graph, Seg, slide
from .layout import Box, Layout
from .overlays import Overlay, OverlayMaker, Piece
from .shots import (
    Shot,
    beat_cuts,
    card_layer,
    cuts_off,
    detail_card_layer,
    detail_windows,
    even,
    focus_of,
    is_tall,
    is_wide,
    lengths,
    product_layer,
    scene_crop,
    spills,
    stage_box,
)
from .spec import RenderSpec, Word
from .stage import Look
from .textutil import bullets, phrases, tagline

WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
BACKDROP_MARGIN = 0.05  # the backdrop is this much larger than the frame on each side: its drift
CAPTION_PLATE_ALPHA = 245  # nearly opaque: the accent keeps its colour and still reads over a light frame
SAID_SHARE = 0.6  # a script line says a call-out when it has this share of the call-out's words
LONGEST_SHOT_S = 5.0  # past this, a packshot shown whole is followed by its closer look
MAX_CLOSER_LOOKS = 2  # closer looks of one side of a product, at most, in a long video


@dataclass
class Ctx:
    """One video being composed: the frame, the looks at its photos, the graph and overlay
    makers, the layout every box goes through, and the shots once planned."""

    spec: RenderSpec
    width: int
    height: int
    fps: int
    frames: int  # before the end card
    looks: list[Look]
    g: Graph
    ov: OverlayMaker
    layout: Layout
    workdir: Path
    beat: float  # seconds between two beats of the template's music
    words: tuple[Word, ...] = ()  # what the voice says and when, in video time, when it is captioned
    preview: bool = False  # an instant preview: fewer, cheaper pieces
    shots: list[Shot] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    t: int = 0  # frames of each transition between shots
    backdrop: tuple[str, tuple[int, int]] | None = None  # the staged shots' backdrop still and its size
    # when a box shows the product's name, and how big: (start, end, px of its text)
    title_shown: list[tuple[float, float, int]] = field(default_factory=list)

    @property
    def spoken(self) -> bool:
        """The captions are the voice's words (the script is on screen)."""
        return bool(self.words)

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    @property
    def wide(self) -> bool:
        return is_wide(self.width, self.height)

    @property
    def tall(self) -> bool:
        return is_tall(self.width, self.height)

    @property
    def primary(self) -> RGB:
        return hex_to_rgb(self.spec.brand.primary)

    @property
    def accent(self) -> RGB:
        return hex_to_rgb(self.spec.brand.accent)

    @property
    def safe(self) -> Box:
        return self.layout.safe

    def px(self, units: float) -> int:
        return self.ov.px(units)

    def span(self, k: int) -> tuple[float, float]:
        """When shot ``k`` is on screen (its transitions included), in seconds."""
        ends = [*self.starts[1:], self.frames]
        start = self.starts[k] - (self.t if k else 0)
        end = ends[k] + (self.t if k + 1 < len(self.starts) else 0)
        return max(0, start) / self.fps, min(self.frames, end) / self.fps

    def cut(self, k: int) -> float:
        """When shot ``k`` starts, in seconds (the video's end for k = len(shots))."""
        return (self.starts[k] if k < len(self.starts) else self.frames) / self.fps

    def put(self, name: str, piece: Piece, x: float, y: float, when: tuple[float, float], *,
            says_title: bool = False, wiped_out_by: float | None = None) -> Overlay:
        """The piece at (x, y), placed in the layout for ``when`` (refused there if it would
        cover the product or another box, or leave the safe zone); ``says_title``: it shows the
        product's name. ``wiped_out_by``: a wipe that ends then takes it off screen bit by bit,
        showing the next shot where it leaves, so nothing can collide with it once ``when`` ends
        though part of it is seen until then."""
        overlay = self.ov.put(piece, x, y)
        self.layout.place(name, overlay.box, when=when)
        if says_title:
            self.title_shown.append((when[0], when[1] if wiped_out_by is None else wiped_out_by, piece.text_size))
        return overlay

    def slot(self, piece: Piece, within: Box, when: tuple[float, float], *, prefer: str = "bottom",
             align: str = "left") -> tuple[float, float] | None:
        """Where ``piece`` fits inside ``within`` (and the safe zone) without covering anything
        shown during ``when``: as low (``prefer`` bottom), high (top) or central as it can go,
        aligned left, centre or right; None when it fits nowhere."""
        area = _intersection(within, self.safe)
        area = _on_pixels(area) if area is not None else None
        if area is None or piece.w > area.w or piece.h > area.h:
            return None
        room = area.w - piece.w
        x = area.x + int({"center": room / 2, "right": room}.get(align, 0)) // 2 * 2
        step = max(2, self.px(0.5))
        tops = list(range(int(area.y), int(area.bottom - piece.h), step)) + [int(area.bottom - piece.h)]
        if prefer == "bottom":
            tops.reverse()
        elif prefer == "center":
            middle = area.y + (area.h - piece.h) / 2
            tops.sort(key=lambda y: abs(y - middle))
        for y in tops:
            y = y // 2 * 2
            if self.layout.fits(Box(x, y, piece.w, piece.h), when=when):
                return x, y
        return None

    def fit(self, make: Callable[[float], Piece], sizes: tuple[float, ...], within: Box,
            when: tuple[float, float], **where) -> tuple[Piece, float, float] | None:
        """The largest of ``sizes`` at which ``make(size)`` finds a slot."""
        for size in sizes:
            piece = make(size)
            spot = self.slot(piece, within, when, **where)
            if spot is not None:
                return piece, *spot
        return None

    def poster_moment(self, wanted: float) -> float:
        """``wanted``, or, when a closer look is on screen then, a moment of the nearest shot
        (the next first) that shows the product whole: a video is known by its poster."""
        on = next((k for k in range(len(self.shots)) if self.cut(k) <= wanted < self.cut(k + 1)), None)
        if on is None or not self.shots[on].closer:
            return wanted
        for k in sorted(range(len(self.shots)), key=lambda k: (abs(k - on), k < on)):
            if not self.shots[k].closer:
                start, end = self.cut(k), self.cut(k + 1)
                return min(end - 0.1, start + min(0.8, (end - start) / 2))  # settled, after its entrance
        return wanted

    def align_in(self, within: Box) -> str:
        """How a title lines up in ``within``: as the captions there do."""
        return "center" if within.centred_across(self.width) else "left"

    def text_area(self) -> Box:
        """Where a recipe's text goes: beside the product in a wide frame, else under it."""
        product = self.layout.boxes.get("area")
        zone = self.safe
        if product is None:
            return zone
        if self.wide:
            if product.x > self.width / 3:  # product on the right
                return Box(zone.x, zone.y, max(0.0, product.x - self.px(3) - zone.x), zone.h)
            left = product.right + self.px(3)
            return Box(left, zone.y, max(0.0, zone.right - left), zone.h)
        top = product.bottom + self.px(1.5)
        return Box(zone.x, top, zone.w, max(0.0, zone.bottom - top))


def _together(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    return a is None or b is None or (a[0] < b[1] and b[0] < a[1])


def _on_pixels(box: Box) -> Box | None:
    """``box`` shrunk to whole pixels, its left and top even (where a 4:2:0 overlay can start).
    A float's last bit (662.0000000000001) is no pixel: a piece as wide as a column fits it."""
    x0, y0 = math.ceil(box.x - 1e-6), math.ceil(box.y - 1e-6)
    x0, y0 = x0 + x0 % 2, y0 + y0 % 2
    x1, y1 = math.floor(box.right + 1e-6), math.floor(box.bottom + 1e-6)
    return Box(x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None


def _intersection(a: Box, b: Box) -> Box | None:
    x0, y0 = max(a.x, b.x), max(a.y, b.y)
    x1, y1 = min(a.right, b.right), min(a.bottom, b.bottom)
    if x1 <= x0 or y1 <= y0:
        return None
    return Box(x0, y0, x1 - x0, y1 - y0)


@dataclass
class Built:
    label: str
    poster: float  # seconds


@dataclass(frozen=True)
class Framing:
    """How a recipe frames its shots: the product's area in a frame of (width, height), how
    full it fills it, which photos come first, how many beats a shot lasts, how far a scene
    zooms, and its transitions (frames; 0 for hard cuts)."""

    area: Callable[[int, int], Box]
    fill: float = 1.0
    scenes_first: bool = False
    beats_per_shot: int = 4
    zoom: float = 0.08
    transition_s: float = 0.2
    lead: Callable[[Ctx], int] = lambda c: 0  # frames before the first shot (an intro of the recipe's own)


@dataclass(frozen=True)
class Recipe:
    key: str
    name: str
    description: str
    mood: str  # music bed, see audio.MOODS
    build: Callable[[Ctx], Built] = field(repr=False, compare=False)
    framing: Framing = field(repr=False, compare=False)
    caption_style: Callable[[Ctx], CaptionStyle] = field(repr=False, compare=False)


# -- shared pieces ----------------------------------------------------------------------------------

def _tall_area(w: int, h: int) -> Box:
    """The product in a tall frame: half its height and more, from under the platform's top bar
    (it may reach into the top 12 %, where only the platform's tabs are), text below it."""
    return Box(0.05 * w, 0.075 * h, 0.90 * w, 0.505 * h)


def _square_area(w: int, h: int) -> Box:
    return Box(0.08 * w, 0.05 * h, 0.84 * w, 0.56 * h)


def plan_shots(c: Ctx, framing: Framing) -> None:
    """Choose the shots (one per photo, as many as the length allows, and closer looks where the
    photos are too few for it), cut them on beats, place each product in the recipe's area, and
    put the product boxes in the layout."""
    area = framing.area(c.width, c.height)
    lead = framing.lead(c)
    # the product's area is kept for the product from its first shot on (text keeps out of it
    # even where a smaller product leaves it empty, so nothing jumps from shot to shot)
    c.layout.place("area", area, in_safe_zone=False, when=(lead / c.fps, c.duration))
    looks = sorted(c.looks, key=lambda lk: (lk.kind != "scene") if framing.scenes_first else (lk.kind == "scene"))
    closer = _closer_looks(looks) if not c.preview else {}
    cut = c.beat * framing.beats_per_shot
    seconds = (c.frames - lead) / c.fps
    count = max(1, min(len(looks), int(seconds / max(1.2, cut * 0.75))))
    plan = [(look, int(look.index in closer)) for look in looks if closer.get(look.index, True)][:count]
    windows: dict[int, list[Box]] = {}  # the closer looks each photo has, found once

    def details(look: Look) -> list[Box]:
        if look.index not in windows:
            windows[look.index] = detail_windows(look, area, MAX_CLOSER_LOOKS)
        return windows[look.index]

    if not c.preview:
        plan = _closer_looks_for_time(plan, seconds, lambda look: len(details(look)))
    c.t = 0 if len(plan) == 1 else min(round(framing.transition_s * c.fps), round(c.beat * c.fps))
    c.starts = beat_cuts(c.frames, len(plan), c.beat, c.fps, first=lead)
    for k, (look, closer_rank) in enumerate(plan):
        if closer_rank:
            window = details(look)[_closer_looks_before(plan, k)]
            layer = detail_card_layer(look, window, area, c.workdir / f"layer_{k:02d}.png", radius=c.px(1.6))
            shot = Shot(look, layer.product, layer=layer, closer=True)
        elif look.staged:
            box = stage_box(area, look.cutout_size(), c.width, c.height, fill=framing.fill)
            layer = product_layer(look, box, c.workdir / f"layer_{k:02d}.png", shadow=not c.preview)
            shot = Shot(look, layer.product, layer=layer)
        else:
            crop, shown = scene_crop(look, area, c.width, c.height, zoom=framing.zoom)
            if spills(shown, area, c.width, c.height) or cuts_off(crop, look.product_box):
                layer = card_layer(look, area, c.workdir / f"layer_{k:02d}.png", radius=c.px(1.6))
                shot = Shot(look, layer.product, layer=layer)
            else:
                shot = Shot(look, shown, crop=crop, focus=focus_of(look, crop))
        c.shots.append(shot)
        # products are pictures: one may cross another during a transition, text may cross none
        c.layout.place(f"product_{k}", shot.product, in_safe_zone=False,
                       may_overlap=("area", *(f"product_{j}" for j in range(k))), when=c.span(k))


def _closer_looks_before(plan: list[tuple[Look, int]], k: int) -> int:
    """How many closer looks of the same side come before shot ``k``: which of its photo's
    details it shows (the next one, not one another photo of that side has shown)."""
    return sum(1 for j in _side_of(plan, plan[k][0]) if j < k and plan[j][1])


def _closer_looks(looks: list[Look]) -> dict[int, bool]:
    """Cut-outs that show a side of the product already shown whole (the same silhouette: on
    the stage, the same shot again): the first of them is kept as a closer look (True), any
    further one is left out (False), as long as two shots remain."""
    verdicts: dict[int, bool] = {}
    shown: list[tuple[Look, bool]] = []  # each side shown whole, and whether it had its closer look
    for look in looks:
        same = next((i for i, (whole, _) in enumerate(shown) if look.staged and look.looks_like(whole)), None)
        if same is None:
            if look.staged:
                shown.append((look, False))
            continue
        whole, had_closer = shown[same]
        verdicts[look.index] = not had_closer
        shown[same] = (whole, True)
    dropped = [index for index, kept in verdicts.items() if not kept]
    while dropped and len(looks) - len(dropped) < 2:
        verdicts.pop(dropped.pop())
    return verdicts


def _closer_looks_for_time(plan: list[tuple[Look, int]], seconds: float,
                           details: Callable[[Look], int]) -> list[tuple[Look, int]]:
    """Shots of (look, closer: 0 whole, n its side's n-th closer look), with closer looks added
    where there are too few photos for the length (a long script over three photos played as
    10-second shots): while a shot would last over LONGEST_SHOT_S, a packshot shown whole is
    followed by a closer look, one side after another, then by a second one where ``details``
    says its photo has another part to show, up to MAX_CLOSER_LOOKS. A scene has none: its
    most detailed part is often not the product."""
    plan = list(plan)
    for rank in range(1, MAX_CLOSER_LOOKS + 1):
        for look in [look for look, closer in plan if look.staged and not closer]:
            if seconds / len(plan) <= LONGEST_SHOT_S:
                return plan
            side = _side_of(plan, look)
            if len(side) == rank and details(look) >= rank:  # shown whole, with rank - 1 closer looks so far
                plan.insert(side[-1] + 1, (look, rank))
    return plan


def _side_of(plan: list[tuple[Look, int]], look: Look) -> list[int]:
    """The shots of ``look``'s side: itself, and the closer looks of it or of a photo of the same side."""
    return [k for k, (other, closer) in enumerate(plan) if other is look or (closer and other.looks_like(look))]


def staged_backdrop(c: Ctx, *, wall: RGB | None = None, dark: bool | None = None, floor_at: float | None = None) -> None:
    """The backdrop of the staged shots, in the brand's colours, larger than the frame so it
    can drift; its floor meets the product area's bottom."""
    if c.backdrop is not None or not any(s.staged for s in c.shots):
        return
    area = c.layout.boxes["area"]
    margin = BACKDROP_MARGIN
    w, h = even(c.width * (1 + 2 * margin)), even(c.height * (1 + 2 * margin))
    floor = floor_at if floor_at is not None else min(0.9, (area.bottom / c.height + margin) / (1 + 2 * margin))
    light = ((area.center[0] / c.width + margin) / (1 + 2 * margin), (area.center[1] / c.height + margin) / (1 + 2 * margin))
    png = backdrop_png(w, h, wall or c.primary, c.accent, c.workdir / "backdrop.png", light_at=light,
                       floor_at=floor, dark=dark)
    c.backdrop = (c.g.still_png(png), (w, h))


def shot_segments(c: Ctx, *, enters: Callable[[int], str], scene_moves: Callable[[int], str],
                  grade: tuple[str, ...] = (), scene_grade: tuple[str, ...] = (), pan: tuple[float, float, float, float] = (0.1, 0.5, 0.9, 0.5),
                  scene_amount: float | None = None) -> list[tuple[Seg, int]]:
    """The graph of every shot, ready for ``Graph.sequence``: staged shots over the drifting
    backdrop with their product entering as ``enters(k)`` says; scenes moving as
    ``scene_moves(k)`` says (zoom_in, settle, pan_…), towards their product."""
    g = c.g
    segs = []
    frames = [n + (c.t if k + 1 < len(c.starts) else 0) for k, n in enumerate(lengths(c.starts, c.frames))]
    products: dict[Path, str] = {}
    scale = 1.0 if c.preview else 2.0
    for k, (shot, n) in enumerate(zip(c.shots, frames, strict=True)):
        if shot.layer is not None:
            assert c.backdrop is not None
            product = products.get(shot.layer.path) or g.still_png(shot.layer.path, alpha=True)
            products[shot.layer.path] = product
            enter = enters(k)
            enter_frames = round((0.55 if enter == "scale" else 0.45) * c.fps) if enter != "none" else 0
            segs.append((g.staged(c.backdrop[0], c.backdrop[1], shot.layer, product, n,
                                  first_frame=max(0, c.starts[k] - (c.t if k else 0)), total_frames=c.frames,
                                  pan=pan, enter=enter, enter_frames=enter_frames, grade=grade), n))
        else:
            assert shot.crop is not None
            still = g.crop_still(g.image(shot.look.index), shot.crop, (c.width, c.height), scale=scale,
                                 grade=scene_grade)
            amount = scene_amount if scene_amount is not None else 0.08
            segs.append((g.motion(still, n, scene_moves(k), amount, shot.focus), n))
    return segs


def said_at(c: Ctx, text: str) -> float | None:
    """When the voice starts the script line that says ``text`` (most of its words, as a spec
    call-out repeats a line written from the same description); None if no line does."""
    wanted = _word_set(text)
    lines: dict[int, list[Word]] = {}
    for word in c.words:
        lines.setdefault(word.line, []).append(word)
    best: tuple[float, float] | None = None  # (share of the words said, when the line starts)
    for said in lines.values():
        share = len(wanted & _word_set(" ".join(w.text for w in said))) / max(1, len(wanted))
        if share >= SAID_SHARE and (best is None or share > best[0]):
            best = (share, said[0].start)
    return best[1] if best else None


def _word_set(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _ink(rgb: RGB) -> tuple[int, int, int, int]:
    return (*readable_ink(rgb), 255)


def _deep(rgb: RGB) -> RGB:
    """A dark shade of a brand colour, for plates that white text sits on."""
    return mix(rgb, BLACK, 0.55) if not is_dark(rgb) else mix(rgb, BLACK, 0.25)


CHARCOAL: RGB = (24, 24, 28)


def panel_colour(c: Ctx) -> RGB:
    """What text panels and caption plates are made of: the primary when it is a dark colour
    (a navy, a forest green), else a near-black (a pale primary would wash light text out, and
    a dark shade of it turns muddy)."""
    return _deep(c.primary) if is_dark(c.primary) else CHARCOAL


def wall_colour(c: Ctx) -> RGB:
    """A deep brand colour for a full-frame wall (the shop window, the spec sheet): the
    primary when dark, else a deep shade of the accent, else near-black."""
    if is_dark(c.primary):
        return c.primary
    deep_accent = mix(c.accent, BLACK, 0.55)
    return deep_accent if is_dark(deep_accent) else CHARCOAL


def default_captions(c: Ctx) -> CaptionStyle:
    """Captions on a deep plate of the brand's primary, the word being said in its accent
    (lightened as far as it takes to read on that plate as it shows over a white frame: a red
    accent on a navy plate read 2.7:1 over a light photo)."""
    plate = panel_colour(c)
    seen = mix(plate, WHITE, 1 - CAPTION_PLATE_ALPHA / 255)
    return CaptionStyle(accent=rgb_to_hex(legible_on(c.accent, seen)), plate=(*plate, CAPTION_PLATE_ALPHA))


def lower_third(c: Ctx, name: str, when: tuple[float, float], *, within: Box | None = None,
                panel: RGB | None = None, prefer: str = "bottom") -> Overlay | None:
    """The title with an accent bar and the price in an accent pill, on a brand panel: as big
    as fits where it goes, or nothing when nothing fits."""
    s = c.spec
    within = within or c.text_area()
    panel_rgb = panel or panel_colour(c)
    made = c.fit(lambda size: c.ov.lower_third(s.title, s.price, accent=s.brand.accent, panel=(*panel_rgb, 236),
                                               max_w=within.w, title_colour=_ink(panel_rgb), size_u=size),
                 (6.0, 5.2, 4.4, 3.6), within, when, prefer=prefer, align=c.align_in(within))
    if made is None:
        return None
    piece, x, y = made
    return c.put(name, piece, x, y, when, says_title=True)


def hook_title(c: Ctx, name: str, when: tuple[float, float], *, within: Box | None = None,
               colour: RGB | None = None, kicker: str | None = None, plate: RGB | None = None,
               prefer: str = "center", align: str = "left", sizes: tuple[float, ...] = (9.0, 8.0, 7.0, 6.0, 5.0)) -> Overlay | None:
    """The first second's bold type: the product's name, big."""
    within = within or c.text_area()
    ink = colour or WHITE
    made = c.fit(lambda size: c.ov.headline(c.spec.title, max_w=within.w, size_u=size, colour=(*ink, 255), max_lines=3,
                                            align=align if align != "center" else "center", kicker=kicker,
                                            kicker_colour=(*c.accent, 255), plate=(*plate, 230) if plate else None,
                                            shadow=0 if plate else 150, kicker_scale=0.5),
                 sizes, within, when, prefer=prefer, align=align)
    if made is None:
        return None
    piece, x, y = made
    return c.put(name, piece, x, y, when, says_title=True)


def discount_kicker(s: RenderSpec) -> str | None:
    from .endcard import discount_percent, parse_price

    percent = discount_percent(parse_price(s.price), parse_price(s.compare_at_price))
    return f"Save {percent}%" if percent else None  # the catalog's claim; "today" would invent a deadline


# -- product_showcase ------------------------------------------------------------------------------

def _showcase_area(w: int, h: int) -> Box:
    if is_tall(w, h):
        return _tall_area(w, h)
    if is_wide(w, h):
        return Box(0.50 * w, 0.08 * h, 0.45 * w, 0.84 * h)
    return _square_area(w, h)


def _showcase(c: Ctx) -> Built:
    g = c.g
    staged_backdrop(c)
    segs = shot_segments(c, enters=lambda k: "scale" if k == 0 else ("right" if k % 2 else "left"),
                         scene_moves=lambda k: "zoom_in" if k % 2 == 0 else "zoom_out")
    base = g.sequence(segs, ["fade"], c.t)
    D = c.duration
    hook_end = min(max(c.cut(1) if len(c.shots) > 1 else 2.0, 1.6), D * 0.5)
    hook = hook_title(c, "hook", (0.15, hook_end), kicker=discount_kicker(c.spec),
                      colour=readable_ink(c.primary) if not c.shots or c.shots[0].staged else WHITE)
    if hook is not None:
        base = g.overlay(base, hook, 0.15, hook_end, fade_in=0.25, fade_out=0.2,
                         y=slide(hook.y, 0.15, c.px(6), 0.45), total=D)
    lt = lower_third(c, "lower_third", (hook_end, D))
    if lt is not None:
        base = g.overlay(base, lt, hook_end, D, fade_in=0.3, x=slide(lt.x, hook_end, -c.px(6), 0.5), total=D)
    poster = min(D - 0.1, hook_end + 0.8)
    return Built(base, poster)


# -- human_usage -----------------------------------------------------------------------------------

def _human_area(w: int, h: int) -> Box:
    if is_tall(w, h):
        return _tall_area(w, h)
    if is_wide(w, h):
        return Box(0.44 * w, 0.06 * h, 0.52 * w, 0.88 * h)
    return _square_area(w, h)


def _human_captions(c: Ctx) -> CaptionStyle:
    """Big bold captions on accent plates: the template's voice."""
    return CaptionStyle(accent=rgb_to_hex(panel_colour(c)) if not is_dark(c.accent) else rgb_to_hex(mix(c.accent, WHITE, 0.7)),
                        ink=_ink(c.accent), plate=(*c.accent, 240),
                        size_u=9.0 if c.tall else 7.4)


def _human(c: Ctx) -> Built:
    g, s = c.g, c.spec
    staged_backdrop(c, wall=mix(c.accent, WHITE, 0.55), dark=False)
    segs = shot_segments(c, enters=lambda k: "scale" if k == 0 else "rise",
                         scene_moves=lambda k: ("zoom_in", "pan_right", "zoom_out", "pan_left")[k % 4],
                         scene_grade=("eq=saturation=1.08:contrast=1.05",))
    base = g.sequence(segs, ["hblur", "fadefast"], c.t)
    D = c.duration
    area = c.text_area()
    # a chip with the name and price, from the first beat to the end
    chip_text = s.title if not s.price else f"{s.title}  \u00b7  {s.price}"
    chip_at = min(c.beat, 0.6)
    made = c.fit(lambda size: c.ov.headline(chip_text, max_w=area.w, size_u=size, max_lines=1, align="left",
                                            shadow=0, plate=(*panel_colour(c), 225), colour=_ink(panel_colour(c))),
                 (3.6, 3.0, 2.6), area, (chip_at, D), prefer="top")
    if made is not None:
        piece, x, y = made
        chip = c.put("chip", piece, x, y, (chip_at, D), says_title=True)
        base = g.overlay(base, chip, chip_at, D, fade_in=0.3, total=D)
    if c.spoken:  # the voice's big captions say it, word by word
        return Built(base, min(D - 0.2, 1.5))
    # no voice: big boxed phrases from the merchant's words, one per beat pair
    source = s.custom_instructions or s.description or s.title
    lines = phrases(source, D - 0.3, min_slot=max(1.0, 2 * c.beat)) or [s.title]
    slot = (D - 0.2) / len(lines)
    poster = 0.5
    for k, line in enumerate(lines):
        start = 0.1 + k * slot
        end = start + slot - 0.06
        made = c.fit(lambda size, line=line: c.ov.boxed_lines(line, max_w=area.w, size_u=size,
                                                               box=(*c.accent, 245), ink=_ink(c.accent)),
                     (8.4, 7.2, 6.0, 5.0), area, (start, end), prefer="center", align="center")
        if made is None:
            continue
        piece, x, y = made
        big = c.put(f"phrase_{k}", piece, x, y, (start, end))
        base = g.overlay(base, big, start, end, fade_in=0.12, fade_out=0.1, y=slide(big.y, start, c.px(3), 0.25),
                         total=D)
        if k == 0:
            poster = start + slot * 0.5
    return Built(base, poster)


# -- store_display ---------------------------------------------------------------------------------

def _store_area(w: int, h: int) -> Box:
    if is_tall(w, h):
        return _tall_area(w, h)
    if is_wide(w, h):
        return Box(0.47 * w, 0.08 * h, 0.48 * w, 0.84 * h)
    return _square_area(w, h)


def _grid(n: int, aspect: str) -> tuple[int, int]:
    """Columns x rows of the shop window."""
    tables = {
        "16:9": {1: (1, 1), 2: (2, 1), 3: (3, 1), 4: (2, 2)},
        "9:16": {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 2)},
        "1:1": {1: (1, 1), 2: (2, 1), 3: (3, 1), 4: (2, 2)},
    }
    return tables.get(aspect, tables["1:1"]).get(n, (2, 2))


def _tile(c: Ctx, look: Look, w: int, h: int, paper: RGB, out: Path) -> Path:
    """One tile of the window: the product cut out on a light card, or its scene cropped."""
    radius = c.px(1.4)
    if look.staged:
        assert look.cutout is not None
        tile = Image.new("RGBA", (w, h), (*paper, 255))
        box = stage_box(Box(w * 0.1, h * 0.1, w * 0.8, h * 0.8), look.cutout_size(), w, h)
        with Image.open(look.cutout) as opened:
            product = opened.convert("RGBA").resize((max(1, round(box.w)), max(1, round(box.h))), Image.Resampling.LANCZOS)
        tile.alpha_composite(product, (round(box.x), round(box.y)))
    else:
        crop, _ = scene_crop(look, Box(w * 0.1, h * 0.1, w * 0.8, h * 0.8), w, h)
        with Image.open(look.path) as opened:
            tile = opened.convert("RGB").crop((round(crop.x), round(crop.y), round(crop.right), round(crop.bottom)))
        tile = tile.resize((w, h), Image.Resampling.LANCZOS).convert("RGBA")
    mask = Image.new("L", (w, h), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, w - 1, h - 1), radius=radius, fill=255)
    tile.putalpha(mask)
    tile.save(out, compress_level=0)
    return out


def _window(c: Ctx) -> int:
    """Frames of the shop window before the hero shots."""
    return max(round(2 * c.beat * c.fps), min(round(0.4 * c.frames), c.frames - round(1.8 * c.fps)))


def _store(c: Ctx) -> Built:
    g, s = c.g, c.spec
    D, fps = c.duration, c.fps
    paper = mix(c.primary, WHITE, 0.9)
    staged_backdrop(c, wall=mix(c.primary, WHITE, 0.5), dark=False)
    # 1. the window: a header, then the tiles pop in on the beats
    window = c.starts[0]
    T = round(0.5 * fps)
    deep = wall_colour(c)
    wall = c.ov.gradient_plate((*deep, 255), (*mix(deep, BLACK, 0.4), 255),
                               glow=(c.width / 2, c.height * 0.1, (*mix(c.accent, WHITE, 0.4), 70)))
    base = g.plate(wall, window + T)
    zone = c.safe
    win_when = (0.0, window / fps)  # (the window fades out over the hero's first T frames)
    header = c.fit(lambda size: c.ov.headline(s.title, max_w=zone.w, size_u=size, max_lines=1, align="left",
                                              kicker="Now in store", kicker_colour=(*legible_on(c.accent, deep), 255), shadow=0,
                                              colour=_ink(deep)),
                   (5.6, 4.8, 4.0, 3.4), zone, win_when, prefer="top")
    top = zone.y
    if header is not None:
        piece, x, y = header
        head = c.put("header", piece, x, y, win_when, says_title=True)
        base = g.overlay(base, head, 0.05, (window + T) / fps, fade_in=0.3, fade_out=0,
                         y=slide(head.y, 0.05, -c.px(4), 0.4))
        top = head.box.bottom + c.px(3)
    tiles = c.looks[:4]
    cols, rows = _grid(len(tiles), s.aspect_ratio)
    gap = c.px(2.4)
    # the tiles take the room between the header and whatever is below it (the captions)
    below = [b.y for name, b in c.layout.boxes.items()
             if name in ("captions", "watermark") and b.y >= top and _together(c.layout.spans[name], win_when)]
    grid_box = Box(zone.x, top, zone.w, max(c.px(10), min([zone.bottom, *below]) - gap - top))
    tw = (grid_box.w - (cols - 1) * gap) / cols
    th = (grid_box.h - (rows - 1) * gap) / rows
    tw, th = even(min(tw, th * 1.25)), even(min(th, tw / 0.8))
    x0 = grid_box.x + (grid_box.w - (cols * tw + (cols - 1) * gap)) / 2
    y0 = grid_box.y + (grid_box.h - (rows * th + (rows - 1) * gap)) / 2
    step = min(2 * c.beat, (window / fps - 0.4) / max(1, len(tiles)))
    for k, look in enumerate(tiles):
        col, row = k % cols, k // cols
        short = cols - min(cols, len(tiles) - row * cols)  # a last row that is not full is centred
        x, y = even(x0 + (col + short / 2) * (tw + gap)), even(y0 + row * (th + gap))
        at = round((0.25 + k * step) * fps) / fps
        products = tuple(name for name in c.layout.boxes if name.startswith("product_"))
        c.layout.place(f"tile_{k}", Box(x, y, tw, th), in_safe_zone=False, may_overlap=("area", *products),
                       when=(at, win_when[1]))
        until = (window + T) / fps
        base = g.overlay(base, c.ov.card_shadow(x, y, tw, th, opacity=120), at, until, fade_in=0.25, fade_out=0)
        png = _tile(c, look, tw, th, paper, c.workdir / f"tile_{k:02d}.png")
        base = g.overlay(base, Overlay(png, x, y, tw, th), at, until, fade_in=0.2, fade_out=0,
                         y=slide(y, at, c.px(6), 0.35))
    # 2. the hero shots: the product staged, the price on a shelf-talker
    segs = shot_segments(c, enters=lambda k: "scale", scene_moves=lambda k: "zoom_in")
    hero = g.sequence(segs, ["fade"], c.t)
    seq = g.sequence([(base, window + T), (hero, c.frames - window)], ["circleopen"], T)
    when = (window / fps + 0.4, D)
    within = c.text_area()
    made = c.fit(lambda size: _shelf_talker(c, size, within.w), (5.6, 4.8, 4.0, 3.4), within, when, prefer="bottom")
    if made is not None:
        piece, x, y = made
        talker = c.put("shelf_talker", piece, x, y, when, says_title=True)
        seq = g.overlay(seq, talker, when[0], D, fade_in=0.3, y=slide(talker.y, when[0], c.px(8), 0.5), total=D)
    return Built(seq, min(D - 0.2, window / fps + 1.2))


def _shelf_talker(c: Ctx, size: float, max_w: float) -> Piece:
    """A white shelf card with an accent top edge: the name, and the price in the accent."""
    s = c.spec
    pad = c.px(2.2)
    ink = (17, 24, 39, 255)
    title = c.ov.text(s.title, max_w - 2 * pad, size, bold=True, max_lines=2, min_size=c.px(2.8))
    price = c.ov.pill(s.price, s.brand.accent, size * 0.8) if s.price else None
    w = int(min(max_w, max(title.width, price.width if price else 0) + 2 * pad))
    h = title.height + (price.height + c.px(1.2) if price else 0) + 2 * pad + c.px(0.8)
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.rounded_rectangle((0, 0, w - 1, h - 1), radius=c.px(1.2), fill=(255, 255, 255, 246))
    d.rounded_rectangle((0, 0, w - 1, c.px(0.8)), radius=c.px(0.4), fill=(*c.accent, 255))
    from .overlays import draw_block

    draw_block(d, title, pad, pad + c.px(0.8), ink, box_w=w - 2 * pad)
    if price is not None:
        px_ = w - pad - price.width if title.rtl else pad
        im.alpha_composite(price, (int(px_), int(pad + c.px(0.8) + title.height + c.px(1.2))))
    return Piece(im, Box(0, 0, w, h), title.size)


# -- lifestyle -------------------------------------------------------------------------------------

WARM_GRADE = (
    # cheap look-up tables on the still (applied once per photo): warmer chroma, gentle contrast
    "lutyuv=u='clip(val-6,16,240)':v='clip(val+7,16,240)'",
    "eq=saturation=1.08:contrast=1.04",
)


def _lifestyle_area(w: int, h: int) -> Box:
    if is_tall(w, h):
        return _tall_area(w, h)
    if is_wide(w, h):
        return Box(0.46 * w, 0.07 * h, 0.50 * w, 0.86 * h)
    return _square_area(w, h)


def _lifestyle(c: Ctx) -> Built:
    g, s = c.g, c.spec
    cream = (255, 243, 223)
    staged_backdrop(c, wall=mix(cream, c.primary, 0.12), dark=False)
    pans = ["pan_down", "pan_up"] if c.tall else ["pan_right", "pan_left"]
    segs = shot_segments(c, enters=lambda k: "scale" if k == 0 else "rise",
                         scene_moves=lambda k: pans[k % 2], scene_grade=WARM_GRADE, scene_amount=0.10,
                         pan=(0.0, 0.4, 1.0, 0.6))
    smooth = ["smoothup", "smoothdown"] if c.tall else ["smoothleft", "smoothright"]
    base = g.sequence(segs, smooth, c.t)
    D = c.duration
    within = c.text_area()
    align = c.align_in(within)
    # light, unhurried type on a translucent warm plate: readable over a bright kitchen and a
    # pale backdrop alike
    plate = (*mix(panel_colour(c), (60, 40, 24), 0.5), 190)
    seen_plate = mix(plate[:3], WHITE, 1 - plate[3] / 255)  # over the palest backdrop it crosses
    tag_end = D * 0.55
    # a tagline while nothing is said; spoken, the captions are the words (the name first), and a
    # plate repeating the name just above them only doubled it
    made = None if c.spoken else c.fit(
        lambda size: c.ov.headline(tagline(s.description, s.custom_instructions, s.title), max_w=within.w,
                                   size_u=size, colour=(*cream, 255), bold=False, max_lines=2, align=align,
                                   shadow=0, plate=plate),
        (7.0, 6.0, 5.0, 4.2, 3.6), within, (0.2, tag_end), prefer="bottom", align=align)
    if made is not None:
        piece, x, y = made
        tag = c.put("tagline", piece, x, y, (0.2, tag_end))
        base = g.overlay(base, tag, 0.2, tag_end, fade_in=0.6, fade_out=0.4, y=slide(tag.y, 0.2, c.px(4), 0.9),
                         total=D)
    name_in = tag_end + 0.1
    made = c.fit(lambda size: c.ov.headline(s.title, max_w=within.w, size_u=size, max_lines=2, align=align,
                                            shadow=0, plate=plate, kicker=s.price or "Made for everyday life",
                                            kicker_colour=(*legible_on(mix(c.accent, WHITE, 0.35), seen_plate, 4.5), 255),
                                            kicker_scale=0.75,
                                            colour=(*cream, 255)),
                 (6.0, 5.0, 4.2, 3.6), within, (name_in, D), prefer="bottom", align=align)
    if made is not None:
        piece, x, y = made
        name = c.put("name", piece, x, y, (name_in, D), says_title=True)
        base = g.overlay(base, name, name_in, D, fade_in=0.6, y=slide(name.y, name_in, c.px(3), 1.0), total=D)
    return Built(base, min(2.0, tag_end - 0.3))


# -- technical_demo --------------------------------------------------------------------------------

def _technical_area(w: int, h: int) -> Box:
    if is_tall(w, h):
        return _tall_area(w, h)
    if is_wide(w, h):
        return Box(0.04 * w, 0.08 * h, 0.46 * w, 0.84 * h)
    return Box(0.08 * w, 0.05 * h, 0.84 * w, 0.52 * h)


def _technical(c: Ctx) -> Built:
    g, s = c.g, c.spec
    D = c.duration
    wall = wall_colour(c)
    staged_backdrop(c, wall=wall, dark=True)
    segs = shot_segments(c, enters=lambda k: "scale" if k == 0 else "left",
                         scene_moves=lambda k: "zoom_in", pan=(0.5, 0.2, 0.5, 0.8))
    base = g.sequence(segs, ["slideleft"], c.t)
    # a fine grid over everything: the look of a spec sheet
    grid = Image.new("RGBA", (c.width, c.height), (0, 0, 0, 0))
    d = ImageDraw.Draw(grid)
    step = c.px(6)
    line = (*mix(c.accent, WHITE, 0.5), 16)
    for x in range(step // 2, c.width, step):
        d.line((x, 0, x, c.height), fill=line, width=1)
    for y in range(step // 2, c.height, step):
        d.line((0, y, c.width, y), fill=line, width=1)
    base = g.overlay_static(base, c.ov.image(grid, 0, 0))
    within = c.text_area()
    title_when = (0.15, D if c.wide else min(D, max(2.0, D * 0.3)))
    title = c.fit(lambda size: c.ov.headline(s.title, max_w=within.w, size_u=size, max_lines=2, align="left",
                                             kicker="Tech specs", kicker_colour=(*legible_on(c.accent, wall), 255), shadow=0,
                                             colour=(241, 245, 249, 255), kicker_scale=0.55),
                  (7.0, 6.0, 5.2, 4.4, 3.6), within, title_when, prefer="top")
    if title is not None:
        piece, x, y = title
        head = c.put("title", piece, x, y, title_when, says_title=True)
        base = g.overlay(base, head, 0.15, title_when[1], fade_in=0.3, fade_out=0.3 if title_when[1] < D else 0,
                         x=slide(head.x, 0.15, c.px(5), 0.4), total=D)
    items = [] if c.spoken and not c.wide else bullets(s.description, s.custom_instructions, s.title)
    first = max(title_when[1] if not c.wide else 0.9, 0.9)
    # the price first, above the captions; the call-outs take the room left above it
    if s.price:
        when = (min(D - 1.0, first + 0.4), D)
        made = c.fit(lambda size: c.ov.price_tag(s.price, s.brand.accent, size), (4.6, 3.8, 3.2), within, when,
                     prefer="bottom")
        if made is not None:
            piece, x, y = made
            tag = c.put("price", piece, x, y, when)
            base = g.overlay(base, tag, when[0], D, fade_in=0.3, total=D)
    if items:
        slot = max(2 * c.beat, (D - 0.4 - first) / len(items))
        sizes = (4.6, 4.0, 3.4, 2.8)
        start = 0.0
        for k, text in enumerate(items):
            # a call-out the voice says comes in as it is said, the others on the list's beat;
            # in the list's order either way
            said = said_at(c, text)
            start = max(start + 0.3 if k else first, said if said is not None else first + k * slot)
            if start > D - 0.8:
                break
            # in a wide frame the call-outs add up in the column; elsewhere one at a time
            end = D if c.wide else min(D, start + slot)
            tried: list[float] = []

            def bullet(size: float, text: str = text, k: int = k, tried: list[float] = tried) -> Piece:
                tried.append(size)
                return c.ov.bullet(text, k + 1, max_w=within.w, accent=s.brand.accent, size_u=size)

            made = c.fit(bullet, sizes, within, (start, end), prefer="top")
            if made is None:
                continue  # left out, not drawn smaller than the list
            sizes = (tried[-1],)  # one list, one size: the first call-out's
            piece, x, y = made
            call = c.put(f"callout_{k}", piece, x, y, (start, end))
            base = g.overlay(base, call, start, end, fade_in=0.25, fade_out=0.2,
                             x=slide(call.x, start, c.px(6), 0.4), total=D)
    return Built(base, min(D - 0.2, first + 1.2))


# -- unboxing --------------------------------------------------------------------------------------

def _unboxing_area(w: int, h: int) -> Box:
    if is_tall(w, h):
        return _tall_area(w, h)
    if is_wide(w, h):
        return Box(0.30 * w, 0.06 * h, 0.40 * w, 0.70 * h)
    return _square_area(w, h)


def _box_lid(c: Ctx) -> Path:
    """The top of a shipping box in the brand's colours: a cardboard tone warmed by the primary,
    a strip of tape in the accent across it."""
    board = mix((196, 160, 118), c.primary, 0.18)
    im = Image.new("RGB", (c.width, c.height), board)
    d = ImageDraw.Draw(im)
    tape_w = c.width * (0.16 if c.tall else 0.1)
    d.rectangle(((c.width - tape_w) / 2, 0, (c.width + tape_w) / 2, c.height), fill=mix(c.accent, WHITE, 0.1))
    d.line((0, c.height / 2, c.width, c.height / 2), fill=mix(board, BLACK, 0.25), width=max(2, c.px(0.35)))
    path = c.workdir / "lid.png"
    im.save(path, compress_level=0)
    return path


def _intro(c: Ctx) -> int:
    """Frames of the closed box before the product comes out."""
    return min(round(max(1.0, 2 * c.beat) * c.fps), c.frames // 3)


def _unboxing(c: Ctx) -> Built:
    g, s = c.g, c.spec
    D, fps = c.duration, c.fps
    paper = mix((243, 234, 219), c.primary, 0.06)
    staged_backdrop(c, wall=paper, dark=False)
    intro = c.starts[0]
    T = round(0.4 * fps)
    lid = g.plate(_box_lid(c), intro + T)
    zone = c.safe
    when = (0.1, intro / fps)  # on the lid: the wipe to the shots carries it out with the lid
    made = c.fit(lambda size: c.ov.headline(s.title, max_w=zone.w * 0.9, size_u=size, max_lines=2, kicker="Unboxing",
                                            kicker_colour=(*_deep(c.accent), 255), shadow=0,
                                            plate=(255, 255, 255, 235), colour=(31, 26, 23, 255)),
                 (7.0, 6.0, 5.0, 4.2), zone, when, prefer="center", align="center")
    if made is not None:
        piece, x, y = made
        card = c.put("intro", piece, x, y, when, says_title=True, wiped_out_by=(intro + T) / fps)
        lid = g.overlay(lid, card, 0.1, (intro + T) / fps, fade_in=0.2, fade_out=0,
                        y=slide(card.y, 0.1, c.px(5), 0.4))
    segs = shot_segments(c, enters=lambda k: "rise" if k == 0 else "scale", scene_moves=lambda k: "settle",
                         scene_amount=0.14)
    shots = g.sequence(segs, ["wipeleft", "coverup", "wiperight", "slidedown"], c.t)  # no slideup: see renderer
    base = g.sequence([(lid, intro + T), (shots, c.frames - intro)], ["wipeup"], T)
    # the price on a banner, once the product is out
    price_text = f"Yours for {s.price}" if s.price else "Unboxed"
    within = c.text_area()
    b_in = min(D - 1.2, intro / fps + 0.6)
    made = c.fit(lambda size: c.ov.lower_third(s.title, price_text, accent=s.brand.accent, panel=(255, 250, 240, 240),
                                               max_w=within.w, title_colour=(31, 26, 23, 255), size_u=size),
                 (5.4, 4.6, 3.8, 3.2), within, (b_in, D), prefer="bottom", align="center")
    if made is not None:
        piece, x, y = made
        banner = c.put("banner", piece, x, y, (b_in, D), says_title=True)
        base = g.overlay(base, banner, b_in, D, fade_in=0.3, y=slide(banner.y, b_in, c.px(10), 0.6), total=D)
    return Built(base, min(D - 0.2, b_in + 0.8))


def beat_of(mood: str) -> float:
    """Seconds between two beats of a music bed (four to a chord)."""
    return MOODS.get(mood, MOODS["bright"]).bar / 4


# How each seed template (webapp.video_templates) is framed, built and captioned.
_BUILDS: dict[str, tuple] = {
    "product_showcase": (_showcase, Framing(_showcase_area, beats_per_shot=4), default_captions),
    "human_usage": (_human, Framing(_human_area, scenes_first=True, beats_per_shot=3, transition_s=0.13, zoom=0.1),
                    _human_captions),
    "store_display": (_store, Framing(_store_area, beats_per_shot=4, lead=_window), default_captions),
    "lifestyle": (_lifestyle, Framing(_lifestyle_area, scenes_first=True, beats_per_shot=4, transition_s=0.6,
                                    zoom=0.1), default_captions),
    "technical_demo": (_technical, Framing(_technical_area, fill=0.92, beats_per_shot=4, transition_s=0.3),
                       default_captions),
    "unboxing": (_unboxing, Framing(_unboxing_area, beats_per_shot=3, transition_s=0.3, zoom=0.14, lead=_intro),
                 default_captions),
}

RECIPES: dict[str, Recipe] = {
    seed.key: Recipe(seed.key, seed.name, seed.description, seed.mood, *_BUILDS[seed.key]) for seed in SEED_TEMPLATES
}
