"""render(): one product video = one ffmpeg process running one filter graph.

Steps: check the images with Pillow (nothing starts if one is unreadable), draw the text
overlays as PNGs, build the graph of the recipe, run ffmpeg into a temporary file beside the
target while reporting progress, then probe the result and move it into place.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .audio import music_chain
from .ffmpeg import Progress, ffmpeg_binary, probe, run
from .fonts import FontSet
from .graph import Graph
from .overlays import OverlayMaker
from .recipes import RECIPES, Ctx, SourceImage
from .spec import (
    ASPECT_SIZES,
    InvalidImageError,
    RenderCanceled,
    RenderError,
    RenderResult,
    RenderSpec,
    validate_spec,
)

PREVIEW_SIZE = (640, 360)
PREVIEW_DESCRIPTION = (
    "Durable, lightweight build. Water-resistant finish. Fits in any bag. Two-year warranty."
)
PREVIEW_INSTRUCTIONS = "Made for everyday moments. Easy to carry, easy to love."

_PLAIN_STDEV = 7.0  # a border whose pixels vary less than this (0-255) is a plain backdrop
_PLAIN_MATCH = 14.0  # and the two opposite borders must agree within this


def render(
    spec: RenderSpec,
    video_path: Path,
    thumbnail_path: Path,
    *,
    on_progress: Callable[[int, str], None] | None = None,
    cancel: threading.Event | None = None,
    ffmpeg_exe: str | None = None,
) -> RenderResult:
    """Render ``spec`` to an H.264 MP4 at ``video_path`` and a poster JPEG at ``thumbnail_path``."""
    return _render(spec, Path(video_path), Path(thumbnail_path), size=None,
                   on_progress=on_progress, cancel=cancel, ffmpeg_exe=ffmpeg_exe)


def render_preview(
    recipe: str,
    images: Sequence[Path],
    video_path: Path,
    thumbnail_path: Path,
    *,
    title: str = "Your product",
    price: str | None = "$49.00",
) -> RenderResult:
    """A short 640x360 sample of ``recipe`` for the template picker."""
    spec = RenderSpec(
        recipe=recipe,
        images=tuple(Path(p) for p in images)[:4],
        title=title,
        price=price,
        description=PREVIEW_DESCRIPTION,
        custom_instructions=PREVIEW_INSTRUCTIONS,
        duration=5.0,
        fps=30,
        preset="veryfast",
        crf=26,
    )
    return _render(spec, Path(video_path), Path(thumbnail_path), size=PREVIEW_SIZE,
                   on_progress=None, cancel=None, ffmpeg_exe=None, audio=False)


def _render(
    spec: RenderSpec,
    video_path: Path,
    thumbnail_path: Path,
    *,
    size: tuple[int, int] | None,
    on_progress: Callable[[int, str], None] | None,
    cancel: threading.Event | None,
    ffmpeg_exe: str | None,
    audio: bool = True,
) -> RenderResult:
    validate_spec(spec, RECIPES)
    progress = Progress(on_progress)
    progress.report(0, "Preparing", force=True)
    if cancel is not None and cancel.is_set():
        raise RenderCanceled("Render canceled")
    width, height = size or ASPECT_SIZES[spec.aspect_ratio]
    fps = spec.fps
    frames = round(float(spec.duration) * fps)
    duration = frames / fps
    exe = ffmpeg_binary(ffmpeg_exe)

    video_path.parent.mkdir(parents=True, exist_ok=True)
    thumbnail_path.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:10]
    tmp_video = video_path.with_name(f".{video_path.name}.{token}.part")
    tmp_thumb = thumbnail_path.with_name(f".{thumbnail_path.name}.{token}.part")

    try:
        with tempfile.TemporaryDirectory(prefix="reelboard-render-") as tmp:
            workdir = Path(tmp)
            images = prepare_images(spec.images, workdir, max_side=2 * max(width, height))
            texts = [spec.title, spec.price or "", spec.description, spec.custom_instructions]
            texts += [c.text for c in spec.captions]
            fonts = FontSet.for_texts(texts)
            graph = Graph(width, height, fps)
            for im in images:
                graph.register_image(im.index, im.path)
            overlays = OverlayMaker(workdir, width, height, fonts)
            # timed captions: laid out first, so the recipe keeps its text above them
            captions = [
                (cap, overlays.caption(cap.text, height - overlays.px(4)))
                for cap in sorted(spec.captions, key=lambda c: c.start)
                if cap.start < duration and cap.text.strip()
            ]
            caption_top = min((ov.y for _, ov in captions), default=None)
            ctx = Ctx(spec, width, height, fps, frames, images, graph, overlays, caption_top)
            recipe = RECIPES[spec.recipe]
            built = recipe.build(ctx)

            label = graph.add(built.label, [f"trim=end_frame={frames}", "setpts=PTS-STARTPTS"])
            for cap, ov in captions:
                label = graph.overlay(label, ov, cap.start, min(cap.end, duration), fade_in=0.15,
                                      fade_out=0.15, total=duration)
            label = graph.add(label, [
                *built.post,
                "setparams=colorspace=smpte170m:color_primaries=bt709:color_trc=bt709:range=tv",
                "format=yuv420p",
            ])
            vout, poster_src = graph.split(label, 2)
            # The poster branch writes every 8th frame up to k, then k, to one image file that
            # each overwrites (-update 1), so frame k is what remains. Dropping all frames
            # before k would leave this output behind the video, and ffmpeg would hold back
            # raw video frames (~1.4 MB each at 720p) until frame k arrived.
            k = min(frames - 1, max(0, round(built.poster * fps)))
            poster = graph.add(poster_src, [
                f"trim=end_frame={k + 1}", f"select='not(mod(n,8))+eq(n,{k})'",
                "scale=in_color_matrix=bt601:in_range=tv:out_range=pc", "format=rgb24",
            ])
            with_music = spec.music and audio
            if with_music:
                graph.chains.append(music_chain(recipe.mood, duration) + "[aout]")

            poster_png = workdir / "poster.ppm"
            cmd = [
                exe, "-nostdin", "-y", "-hide_banner", "-loglevel", "error", "-nostats",
                "-progress", "pipe:1",
            ]
            for inp in graph.inputs:
                cmd += inp
            cmd += ["-filter_complex", graph.script()]
            cmd += [
                "-map", vout, "-c:v", "libx264", "-preset", spec.preset, "-crf", str(spec.crf),
                "-pix_fmt", "yuv420p", "-profile:v", "high", "-r", str(fps),
                # sRGB photos (BT.709 primaries) carried with the BT.601 matrix, tagged so
                "-colorspace", "smpte170m", "-color_primaries", "bt709", "-color_trc", "bt709",
                "-color_range", "tv",
            ]
            if with_music:
                cmd += ["-map", "[aout]", "-c:a", "aac", "-b:a", "128k", "-ar", "44100"]
            cmd += ["-movflags", "+faststart", "-f", "mp4", str(tmp_video)]
            cmd += ["-map", poster, "-fps_mode", "passthrough", "-c:v", "ppm", "-update", "1",
                    "-f", "image2", str(poster_png)]

            def percent(p: float) -> None:
                overall = 2 + p * 0.95
                if p >= 100:
                    progress.report(97, "Finishing")
                else:
                    progress.report(int(overall), f"Rendering {int(overall)}%")

            progress.report(2, "Rendering 2%")
            run(cmd, total_seconds=duration, on_percent=percent, cancel=cancel)
            progress.report(97, "Finishing")

            if not tmp_video.is_file() or tmp_video.stat().st_size == 0:
                raise RenderError("ffmpeg finished but wrote no video")
            if not poster_png.is_file():
                raise RenderError("ffmpeg finished but wrote no poster frame")
            with Image.open(poster_png) as im:
                im.convert("RGB").save(tmp_thumb, "JPEG", quality=88, optimize=True, progressive=True)
            info = probe(tmp_video, exe)
            if cancel is not None and cancel.is_set():
                raise RenderCanceled("Render canceled")
            os.replace(tmp_video, video_path)
            os.replace(tmp_thumb, thumbnail_path)
    except BaseException:
        for p in (tmp_video, tmp_thumb):
            p.unlink(missing_ok=True)
        raise
    result = RenderResult(
        video_path=video_path,
        thumbnail_path=thumbnail_path,
        duration=round(info.duration, 3),
        width=info.width,
        height=info.height,
        size_bytes=video_path.stat().st_size,
    )
    progress.report(100, "Done", force=True)
    return result


# -- images --------------------------------------------------------------------------------------

def prepare_images(paths: Sequence[Path], workdir: Path, *, max_side: int) -> list[SourceImage]:
    """Check every image with Pillow and hand ffmpeg a plain JPEG for each.

    Baseline RGB/grey JPEGs are used as they are; anything else (PNG, WebP, CMYK, rotated by
    EXIF, transparent, very large) is normalised once here. Raises InvalidImageError naming
    the first image that cannot be decoded."""
    out = []
    for i, raw in enumerate(paths):
        path = Path(raw)
        label = f"Product image {i + 1} ({path.name})"
        if not path.is_file():
            raise InvalidImageError(f"{label} does not exist")
        try:
            with Image.open(path) as im:
                im.load()
                fmt = im.format
                orientation = im.getexif().get(0x0112, 1)
                w, h = im.size
                if min(w, h) < 16:
                    raise InvalidImageError(f"{label} is too small ({w}x{h} pixels)")
                direct = (fmt == "JPEG" and im.mode in ("RGB", "L") and orientation in (0, 1)
                          and max(w, h) <= 4096)
                if direct:
                    rgb = im.convert("RGB")
                    src = path
                else:
                    rgb = _flatten(ImageOps.exif_transpose(im))
                    if max(rgb.size) > max_side:
                        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
                    src = workdir / f"image_{i:02d}.jpg"
                    rgb.save(src, "JPEG", quality=93)
                    w, h = rgb.size
        except InvalidImageError:
            raise
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            reason = str(exc) or exc.__class__.__name__
            if isinstance(exc, UnidentifiedImageError):
                reason = "not a JPEG, PNG or WebP image"
            raise InvalidImageError(f"{label} is not a readable image: {reason}") from exc
        sides, ends = _plain_borders(rgb)
        out.append(SourceImage(i, src, w, h, sides, ends))
    return out


def _flatten(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im.convert("RGB")


def _plain_borders(rgb: Image.Image) -> tuple[str | None, str | None]:
    """Colour of the left+right and of the top+bottom borders when each pair is one plain colour."""
    small = rgb.copy()
    small.thumbnail((120, 120), Image.Resampling.BILINEAR)
    w, h = small.size
    px = small.load()

    def stats(coords: list[tuple[int, int]]) -> tuple[tuple[float, ...], float]:
        chans = list(zip(*(px[c] for c in coords), strict=True))
        means = tuple(statistics.fmean(ch) for ch in chans)
        spread = max(statistics.pstdev(ch) for ch in chans)
        return means, spread

    left = stats([(x, y) for x in (0, 1) for y in range(h)])
    right = stats([(x, y) for x in (w - 2, w - 1) for y in range(h)])
    top = stats([(x, y) for y in (0, 1) for x in range(w)])
    bottom = stats([(x, y) for y in (h - 2, h - 1) for x in range(w)])

    def pair(a, b) -> str | None:
        (ma, sa), (mb, sb) = a, b
        if sa > _PLAIN_STDEV or sb > _PLAIN_STDEV:
            return None
        if max(abs(x - y) for x, y in zip(ma, mb, strict=True)) > _PLAIN_MATCH:
            return None
        return "#" + "".join(f"{round((x + y) / 2):02x}" for x, y in zip(ma, mb, strict=True))

    return pair(left, right), pair(top, bottom)
