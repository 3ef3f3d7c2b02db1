"""Captions that follow the voice, and the WebVTT file of every video with words in it.

The spoken words are grouped into phrases of two to four words (never across a line of the
script); one phrase is on screen at a time, large and bold on a dark plate, the word being
said in the accent colour. Merchant-timed captions are drawn the same way, without the
highlight. Where they go is a rectangle computed first: inside the platform safe zone, in the
largest free area left by the boxes to avoid (the product, a photo card).

Cost: every state of the captions (a phrase with one word lit, or nothing) is one PNG, and
all of them play as ONE stream through ffmpeg's concat demuxer (an ``ffconcat`` list with
durations), overlaid once: a frame costs one blend of the caption box whatever the number of
words, and each PNG is decoded once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image, ImageDraw

from .brand import typeset
from .fonts import Font, FontSet
from .layout import Box, Layout, safe_zone
from .spec import Caption, Word
from .textutil import is_rtl, strip_emoji

MAX_PHRASE_WORDS = 4
MAX_PHRASE_CHARS = 24  # a phrase longer than this is split sooner, so it stays on two lines
HOLD_AFTER_S = 0.6  # a phrase stays this long after its last word when nothing follows at once
BRIDGE_S = 0.9  # a pause shorter than this keeps the phrase on screen until the next one
_SENTENCE_END = re.compile(r"[.!?\u2026]$")
_CLAUSE_END = re.compile(r"[,;:]$")
_WEAK_END = {"a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by",
             "your", "our", "my", "is", "are", "&", "+"}


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()  # with times: the word lit while it is said


@dataclass(frozen=True)
class CaptionStyle:
    accent: str = "#FFD23F"  # the word being said
    ink: tuple[int, int, int, int] = (255, 255, 255, 255)
    plate: tuple[int, int, int, int] = (12, 12, 16, 200)
    size_u: float | None = None  # text size in % of the frame's short side; None: by aspect


@dataclass(frozen=True)
class CaptionTrack:
    box: Box  # the caption area in frame pixels (every state PNG has its size)
    layout: Layout  # the boxes avoided and the caption box, as placed
    concat: Path  # the ffconcat list of the states
    cues: tuple[Cue, ...]
    text_size: int  # px
    states: tuple[tuple[int, Path, int | None], ...]  # (first frame, png, its cue's index)
    blank: Path  # the state with no caption
    frames: int
    fps: int

    def hushed(self, indexes: set[int]) -> CaptionTrack:
        """The track with the cues at ``indexes`` left off the screen (still in ``cues``, for
        the WebVTT file): while another box on screen already says them."""
        states = [(first, self.blank if cue in indexes else png, None if cue in indexes else cue)
                  for first, png, cue in self.states]
        _write_concat(self.concat, [(first, png) for first, png, _ in states], self.frames, self.fps)
        return replace(self, states=tuple(states))


# -- phrases and cues -------------------------------------------------------------------------

def phrase_cues(words: Sequence[Word]) -> list[Cue]:
    """The spoken words as phrases of two to four words, in order, never across a line of the
    script or a sentence, broken at a comma where one is; a phrase is shown without the comma
    or full stop it ends on (the voice says those as pauses)."""
    groups: list[list[Word]] = []
    sentence: list[Word] = []
    for k, word in enumerate(words):
        sentence.append(word)
        last = k + 1 == len(words) or words[k + 1].line != word.line
        if last or _SENTENCE_END.search(word.text):
            groups += _phrases_of(sentence)
            sentence = []
    cues: list[Cue] = []
    for k, group in enumerate(groups):
        end = group[-1].end + HOLD_AFTER_S
        if k + 1 < len(groups):
            follows = groups[k + 1][0].start
            # a short breath: stay until the next phrase, so the captions do not flicker
            end = follows if follows - group[-1].end < BRIDGE_S else min(end, follows)
        last = group[-1]
        shown = (*group[:-1], Word(_shown(last.text), last.start, last.end, last.line))
        cues.append(Cue(group[0].start, end, " ".join(w.text for w in shown), shown))
    return cues


def _shown(text: str) -> str:
    return text.rstrip(",.;:") or text


def _phrases_of(sentence: list[Word]) -> list[list[Word]]:
    """A sentence's phrases: its clauses in even chunks, a lone word joined to a neighbour."""
    chunks: list[list[Word]] = []
    clause: list[Word] = []
    for word in sentence:
        clause.append(word)
        if _CLAUSE_END.search(word.text):
            chunks += _split_clause(clause)
            clause = []
    if clause:
        chunks += _split_clause(clause)
    merged: list[list[Word]] = []
    while chunks:
        chunk = chunks.pop(0)
        if len(chunk) > 1 or not (merged or chunks):
            merged.append(chunk)
        elif merged and len(merged[-1]) < MAX_PHRASE_WORDS:
            merged[-1] = merged[-1] + chunk
        else:  # ahead of the next chunk, which is split again with it if it gets too long
            chunks[0:1] = _split_clause(chunk + chunks[0])
    return merged


def _split_clause(words: list[Word]) -> list[list[Word]]:
    """Even chunks of at most four words (and MAX_PHRASE_CHARS), not ending on "the", "and"…"""
    out: list[list[Word]] = []
    rest = list(words)
    while rest:
        chunks = max(-(-len(rest) // MAX_PHRASE_WORDS), 1)
        size = -(-len(rest) // chunks)
        take = rest[:size]
        while len(take) > 1 and len(" ".join(w.text for w in take)) > MAX_PHRASE_CHARS:
            take = take[:-1]
        while len(take) > 2 and len(take) < len(rest) and _shown(take[-1].text).lower() in _WEAK_END:
            take = take[:-1]
        out.append(take)
        rest = rest[len(take):]
    return out


def timed_cues(captions: Sequence[Caption], duration: float) -> list[Cue]:
    """Merchant-timed captions as cues, in time order, cut at the video's end."""
    cues = []
    for cap in sorted(captions, key=lambda c: c.start):
        text = " ".join(strip_emoji(cap.text).split())
        if text and cap.start < duration:
            cues.append(Cue(cap.start, min(cap.end, duration), text))
    return cues


def write_webvtt(cues: Sequence[Cue], path: Path) -> Path:
    """A WebVTT file with one cue per phrase (or per merchant caption), in order."""
    out = ["WEBVTT", ""]
    for number, cue in enumerate(cues, 1):
        text = cue.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out += [str(number), f"{_vtt_time(cue.start)} --> {_vtt_time(cue.end)}", text, ""]
    Path(path).write_text("\n".join(out), encoding="utf-8")
    return Path(path)


def _vtt_time(seconds: float) -> str:
    ms = max(0, round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


# -- where the captions go --------------------------------------------------------------------

def default_size_u(width: int, height: int) -> float:
    """Text size in % of the short side: big on a phone held upright, a little less elsewhere."""
    if height / width > 1.2:
        return 8.0
    return 6.8 if width / height > 1.2 else 6.4


def place_box(width: int, height: int, needed_h: float, *, avoid: Sequence[Box] = (),
              gap: float = 0.0, layout: Layout | None = None,
              when: tuple[float, float] | None = None) -> tuple[Box, Layout]:
    """The caption box: full width of the largest free area of the safe zone that no box of
    ``avoid``, nor any box of ``layout`` shown ``when`` the captions are, crosses (kept
    ``gap`` px away), at the bottom of that area, ``needed_h`` tall (or the area's height when
    it is lower). Placed through the layout, which refuses a box outside the safe zone or over
    another."""
    layout = layout or Layout(width, height)
    zone = layout.safe
    for k, box in enumerate(avoid):
        layout.place(f"avoid_{k}", box, in_safe_zone=False)
    grown = [Box(b.x - gap, b.y - gap, b.w + 2 * gap, b.h + 2 * gap) for b in layout.shown(when)]
    area = _largest_free(zone, grown, needed_h)
    h = min(needed_h, area.h)
    box = Box(area.x, area.bottom - h, area.w, h).rounded()
    layout.place("captions", box, when=when)
    return box, layout


def _largest_free(zone: Box, blocks: Sequence[Box], needed_h: float) -> Box:
    """The free rectangle of ``zone`` (edges on the zone's and the blocks' edges) that can hold
    the captions best: tall enough when one is, then the widest, then the lowest."""
    xs = sorted({zone.x, zone.right, *(min(max(v, zone.x), zone.right) for b in blocks for v in (b.x, b.right))})
    ys = sorted({zone.y, zone.bottom, *(min(max(v, zone.y), zone.bottom) for b in blocks for v in (b.y, b.bottom))})
    best, best_key = zone, None
    for i, x1 in enumerate(xs):
        for x2 in xs[i + 1:]:
            for j, y1 in enumerate(ys):
                for y2 in ys[j + 1:]:
                    rect = Box(x1, y1, x2 - x1, y2 - y1)
                    if any(rect.intersects(b) for b in blocks):
                        break  # taller ones from y1 cross the block too
                    key = (rect.h >= needed_h, rect.w if rect.h >= needed_h else rect.h * rect.w, rect.bottom)
                    if best_key is None or key > best_key:
                        best, best_key = rect, key
    return best


# -- drawing -------------------------------------------------------------------------------------

def make_track(workdir: Path, width: int, height: int, fps: int, duration: float, cues: Sequence[Cue], *,
               avoid: Sequence[Box] = (), style: CaptionStyle | None = None, highlight: bool = True,
               max_lines: int = 2, layout: Layout | None = None, font: str | None = None) -> CaptionTrack:
    """Draw every state of the captions as PNGs of the caption box and write their ffconcat list.
    The box is placed in ``layout`` (clear of its boxes while the captions show) when given;
    ``font``: a brand font's key (its face draws the captions when it has their glyphs)."""
    style = style or CaptionStyle()
    unit = min(width, height) / 100
    texts = [c.text for c in cues]
    fonts = typeset(font, " ".join(texts))[0] if font else FontSet.for_captions(texts)
    cues = [cue for cue in (_drawable(fonts, c) for c in cues) if cue.text]
    pad_x, pad_y = round(2.0 * unit), round(1.1 * unit)
    size = round((style.size_u or default_size_u(width, height)) * unit)
    zone = safe_zone(width, height)
    inner_w = int(zone.w) - 2 * pad_x
    size = _fitting_size(fonts, cues, size, inner_w, max_lines)
    line_h = _line_height(fonts, size)
    rows = max(len(_rows(fonts, size, cue.text, inner_w, max_lines)) for cue in cues) if cues else 1
    when = (cues[0].start, max(c.end for c in cues)) if cues else None
    box, layout = place_box(width, height, rows * line_h + 2 * pad_y, avoid=avoid, gap=unit * 1.5, layout=layout,
                            when=when)
    # a box narrower than the safe zone (beside a product) may need more lines at this size
    narrow_rows = max(len(_rows(fonts, size, cue.text, int(box.w) - 2 * pad_x, max_lines)) for cue in cues) if cues else 1
    if narrow_rows > rows:
        layout.remove("captions")
        box, layout = place_box(width, height, narrow_rows * line_h + 2 * pad_y, gap=unit * 1.5, layout=layout,
                                when=when)
    inner_w = int(box.w) - 2 * pad_x
    fitted = _fitting_size(fonts, cues, size, inner_w, max_lines, max_h=int(box.h) - 2 * pad_y)
    if fitted != size:
        size, line_h = fitted, _line_height(fonts, fitted)
    # a box centred in the frame centres its phrases; a column beside the product keeps them
    # flush with its edge, under the title there, instead of a plate edge that moves per phrase
    painter = _Painter(fonts, size, line_h, (int(box.w), int(box.h)), (pad_x, pad_y), style, max_lines,
                       centred=box.centred_across(width))
    states: list[tuple[int, Path, int | None]] = []  # (first frame, png, cue index)
    blank = painter.blank(workdir / "caption_blank.png")
    frames_total = max(1, round(duration * fps))
    frame = 0
    for n, cue in enumerate(cues):
        first = min(frames_total, round(cue.start * fps))
        last = min(frames_total, round(cue.end * fps))
        if last <= first:
            continue
        if first > frame:
            states.append((frame, blank, None))
        frame = max(frame, first)
        if highlight and cue.words:
            for k, word in enumerate(cue.words):
                lit_from = max(frame, round(word.start * fps)) if k else frame
                lit_to = round(cue.words[k + 1].start * fps) if k + 1 < len(cue.words) else last
                lit_to = min(last, max(lit_from, lit_to))
                if lit_to > lit_from:
                    states.append((lit_from, painter.state(workdir / f"caption_{n:03d}_{k:02d}.png", cue, k), n))
                    frame = lit_to
        else:
            states.append((frame, painter.state(workdir / f"caption_{n:03d}.png", cue, None), n))
            frame = last
    if frame < frames_total or not states:
        states.append((frame, blank, None))
    concat = workdir / "captions.ffconcat"
    _write_concat(concat, [(first, png) for first, png, _ in states], frames_total, fps)
    return CaptionTrack(box, layout, concat, tuple(cues), size, tuple(states), blank, frames_total, fps)


def _drawable(fonts: FontSet, cue: Cue) -> Cue:
    """The cue without what the font cannot draw (emoji, other scripts): left out, never boxes."""

    def clean(text: str) -> str:
        return " ".join(fonts.drawable(strip_emoji(text)).split())

    words = tuple(Word(clean(w.text), w.start, w.end, w.line) for w in cue.words)
    words = tuple(w for w in words if w.text)
    text = " ".join(w.text for w in words) if cue.words else clean(cue.text)
    return Cue(cue.start, cue.end, text, words)


def _write_concat(path: Path, states: list[tuple[int, Path]], frames_total: int, fps: int) -> None:
    lines = ["ffconcat version 1.0"]
    for k, (first, png) in enumerate(states):
        end = states[k + 1][0] if k + 1 < len(states) else max(frames_total, first + 1)
        lines += [f"file '{png.name}'", f"duration {(end - first) / fps:.6f}"]
    lines.append(f"file '{states[-1][1].name}'")  # the demuxer needs the last file twice to show it
    path.write_text("\n".join(lines) + "\n")


def _direction(word: str) -> str | None:
    for ch in word:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "R"
        if kind == "L":
            return "L"
    return None  # digits, signs: they follow their neighbours


def visual_order(words: Sequence[str], rtl: bool) -> list[int]:
    """The words of one line from left to right (indices into ``words``): runs of each
    direction in the order the line reads, a left-to-right run ("USB-C charging") kept in its
    own order inside right-to-left text and the other way round (each word is shaped alone)."""
    line = "R" if rtl else "L"
    strong = [_direction(w) for w in words]
    resolved = []
    for k, d in enumerate(strong):
        if d is None:
            before = next((x for x in reversed(strong[:k]) if x), line)
            after = next((x for x in strong[k + 1:] if x), line)
            d = before if before == after else line
        resolved.append(d)
    runs: list[list[int]] = []
    for k, d in enumerate(resolved):
        if runs and resolved[runs[-1][0]] == d:
            runs[-1].append(k)
        else:
            runs.append([k])
    if rtl:
        runs.reverse()
    return [k for run in runs for k in (run if resolved[run[0]] == "L" else reversed(run))]


def _line_height(fonts: FontSet, size: int) -> int:
    ascent, descent = fonts.font(size, True).getmetrics()
    return round((ascent + descent) * 1.08) + 2 * fonts.stroke(size, True)


def _wrap(widths: list[float], space: float, max_w: float, max_lines: int) -> list[int] | None:
    """Where to break a phrase (the index each line starts at) so that it fits ``max_w`` in
    the fewest lines, as balanced as can be; None when it does not fit ``max_lines``."""
    n = len(widths)

    def width(a: int, b: int) -> float:
        return sum(widths[a:b]) + space * (b - a - 1)

    if width(0, n) <= max_w:
        return [0]
    best: tuple[float, list[int]] | None = None
    if max_lines >= 2:
        for cut in range(1, n):
            w = max(width(0, cut), width(cut, n))
            if w <= max_w and (best is None or w < best[0]):
                best = (w, [0, cut])
    if best is None and max_lines >= 3:
        for a in range(1, n - 1):
            for b in range(a + 1, n):
                w = max(width(0, a), width(a, b), width(b, n))
                if w <= max_w and (best is None or w < best[0]):
                    best = (w, [0, a, b])
    return best[1] if best else None


def _rows(fonts: FontSet, size: int, text: str, max_w: int, max_lines: int) -> list[int]:
    """Where each line of ``text`` starts: within ``max_lines`` when it fits, else as many as
    it takes."""
    font = fonts.font(size, True)
    stroke = fonts.stroke(size, True)
    widths = [font.getlength(w) + 2 * stroke for w in text.split()]
    space = font.getlength(" ")
    return _wrap(widths, space, max_w, max_lines) or _greedy(widths, space, max_w)


def _fitting_size(fonts: FontSet, cues: Sequence[Cue], size: int, max_w: int, max_lines: int,
                  max_h: int | None = None) -> int:
    """The largest size, from ``size`` down to 55 % of it, at which every cue fits."""
    floor = max(10, int(size * 0.55))
    while size > floor:
        line_h = _line_height(fonts, size)
        fits = (_rows(fonts, size, cue.text, max_w, max_lines) for cue in cues)
        if all(len(rows) <= max_lines and (max_h is None or len(rows) * line_h <= max_h) for rows in fits):
            return size
        size = max(floor, int(size * 0.93))
    return floor


class _Painter:
    def __init__(self, fonts: FontSet, size: int, line_h: int, canvas: tuple[int, int],
                 pad: tuple[int, int], style: CaptionStyle, max_lines: int, *, centred: bool = True) -> None:
        self.fonts, self.size, self.line_h, self.canvas, self.pad = fonts, size, line_h, canvas, pad
        self.style, self.max_lines, self.centred = style, max_lines, centred
        self.font: Font = fonts.font(size, True)
        self.stroke = fonts.stroke(size, True)
        self.space = self.font.getlength(" ")
        h = style.accent.lstrip("#")
        self.accent = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 255)

    def blank(self, path: Path) -> Path:
        Image.new("RGBA", self.canvas, (0, 0, 0, 0)).save(path, compress_level=0)
        return path

    def state(self, path: Path, cue: Cue, lit: int | None) -> Path:
        """The phrase of ``cue`` with word ``lit`` in the accent colour, at the bottom of the
        canvas: centred (``centred``) or flush left, and flush right when the text reads right
        to left."""
        words = cue.text.split()
        if cue.words:
            words = [w.text for w in cue.words]
        widths = [self.font.getlength(w) + 2 * self.stroke for w in words]
        pad_x, pad_y = self.pad
        cw, ch = self.canvas
        starts = _rows(self.fonts, self.size, " ".join(words), cw - 2 * pad_x, self.max_lines)
        bounds = [*starts, len(words)]
        rows = [list(range(bounds[i], bounds[i + 1])) for i in range(len(starts))]
        row_w = [sum(widths[k] for k in row) + self.space * (len(row) - 1) for row in rows]
        rtl = is_rtl(cue.text)
        plate_w = min(cw, round(max(row_w) + 2 * pad_x))
        plate_h = min(ch, len(rows) * self.line_h + 2 * pad_y)
        plate_x = cw - plate_w if rtl else (cw - plate_w) // 2 if self.centred else 0
        plate_y = ch - plate_h
        im = Image.new("RGBA", self.canvas, (0, 0, 0, 0))
        d = ImageDraw.Draw(im)
        d.rounded_rectangle((plate_x, plate_y, plate_x + plate_w - 1, ch - 1),
                            radius=round(self.size * 0.28), fill=self.style.plate)
        for r, row in enumerate(rows):
            y = plate_y + pad_y + r * self.line_h + self.stroke
            # right to left: the line flush with the plate's right edge; else centred or flush left
            if rtl:
                x = plate_x + plate_w - pad_x - row_w[r]
            else:
                x = plate_x + (plate_w - row_w[r]) / 2 if self.centred else plate_x + pad_x
            for i in visual_order([words[k] for k in row], rtl):
                k = row[i]
                self._word(d, words[k], x, y, k == lit)
                x += widths[k] + self.space
        im.save(path, compress_level=0)
        return path

    def _word(self, d: ImageDraw.ImageDraw, text: str, x: float, y: float, lit: bool) -> None:
        fill = self.accent if lit else self.style.ink
        d.text((x + self.stroke, y), text, font=self.font, fill=fill, anchor="la",
               stroke_width=self.stroke, stroke_fill=fill)


def _greedy(widths: list[float], space: float, max_w: float) -> list[int]:
    """Lines filled one after the other, as many as it takes: for a caption too long to fit."""
    starts, current = [0], 0.0
    for k, w in enumerate(widths):
        if current and current + space + w > max_w:
            starts.append(k)
            current = w
        else:
            current = current + space + w if current else w
    return starts
