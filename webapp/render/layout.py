"""Rectangles of a frame: the platform safe zone, and a layout that refuses collisions.

Every text and graphic box of a video is computed as a rectangle before anything is drawn, and
placed through ``Layout.place``: a box outside the safe zone, or over a box already placed
(the product, another text), is refused there, so a collision is a bug found at layout time,
never a frame that shows it. A box may be placed for a span of the video only (``when``): two
boxes collide when they share area while both are on screen. Tests read ``Layout.boxes`` and
``Layout.spans`` to check every template and aspect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Where TikTok, Reels and Shorts draw their own buttons and captions over a 9:16 video:
# nothing of ours goes in the top 12 %, the bottom 20 % or the right 12 % of the frame.
TALL_UNSAFE_TOP = 0.12
TALL_UNSAFE_BOTTOM = 0.20
TALL_UNSAFE_RIGHT = 0.12
# Other frames keep the broadcast title-safe margin on every side.
TITLE_SAFE_MARGIN = 0.05


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in frame pixels: left ``x``, top ``y``, width ``w``, height ``h``."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def centred_across(self, width: float) -> bool:
        """True when the box stands in the middle of a frame ``width`` wide: text in it centres
        (captions under the product), where text in a column beside the product keeps flush left."""
        return abs(self.x + self.w / 2 - width / 2) < 0.05 * width

    def intersects(self, other: Box) -> bool:
        """True when the two share area (touching edges do not count)."""
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom

    def contains(self, other: Box) -> bool:
        return (self.x <= other.x and self.y <= other.y
                and other.right <= self.right + 1e-6 and other.bottom <= self.bottom + 1e-6)

    def inset(self, dx: float, dy: float | None = None) -> Box:
        dy = dx if dy is None else dy
        return Box(self.x + dx, self.y + dy, max(0.0, self.w - 2 * dx), max(0.0, self.h - 2 * dy))

    def rounded(self) -> Box:
        """Whole pixels, never growing past the original edges."""
        x, y = int(-(-self.x // 1)), int(-(-self.y // 1))
        return Box(x, y, int(self.right) - x, int(self.bottom) - y)


def safe_zone(width: int, height: int) -> Box:
    """The part of the frame where our text and graphics may go."""
    if height / width > 1.2:  # vertical video: the platforms' interface covers the edges
        return Box(width * TITLE_SAFE_MARGIN, height * TALL_UNSAFE_TOP,
                   width * (1 - TALL_UNSAFE_RIGHT - TITLE_SAFE_MARGIN),
                   height * (1 - TALL_UNSAFE_TOP - TALL_UNSAFE_BOTTOM))
    return Box(width * TITLE_SAFE_MARGIN, height * TITLE_SAFE_MARGIN,
               width * (1 - 2 * TITLE_SAFE_MARGIN), height * (1 - 2 * TITLE_SAFE_MARGIN))


class LayoutError(ValueError):
    """A box would leave the safe zone or cover another box: a layout bug, caught before drawing."""


Span = tuple[float, float]  # seconds: from, to


def _together(a: Span | None, b: Span | None) -> bool:
    """Whether two boxes are on screen at the same time (None: for the whole video)."""
    return a is None or b is None or (a[0] < b[1] and b[0] < a[1])


@dataclass
class Layout:
    """The boxes of one frame layout, by name. ``place`` checks each against the safe zone and
    against every box already placed that it may not overlap while both are shown; a box placed
    with ``in_safe_zone=False`` (a product, a full-bleed photo) is exempt from the zone only."""

    width: int
    height: int
    boxes: dict[str, Box] = field(default_factory=dict)
    spans: dict[str, Span | None] = field(default_factory=dict)
    exempt: set[str] = field(default_factory=set)
    allowed: set[frozenset[str]] = field(default_factory=set)  # pairs placed to overlap on purpose

    @property
    def safe(self) -> Box:
        return safe_zone(self.width, self.height)

    def place(self, name: str, box: Box, *, in_safe_zone: bool = True, may_overlap: tuple[str, ...] = (),
              when: Span | None = None) -> Box:
        if name in self.boxes:
            raise LayoutError(f"{name!r} is already placed")
        if in_safe_zone and not self.safe.contains(box):
            raise LayoutError(f"{name!r} {box} leaves the safe zone {self.safe}")
        for other, placed in self.boxes.items():
            if other not in may_overlap and placed.intersects(box) and _together(when, self.spans[other]):
                raise LayoutError(f"{name!r} {box} overlaps {other!r} {placed}")
        self.boxes[name] = box
        self.spans[name] = when
        self.allowed.update(frozenset((name, other)) for other in may_overlap)
        if not in_safe_zone:
            self.exempt.add(name)
        return box

    def remove(self, name: str) -> None:
        """Takes a box out again (to place it anew, elsewhere or another size)."""
        del self.boxes[name], self.spans[name]
        self.exempt.discard(name)
        self.allowed = {pair for pair in self.allowed if name not in pair}

    def fits(self, box: Box, *, when: Span | None = None, in_safe_zone: bool = True) -> bool:
        """Whether ``box`` could be placed: inside the safe zone and clear of every box shown
        at the same time."""
        if in_safe_zone and not self.safe.contains(box):
            return False
        return not any(placed.intersects(box) and _together(when, self.spans[name])
                       for name, placed in self.boxes.items())

    def shown(self, when: Span | None) -> list[Box]:
        """The boxes on screen at some moment of ``when``."""
        return [box for name, box in self.boxes.items() if _together(when, self.spans[name])]

    def free_bands(self, within: Box | None = None, when: Span | None = None) -> list[Box]:
        """Horizontal bands of ``within`` (default: the safe zone) that no box shown during
        ``when`` crosses, tallest first: where a caption or a line of text can still go."""
        area = within or self.safe
        cuts = sorted(
            (max(area.y, b.y), min(area.bottom, b.bottom))
            for b in self.shown(when)
            if b.intersects(area)
        )
        bands, top = [], area.y
        for start, end in cuts:
            if start > top:
                bands.append(Box(area.x, top, area.w, start - top))
            top = max(top, end)
        if area.bottom > top:
            bands.append(Box(area.x, top, area.w, area.bottom - top))
        return sorted(bands, key=lambda b: b.h, reverse=True)
