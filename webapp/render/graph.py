"""A small builder for one ffmpeg filter graph, and the building blocks the recipes share.

Conventions: every video stream in the graph is yuv420p (pinned with ``format`` after each
overlay: otherwise ffmpeg may negotiate a whole branch to yuva420p and insert a conversion of
every frame where it meets the rest), BT.601 matrix (that of JPEG, so
photos need only a range change, no matrix conversion, which costs swscale ~5 MB a photo),
limited range, square
pixels, at the render's frame rate. Product images are single-frame inputs decoded once;
motion comes from zoompan (``d`` frames per image) on a 2x upscaled still, so the crop moves
in half-pixel steps and does not judder.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .layout import Box
from .overlays import Overlay
from .shots import Layer

TO_VIDEO = "out_color_matrix=bt601:out_range=tv"  # RGB(A) PNG -> the graph's YUV
JPEG_TO_VIDEO = "in_range=pc:out_range=tv"  # full-range JPEG YCbCr -> limited range


def hexcol(colour: str) -> str:
    return "0x" + colour.lstrip("#").upper()


def num(x: float) -> str:
    """Format a number for a filter argument (no exponent, few digits)."""
    s = f"{x:.4f}".rstrip("0").rstrip(".")
    return s if s not in ("", "-0") else "0"


@dataclass(frozen=True)
class Still:
    """A prepared product photo: ``label`` is ``inner`` (output pixels) times ``scale``; when
    ``pad`` is set, frames are padded with that colour to ``box`` after zooming."""

    label: str
    inner: tuple[int, int]
    box: tuple[int, int]
    pad: str | None
    scale: float


@dataclass(frozen=True)
class Seg:
    """A segment of a sequence: ``part(start, count)`` gives a label for those of its frames."""

    frames: int
    part: Callable[[int, int], str]


def _as_seg(graph: Graph, item) -> Seg:
    if isinstance(item, Seg):
        return item
    label, frames = item
    if isinstance(label, Seg):
        return label
    return graph.stream(label, frames)


@dataclass
class Graph:
    width: int
    height: int
    fps: int
    inputs: list[list[str]] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)
    _seq: itertools.count = field(default_factory=itertools.count)
    _image_inputs: dict[int, int] = field(default_factory=dict)  # image index -> input index
    _image_uses: dict[int, int] = field(default_factory=dict)
    _shares: dict[str, int] = field(default_factory=dict)  # label -> uses (split at the end)

    # -- labels and chains -----------------------------------------------------------------
    def new(self, prefix: str = "v") -> str:
        return f"[{prefix}{next(self._seq)}]"

    def add(self, ins: str | Sequence[str], filters: str | Sequence[str], out: str | None = None) -> str:
        ins_s = ins if isinstance(ins, str) else "".join(ins)
        f = filters if isinstance(filters, str) else ",".join(x for x in filters if x)
        out = out or self.new()
        self.chains.append(f"{ins_s}{f}{out}")
        return out

    def split(self, label: str, n: int) -> list[str]:
        if n == 1:
            return [label]
        outs = [self.new("s") for _ in range(n)]
        self.chains.append(f"{label}split={n}{''.join(outs)}")
        return outs

    def input(self, path: Path, options: Sequence[str] = (), kind: str = "v") -> str:
        """A label for the ``kind`` stream (v or a) of a new input, opened with ``options``."""
        self.inputs.append([*options, "-i", str(path)])
        return f"[{len(self.inputs) - 1}:{kind}]"

    def register_image(self, index: int, path: Path) -> None:
        self.inputs.append(["-i", str(path)])
        self._image_inputs[index] = len(self.inputs) - 1

    def image(self, index: int) -> str:
        """A label for one use of product image ``index`` (split later if used more than once)."""
        k = self._image_uses.get(index, 0)
        self._image_uses[index] = k + 1
        return f"[img{index}_{k}]"

    def take(self, label: str) -> str:
        """A label for one more use of ``label`` (a split is added when the graph is written)."""
        k = self._shares.get(label, 0)
        self._shares[label] = k + 1
        return f"[{label.strip('[]')}u{k}]"

    def script(self) -> str:
        head = []
        for index, uses in self._image_uses.items():
            src = f"[{self._image_inputs[index]}:v]"
            outs = "".join(f"[img{index}_{k}]" for k in range(uses))
            head.append(f"{src}setsar=1,split={uses}{outs}" if uses > 1 else f"{src}setsar=1{outs}")
        tail = []
        for label, uses in self._shares.items():
            outs = "".join(f"[{label.strip('[]')}u{k}]" for k in range(uses))
            tail.append(f"{label}split={uses}{outs}" if uses > 1 else f"{label}null{outs}")
        return ";\n".join(head + self.chains + tail)

    # -- sources -------------------------------------------------------------------------
    def hold(self, label: str, frames: int, start_frame: int = 0) -> str:
        """Repeat a single frame for ``frames`` frames, starting at frame ``start_frame``."""
        return self.add(
            label,
            [f"loop=loop={max(0, frames - 1)}:size=1:start=0", f"settb=1/{self.fps}",
             f"setpts=N+{start_frame}", f"fps={self.fps}"],
        )

    def plate(self, path: Path, frames: int) -> str:
        """A full-frame still background (PNG), held for ``frames`` frames."""
        label = self.add(self.input(path), [f"scale={TO_VIDEO}", "format=yuv420p", "setsar=1"])
        return self.hold(label, frames)

    # -- product stills --------------------------------------------------------------------
    def still(self, image: str, box: tuple[int, int], *, fill: str, edge: str | None,
              aspect: float | None = None, grade: Sequence[str] = (), scale: float = 2.0,
              blur_tint: str = "") -> Still:
        """Fit a product image into ``box``, as a still ``scale`` times larger for zoompan.

        Cover (crop) when its ``aspect`` is within 12 % of the box's. Otherwise letterbox over
        ``edge`` (the photo's own plain border colour, so the bars are invisible) or over
        ``fill`` (a hex colour, or "blur": a blurred, dimmed copy of the photo). With a plain
        colour and no grade only the photo itself is kept and animated, and the bars are added
        to each frame: half the pixels to zoom, less memory."""
        box_aspect = box[0] / box[1]
        if aspect is not None and abs(aspect / box_aspect - 1) < 0.12 and edge is None:
            return Still(self.cover(image, box, scale=scale, grade=grade), box, box, None, scale)
        bw, bh = _even(box[0] * scale), _even(box[1] * scale)
        colour = edge if edge is not None else (fill if fill != "blur" else None)
        if colour is not None and aspect is not None and not grade:
            if aspect > box_aspect:
                inner = (box[0], min(box[1], _even(box[0] / aspect)))
            else:
                inner = (min(box[0], _even(box[1] * aspect)), box[1])
            iw, ih = _even(inner[0] * scale), _even(inner[1] * scale)
            label = self.add(image, [f"scale={iw}:{ih}:flags=bicubic:{JPEG_TO_VIDEO}",
                                     "format=yuv420p", "setsar=1"])
            return Still(label, inner, box, colour, scale)
        fit = [f"scale={bw}:{bh}:force_original_aspect_ratio=decrease:flags=bicubic:{JPEG_TO_VIDEO}",
               "format=yuv420p", "setsar=1"]
        if colour is not None:
            pad = f"pad={bw}:{bh}:(ow-iw)/2:(oh-ih)/2:color={hexcol(colour)}"
            return Still(self.add(image, [*fit, pad, *grade]), box, box, None, scale)
        fg, bg = self.split(self.add(image, fit), 2)
        sw, sh = _even(bw / 10), _even(bh / 10)
        bg = self.add(bg, [
            f"scale={sw}:{sh}:force_original_aspect_ratio=increase", f"crop={sw}:{sh}",
            ("boxblur=luma_radius='min(6,min(w,h)/2-1)':luma_power=3"
             ":chroma_radius='min(6,min(cw,ch)/2-1)':chroma_power=3"),
            f"scale={bw}:{bh}:flags=bicubic",
            "eq=brightness=-0.10:saturation=0.75" + blur_tint,
        ])
        label = self.add([bg, fg], ["overlay=(W-w)/2:(H-h)/2", "format=yuv420p", *grade])
        return Still(label, box, box, None, scale)

    def flat(self, still: Still) -> str:
        """The still as one frame of its whole box (bars included), e.g. for a static tile."""
        if still.pad is None:
            return still.label
        bw, bh = _even(still.box[0] * still.scale), _even(still.box[1] * still.scale)
        return self.add(still.label, f"pad={bw}:{bh}:(ow-iw)/2:(oh-ih)/2:color={hexcol(still.pad)}")

    def cover(self, image: str, box: tuple[int, int], *, scale: float = 2.0,
              grade: Sequence[str] = ()) -> str:
        bw, bh = _even(box[0] * scale), _even(box[1] * scale)
        return self.add(image, [
            f"scale={bw}:{bh}:force_original_aspect_ratio=increase:flags=bicubic:{JPEG_TO_VIDEO}",
            f"crop={bw}:{bh}", "format=yuv420p", "setsar=1", *grade,
        ])

    def motion(self, still: Still, frames: int, kind: str, amount: float = 0.12,
               focus: tuple[float, float] = (0.5, 0.5)) -> Seg:
        """Animate a still for ``frames`` frames with zoompan. ``kind``: zoom_in, zoom_out,
        pan_right, pan_left, pan_up, pan_down, hold, settle (ease-out zoom from large). Zooms
        keep ``focus`` (fractions of the still: the product) where it is in the frame.

        Returned lazily: ``sequence`` asks for the parts it needs (body, transition ends), each
        one its own zoompan over a share of the same decoded still."""

        def part(start: int, count: int) -> str:
            label = self._zoompan(self.take(still.label), frames, start, count, still.inner,
                                  kind, amount, focus)
            if still.pad is None:
                return label
            w, h = still.box
            return self.add(label, f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color={hexcol(still.pad)}")

        return Seg(frames, part)

    def _zoompan(self, still: str, frames: int, start: int, count: int, size: tuple[int, int],
                 kind: str, amount: float, focus: tuple[float, float] = (0.5, 0.5)) -> str:
        n = max(1, frames - 1)
        p = f"((on+{start})/{n})" if start else f"(on/{n})"
        ease = f"(1-pow(1-{p},2))"
        a = num(amount)
        # the focus point stays where it is on screen: x = f*iw - f*iw/zoom
        fx, fy = num(focus[0]), num(focus[1])
        cx, cy = f"{fx}*(iw-iw/zoom)", f"{fy}*(ih-ih/zoom)"
        if kind == "zoom_in":
            z, x, y = f"1+{a}*{p}", cx, cy
        elif kind == "zoom_out":
            z, x, y = f"1+{a}-{a}*{p}", cx, cy
        elif kind == "settle":
            z, x, y = f"1+{a}-{a}*{ease}", cx, cy
        elif kind in ("pan_right", "pan_left"):
            frac = p if kind == "pan_right" else f"(1-{p})"
            z, x, y = f"1+{a}", f"(iw-iw/zoom)*{frac}", cy
        elif kind in ("pan_down", "pan_up"):
            frac = p if kind == "pan_down" else f"(1-{p})"
            z, x, y = f"1+{a}", cx, f"(ih-ih/zoom)*{frac}"
        else:
            z, x, y = "1", "0", "0"
        w, h = size
        return self.add(still, [
            f"zoompan=z='{z}':x='{x}':y='{y}':d={count}:s={w}x{h}:fps={self.fps}",
            "setsar=1", "format=yuv420p",
        ])

    def crop_still(self, image: str, crop: Box, box: tuple[int, int], *, scale: float = 2.0,
                   grade: Sequence[str] = ()) -> Still:
        """The part ``crop`` of a photo (its pixels; the shape of ``box``) as a still of
        ``box`` times ``scale``, for zoompan."""
        bw, bh = _even(box[0] * scale), _even(box[1] * scale)
        x, y = int(crop.x), int(crop.y)
        w, h = max(2, int(crop.w)), max(2, int(crop.h))
        label = self.add(image, [f"crop={w}:{h}:{x}:{y}",
                                 f"scale={bw}:{bh}:flags=bicubic:{JPEG_TO_VIDEO}", "format=yuv420p",
                                 "setsar=1", *grade])
        return Still(label, box, box, None, scale)

    def still_png(self, path: Path, *, alpha: bool = False) -> str:
        """A PNG decoded once (shared through ``take``), in the graph's YUV (with alpha)."""
        return self.add(self.input(path), [f"scale={TO_VIDEO}", "format=yuva420p" if alpha else "format=yuv420p",
                                           "setsar=1"])

    def staged(self, backdrop: str, backdrop_size: tuple[int, int], layer: Layer, product: str, frames: int, *,
               first_frame: int, total_frames: int, pan: tuple[float, float, float, float] = (0, 0.5, 1, 0.5),
               enter: str = "none", enter_frames: int = 0, grade: Sequence[str] = ()) -> Seg:
        """A packshot staged: the backdrop (a still larger than the frame, ``backdrop_size``)
        drifting across the whole video (``pan``: from x, y to x, y as fractions of its margin;
        continuous over cuts, since it follows the video's frame number), and the product layer
        (``product``: ``still_png`` of ``layer``) over it, still or entering with ``enter``:
        scale (grows from 82 %), rise (from below), left or right (slides in from that side),
        over its first ``enter_frames`` frames."""
        mx, my = backdrop_size[0] - self.width, backdrop_size[1] - self.height
        x0, y0, x1, y1 = pan
        span = max(1, total_frames - 1)

        def part(start: int, count: int) -> str:
            g = first_frame + start
            bg = self.add(self.take(backdrop), [
                f"loop=loop={count - 1}:size=1:start=0", f"settb=1/{self.fps}", "setpts=N", f"fps={self.fps}",
                (f"crop={self.width}:{self.height}"
                 f":x='{num(mx * x0)}+{num(mx * (x1 - x0))}*(n+{g})/{span}'"
                 f":y='{num(my * y0)}+{num(my * (y1 - y0))}*(n+{g})/{span}'"),
                *grade,
            ])
            layer_stream = self._layer(product, layer, count, start, enter if start < enter_frames else "none",
                                       enter_frames)
            x, y = str(layer.x), str(layer.y)
            if enter in ("rise", "left", "right") and start < enter_frames:
                k = max(1, enter_frames)
                ease = f"pow(max(0,1-(n+{start})/{k}),3)"
                if enter == "rise":
                    y = f"{layer.y}+{self.height - layer.y}*{ease}"
                else:
                    distance = -(layer.x + layer.w) if enter == "left" else self.width - layer.x
                    x = f"{layer.x}{'+' if distance >= 0 else '-'}{abs(distance)}*{ease}"
            return self.add([bg, layer_stream], [f"overlay=x='{x}':y='{y}':format=yuv420:eval=frame", "format=yuv420p"])

        return Seg(frames, part)

    def _layer(self, product: str, layer: Layer, count: int, start: int, enter: str, enter_frames: int) -> str:
        """``count`` frames of the product layer from frame ``start`` of its shot; when it
        scales in, the frames before ``enter_frames`` grow from 82 % (zoompan over the layer
        padded with transparency, so no frame is cropped), the rest hold it."""
        hold = [f"settb=1/{self.fps}", "setpts=N"]
        if enter != "scale":
            return self.add(self.take(product), [f"loop=loop={count - 1}:size=1:start=0", *hold])
        pad = 0.15
        grow_frames = min(enter_frames - start, count)
        k = max(1, enter_frames - 1)
        p = f"min(1,(on+{start})/{k})"
        size = f"(0.82+0.18*(1-pow(1-{p},3)))"
        pw, ph = _even(layer.w * (1 + 2 * pad)), _even(layer.h * (1 + 2 * pad))
        zoom = f"{size}*{num(pw / layer.w)}"
        grown = self.add(self.take(product), [
            f"pad={pw}:{ph}:(ow-iw)/2:(oh-ih)/2:color=black@0",
            (f"zoompan=z='{zoom}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={grow_frames}"
             f":s={layer.w}x{layer.h}:fps={self.fps}"),
            "setsar=1", "format=yuva420p", *hold,
        ])
        rest = count - grow_frames
        if rest <= 0:
            return grown
        held = self.add(self.take(product), [f"loop=loop={rest - 1}:size=1:start=0", *hold])
        return self.add([grown, held], "concat=n=2:v=1:a=0")

    def stream(self, label: str, frames: int) -> Seg:
        """An already built stream as a sequence segment (its parts are trimmed copies)."""

        def part(start: int, count: int) -> str:
            # fps before the trim: after it, ffmpeg's fps filter can take the trim's end for a
            # time far ahead and repeat the last frame without end (gigabytes queued, seen at 360p)
            return self.add(self.take(label), [
                f"settb=1/{self.fps}", f"fps={self.fps}",
                f"trim=start_frame={start}:end_frame={start + count}", "setpts=PTS-STARTPTS",
            ])

        return Seg(frames, part)

    def sequence(self, segments: Sequence[Seg | tuple[Seg | str, int]], transitions: Sequence[str],
                 t_frames: int) -> str:
        """Join segments with xfade transitions of ``t_frames`` frames.

        Only the frames of a transition go through xfade (which works in 4:4:4, so every frame
        it sees is converted there and back); the rest are concatenated as they are."""
        segs = [_as_seg(self, s) for s in segments]
        if len(segs) == 1:
            return segs[0].part(0, segs[0].frames)
        t = t_frames
        parts: list[str] = []
        tail: str | None = None
        for i, seg in enumerate(segs):
            head_len = t if i > 0 else 0
            tail_len = t if i < len(segs) - 1 else 0
            if tail is not None:
                parts.append(self.transition(tail, seg.part(0, t), t,
                                             transitions[(i - 1) % len(transitions)]))
            body = seg.frames - head_len - tail_len
            if body > 0:
                parts.append(seg.part(head_len, body))
            tail = seg.part(seg.frames - t, t) if tail_len else None
        return self.add(parts, f"concat=n={len(parts)}:v=1:a=0")

    def transition(self, a: str, b: str, frames: int, kind: str) -> str:
        """``frames`` frames going from stream ``a`` to stream ``b`` (both that long).

        A plain crossfade is an alpha fade of ``b`` over ``a`` (4:2:0 throughout); other kinds
        use xfade, which converts to 4:4:4 and back."""
        if kind == "fade":
            faded = self.add(b, ["scale", "format=yuva420p",
                                 f"fade=t=in:s=0:n={frames}:alpha=1"])
            return self.add([a, faded], ["overlay=0:0:format=yuv420", "format=yuv420p"])
        # xfade works in 4:4:4: only these frames are converted, by a scale on their own branch
        # (a bare format filter would have ffmpeg negotiate 4:4:4 for the whole stream they
        # were split from, and convert every frame of it, there and back)
        a4 = self.add(a, ["scale", "format=yuv444p"])
        b4 = self.add(b, ["scale", "format=yuv444p"])
        return self.add([a4, b4], [
            f"xfade=transition={kind}:duration={num(frames / self.fps)}:offset=0",
            "format=yuv420p", "setsar=1",
        ])

    # -- overlays ----------------------------------------------------------------------------
    def overlay(self, base: str, ov: Overlay, start: float, end: float, *, fade_in: float = 0.35,
                fade_out: float = 0.35, x: str | None = None, y: str | None = None,
                total: float | None = None) -> str:
        """Composite a PNG from ``start`` to ``end`` seconds with alpha fades.

        ``x``/``y`` may be expressions of ``t`` (e.g. a slide); default: the overlay's place."""
        start = max(0.0, start)
        if total is not None:
            end = min(end, total)
        first = round(start * self.fps)
        start = first / self.fps
        frames = max(1, round(end * self.fps) - first)
        src = self.add(self.input(ov.path), [f"scale={TO_VIDEO}", "format=yuva420p"])
        chain = [f"loop=loop={frames - 1}:size=1:start=0", f"settb=1/{self.fps}",
                 f"setpts=N+{first}"]
        if fade_in > 0:
            chain.append(f"fade=t=in:st={num(start)}:d={num(fade_in)}:alpha=1")
        if fade_out > 0 and (total is None or end < total - 0.01):
            chain.append(f"fade=t=out:st={num(max(start, end - fade_out))}:d={num(fade_out)}:alpha=1")
        timed = self.add(src, chain)
        xs = x if x is not None else str(ov.x)
        ys = y if y is not None else str(ov.y)
        return self.add([base, timed],
                        [f"overlay=x='{xs}':y='{ys}':eof_action=pass:format=yuv420:eval=frame", "format=yuv420p"])

    def overlay_track(self, base: str, concat: Path, x: int, y: int) -> str:
        """Composite a stream of RGBA PNG states played by the concat demuxer (an ``ffconcat``
        list with durations) at (x, y): each PNG is decoded and converted once, and the overlay
        shows the latest state at every frame (the last one stays after the list ends)."""
        src = self.add(self.input(concat, ("-f", "concat", "-safe", "0")),
                       [f"scale={TO_VIDEO}", "format=yuva420p"])
        return self.add([base, src], [f"overlay=x={x}:y={y}:format=yuv420:eof_action=repeat", "format=yuv420p"])

    def overlay_static(self, base: str, ov: Overlay) -> str:
        """Composite a PNG for the whole video (decoded once, repeated by the overlay filter)."""
        src = self.add(self.input(ov.path), [f"scale={TO_VIDEO}", "format=yuva420p"])
        return self.add([base, src], [f"overlay={ov.x}:{ov.y}:format=yuv420", "format=yuv420p"])


def slide(axis_value: int, start: float, distance: float, dur: float = 0.6) -> str:
    """Expression easing from ``axis_value + distance`` to ``axis_value`` over ``dur`` s."""
    sign = "-" if distance < 0 else "+"
    return f"{axis_value}{sign}{num(abs(distance))}*pow(max(0,1-(t-{num(start)})/{num(dur)}),3)"


def _even(v: float) -> int:
    return max(2, round(v / 2) * 2)
