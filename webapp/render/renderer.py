"""render(): one product video = one ffmpeg process running one filter graph.

Steps: check the images with Pillow (nothing starts if one is unreadable), then, while the
voice speaks the script in a thread (its length sets the video's unless one is chosen), look at
each photo (packshot or scene, its product's box, its cut-out: kept in a LookCache). Compose:
the recipe's shots on the music's beats, the captions, the recipe's text, the watermark, the end
card — every box through one Layout — into the graph. Run ffmpeg into a temporary file while
reporting progress and, meanwhile, mix the soundtrack; join the two, probe the result and move
it, the poster and the WebVTT into place.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from .audio import add_audio, encode_aac, soundtrack
from .brand import fit_image, watermark
from .captions import (
    CaptionTrack,
    Cue,
    make_track,
    phrase_cues,
    timed_cues,
    write_webvtt,
)
from .endcard import end_card
from .ffmpeg import STALL_S, Progress, ffmpeg_binary, lower_thread_priority, probe, run
from .graph import Graph
from .layout import Box, Layout
from .overlays import Overlay, OverlayMaker
from .recipes import RECIPES, Ctx, beat_of, plan_shots
from .spec import (
    DEFAULT_DURATION,
    END_CARD_S,
    MAX_DURATION,
    MIN_DURATION,
    VOICE_START_S,
    InvalidImageError,
    RenderCanceled,
    RenderError,
    RenderResult,
    RenderSpec,
    Word,
    frame_size,
    speech_room,
    spread,
    validate_spec,
)
from .stage import LookCache, look_at, with_products_found
from .voice import Speech, paced_words, synthesize, synthesize_to_fit

PREVIEW_SIZES = {"16:9": (640, 360), "9:16": (360, 640), "1:1": (480, 480)}  # the template picker's clips
INSTANT_SIZES = {"16:9": (640, 360), "9:16": (360, 640), "1:1": (360, 360)}  # 360p: ready in about a second
INSTANT_SECONDS = 3.5
INSTANT_STALL_S = 5.0  # a preview's ffmpeg takes under a second: 5 s without a frame, it is stuck
INSTANT_END_CARD_S = 1.0
PREVIEW_DESCRIPTION = (
    "Durable, lightweight build. Water-resistant finish. Fits in any bag. Two-year warranty."
)
PREVIEW_INSTRUCTIONS = "Made for everyday moments. Easy to carry, easy to love."
END_CARD_IN_S = 0.3  # the end card's entrance
LOOK_THREADS = 2  # photos looked at side by side
TITLE_SLACK_S = 0.3  # the template's name may come or go this close to the voice saying it
TITLE_AS_BIG = 0.8  # ...and its text be this much of the captions' size as the voice starts it
WATERMARK_AIR = 1.5  # units (1 % of the short side) kept free between the watermark and the text


@dataclass(frozen=True)
class SourceImage:
    """A product image ready for ffmpeg: a plain JPEG, and the merchant's file it came from."""

    index: int
    path: Path
    source: Path
    width: int
    height: int


def render(
    spec: RenderSpec,
    video_path: Path,
    thumbnail_path: Path,
    *,
    captions_path: Path | None = None,
    on_progress: Callable[[int, str], None] | None = None,
    cancel: threading.Event | None = None,
    ffmpeg_exe: str | None = None,
    looks: LookCache | None = None,
) -> RenderResult:
    """Render ``spec`` to an H.264 MP4 at ``video_path`` and a poster JPEG at ``thumbnail_path``;
    when the video has spoken words or captions, their WebVTT file at ``captions_path``
    (default: beside the video, with the suffix .vtt). ``looks`` keeps the looks at the photos
    (cut-outs) for the next render of the same images."""
    vtt = Path(captions_path) if captions_path else Path(video_path).with_suffix(".vtt")
    return _render(spec, Path(video_path), Path(thumbnail_path), vtt, size=None,
                   on_progress=on_progress, cancel=cancel, ffmpeg_exe=ffmpeg_exe, looks=looks)


def render_preview(
    recipe: str,
    images: Sequence[Path],
    video_path: Path,
    thumbnail_path: Path,
    *,
    title: str = "Your product",
    price: str | None = "$49.00",
    compare_at_price: str | None = None,
    aspect_ratio: str = "16:9",
    looks: LookCache | None = None,
) -> RenderResult:
    """A short, small sample of ``recipe`` in ``aspect_ratio`` for the template picker (5 s,
    silent, ending on its end card)."""
    spec = RenderSpec(
        recipe=recipe,
        images=tuple(Path(p) for p in images)[:4],
        title=title,
        price=price,
        compare_at_price=compare_at_price,
        description=PREVIEW_DESCRIPTION,
        custom_instructions=PREVIEW_INSTRUCTIONS,
        aspect_ratio=aspect_ratio,
        duration=5.0,
        fps=30,
        preset="veryfast",
        crf=26,
        link="https://example.com",
    )
    return _render(spec, Path(video_path), Path(thumbnail_path), None, size=PREVIEW_SIZES[aspect_ratio],
                   on_progress=None, cancel=None, ffmpeg_exe=None, audio=False, looks=looks)


def render_instant(spec: RenderSpec, video_path: Path, thumbnail_path: Path, *, looks: LookCache | None = None,
                   ffmpeg_exe: str | None = None) -> RenderResult:
    """A 3.5 s, 360p sample of ``spec`` before anyone spends quota on it: its template with its
    product, brand and words, laid out as the video will be (with a voiceover, the script's
    words captioned one by one at the voice's pace, not spoken), silent, a one-second end card
    without its QR code (none is read off a 360p sample, and it would crowd the card); x264
    ``ultrafast``, the first two photos, draft cut-outs. About a second."""
    words = paced_words(spec.script, start=VOICE_START_S) if spec.voiceover else ()
    quick = replace(spec, images=spec.images[:2], duration=INSTANT_SECONDS, voiceover=False, music=False,
                    script=(), preset="ultrafast", crf=28, fps=24)
    return _render(quick, Path(video_path), Path(thumbnail_path), None, size=INSTANT_SIZES[spec.aspect_ratio],
                   on_progress=None, cancel=None, ffmpeg_exe=ffmpeg_exe, audio=False, looks=looks, instant=True,
                   unspoken=words)


def _render(
    spec: RenderSpec,
    video_path: Path,
    thumbnail_path: Path,
    captions_path: Path | None,
    *,
    size: tuple[int, int] | None,
    on_progress: Callable[[int, str], None] | None,
    cancel: threading.Event | None,
    ffmpeg_exe: str | None,
    audio: bool = True,
    looks: LookCache | None = None,
    instant: bool = False,
    unspoken: tuple[Word, ...] = (),
) -> RenderResult:
    validate_spec(spec, RECIPES, min_duration=INSTANT_SECONDS if instant else MIN_DURATION)
    progress = Progress(on_progress)
    progress.report(0, "Preparing", force=True)

    def check_cancel() -> None:
        if cancel is not None and cancel.is_set():
            raise RenderCanceled("Render canceled")

    check_cancel()
    width, height = size or frame_size(spec.aspect_ratio, spec.resolution)
    fps = spec.fps
    exe = ffmpeg_binary(ffmpeg_exe)

    video_path.parent.mkdir(parents=True, exist_ok=True)
    thumbnail_path.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:10]
    tmp_video = video_path.with_name(f".{video_path.name}.{token}.part")
    tmp_thumb = thumbnail_path.with_name(f".{thumbnail_path.name}.{token}.part")
    tmp_vtt = captions_path.with_name(f".{captions_path.name}.{token}.part") if captions_path else None
    partial = [p for p in (tmp_video, tmp_thumb, tmp_vtt) if p is not None]

    try:
        with tempfile.TemporaryDirectory(prefix="reelboard-render-") as tmp:
            workdir = Path(tmp)
            images = prepare_images(spec.images, workdir, max_side=2 * max(width, height))
            speech = None
            # the voice speaks in a thread (ONNX lets go of the GIL) while the photos are looked at
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="voice") as voice:
                spoken = None
                if spec.voiceover and audio:
                    progress.report(1, "Recording the voiceover", force=True)
                    spoken = voice.submit(_speak_niced, spec.script, workdir / "voice.wav", spec.duration)
                try:
                    seen = _look_at_all(images, workdir, looks, draft=instant, check_cancel=check_cancel)
                except BaseException:
                    if spoken is not None:
                        spoken.cancel()
                    raise
                speech = spoken.result() if spoken is not None else None
            check_cancel()
            duration = round(video_seconds(spec.duration, speech) * fps) / fps
            words = speech.shifted(VOICE_START_S) if speech else unspoken
            made = compose(spec, seen, workdir, width=width, height=height, duration=duration, words=words,
                           instant=instant)
            recipe = RECIPES[spec.recipe]
            mood = recipe.mood if spec.music and audio else None
            with_sound = bool(speech or mood)
            # the soundtrack is mixed (one thread, a few quick passes) while ffmpeg draws the
            # video (both cores); then the two are joined without re-encoding
            silent_video = workdir / "video.mp4" if with_sound else tmp_video
            poster_png = workdir / "poster.ppm"
            cmd = video_command(exe, spec, made, silent_video, poster_png, faststart=not with_sound)

            def percent(p: float) -> None:
                overall = 2 + p * 0.95
                if p >= 100:
                    progress.report(97, "Finishing")
                else:
                    progress.report(int(overall), f"Rendering {int(overall)}%")

            progress.report(2, "Rendering 2%")
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="soundtrack") as mixer:
                sound = None
                if with_sound:
                    spans = [(a + VOICE_START_S, b + VOICE_START_S) for a, b in speech.line_spans()] if speech else []
                    sound = mixer.submit(_soundtrack_aac, exe, workdir, duration=duration,
                                         voice=speech.path if speech else None, spans=spans, mood=mood)
                try:
                    run(cmd, total_seconds=duration, on_percent=percent, cancel=cancel,
                        stall_s=INSTANT_STALL_S if instant else STALL_S)
                except BaseException:
                    if sound is not None:
                        sound.cancel()
                    raise
                progress.report(97, "Finishing")
                if sound is not None:
                    add_audio(exe, silent_video, sound.result(), tmp_video)

            if not tmp_video.is_file() or tmp_video.stat().st_size == 0:
                raise RenderError("ffmpeg finished but wrote no video")
            if not poster_png.is_file():
                raise RenderError("ffmpeg finished but wrote no poster frame")
            with Image.open(poster_png) as im:
                im.convert("RGB").save(tmp_thumb, "JPEG", quality=88, optimize=True, progressive=True)
            info = probe(tmp_video, exe)
            written_vtt = None
            if made.cues and tmp_vtt is not None and captions_path is not None:
                write_webvtt(made.cues, tmp_vtt)
                written_vtt = captions_path
            check_cancel()
            os.replace(tmp_video, video_path)
            os.replace(tmp_thumb, thumbnail_path)
            if written_vtt is not None:
                os.replace(tmp_vtt, written_vtt)
    except BaseException:
        for p in partial:
            p.unlink(missing_ok=True)
        raise
    result = RenderResult(
        video_path=video_path,
        thumbnail_path=thumbnail_path,
        duration=round(info.duration, 3),
        width=info.width,
        height=info.height,
        size_bytes=video_path.stat().st_size,
        captions_path=written_vtt,
        words=words,
        layout=made.layout,
        end_card=made.end_card,
        product_boxes=made.product_boxes,
    )
    progress.report(100, "Done", force=True)
    return result


@dataclass
class Composition:
    """A video composed but not yet run: its graph with the labels of the video and poster
    streams, every box of its layout, its end card's boxes, and its captions."""

    graph: Graph
    video: str
    poster: str
    frames: int
    layout: Layout
    end_card: Layout | None
    cues: list[Cue]
    product_boxes: tuple[Box, ...]
    end_card_start: float  # seconds


def compose(spec: RenderSpec, looks: list, workdir: Path, *, width: int, height: int, duration: float,
            words: tuple[Word, ...] = (), instant: bool = False) -> Composition:
    """Lay out and build the graph of ``spec`` from the looks at its photos (``stage.Look``):
    the recipe's shots, the captions, its text, the watermark and the end card."""
    fps = spec.fps
    frames = round(duration * fps)
    recipe = RECIPES[spec.recipe]
    beat = beat_of(recipe.mood)
    brand = spec.brand
    main = frames
    if spec.end_card:
        last_word = words[-1].end if words else 0.0
        main = end_card_start(duration, beat, fps, last_word, INSTANT_END_CARD_S if instant else END_CARD_S)
    graph = Graph(width, height, fps)
    for look in looks:
        graph.register_image(look.index, look.path)
    ov = OverlayMaker(workdir, width, height, brand)
    layout = Layout(width, height)
    c = Ctx(spec, width, height, fps, main, list(looks), graph, ov, layout, workdir, beat, preview=instant)
    plan_shots(c, recipe.framing)
    mark = _watermark(c)
    # captions are placed before the recipe's text, which keeps clear of them; the merchant's
    # captions take the place of the voice's words on screen, and both stop at the end card
    merchant = timed_cues(spread(spec.captions, main / fps), main / fps)
    cues = _until(merchant or phrase_cues(words), main / fps)
    c.words = () if merchant else words
    track = None
    if cues:
        track = make_track(workdir, width, height, fps, main / fps, cues, layout=layout,
                           style=recipe.caption_style(c), highlight=not merchant, max_lines=3 if merchant else 2,
                           font=brand.font)
        cues = list(track.cues)
    built = recipe.build(c)
    if track and c.spoken:
        track = _hush_spoken_title(track, spec.title, c.title_shown)
    label = graph.add(built.label, [f"trim=end_frame={main}", "setpts=PTS-STARTPTS"])
    if mark is not None:  # laid out clear of the captions: drawn first or last, the same frames
        label = graph.overlay_static(label, mark)
    # The poster is taken before the captions when they are the voice's (a phrase cut from a
    # sentence, "with three levels", and under a player's controls) or the template's own title
    # is on screen then (the name said once); a merchant's timed captions, their own whole
    # lines, stay on it.
    poster_at = c.poster_moment(built.poster)
    bare = c.spoken or any(a <= poster_at < b for a, b, _ in c.title_shown)
    if bare:
        label, poster_src = graph.split(label, 2)
    if track:
        label = graph.overlay_track(label, track.concat, int(track.box.x), int(track.box.y))
    if not bare:
        label, poster_src = graph.split(label, 2)
    card_layout = None
    if main < frames:
        t = min(round(END_CARD_IN_S * fps), main)
        card = end_card(width, height, brand, title=spec.title, price=spec.price,
                        compare_at_price=spec.compare_at_price, qr_url=None if instant else spec.link,
                        product=_card_product(c))
        card_png = workdir / "end_card.png"
        card.image.convert("RGB").save(card_png, compress_level=0)
        held = graph.plate(card_png, frames - main + t)
        # coverup, not slideup: the static ffmpeg 9.0.2's slideup reads the row below the frame on
        # its first frame (progress 1), and crashed (SIGSEGV) in about one 9:16 render in seven
        label = graph.sequence([(label, main), (held, frames - main + t)], ["coverup" if c.tall else "slideleft"], t)
        card_layout = card.layout
    label = graph.add(label, [
        "setparams=colorspace=smpte170m:color_primaries=bt709:color_trc=bt709:range=tv",
        "format=yuv420p",
    ])
    # The poster branch writes every 8th frame up to k, then k, to one image file that
    # each overwrites (-update 1), so frame k is what remains. Dropping all frames
    # before k would leave this output behind the video, and ffmpeg would hold back
    # raw video frames (~1.4 MB each at 720p) until frame k arrived.
    k = min(main - 1, max(0, round(poster_at * fps)))
    poster = graph.add(poster_src, [
        f"trim=end_frame={k + 1}", f"select='not(mod(n,8))+eq(n,{k})'",
        "scale=in_color_matrix=bt601:in_range=tv:out_range=pc", "format=rgb24",
    ])
    return Composition(graph, label, poster, frames, layout, card_layout, cues,
                       tuple(shot.product for shot in c.shots), main / fps)


def video_command(exe: str, spec: RenderSpec, made: Composition, video: Path, poster: Path, *,
                  faststart: bool) -> list[str]:
    """The one ffmpeg run that draws ``made`` and encodes it: the H.264 ``video`` (silent) and
    the ``poster`` frame (PPM). It reports its progress on stdout."""
    cmd = [
        exe, "-nostdin", "-y", "-hide_banner", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
        # the graph's filters run unsliced: sliced across threads, a filter of the static ffmpeg
        # 9.0.2 that imageio-ffmpeg ships crashed inside a slice job (SIGSEGV) in about one 9:16
        # human_usage render in three; unsliced, in none of ten
        "-filter_complex_threads", "1",
    ]
    for inp in made.graph.inputs:
        cmd += inp
    cmd += ["-filter_complex", made.graph.script()]
    cmd += [
        # -frames:v: the video ends at its last frame even if a part of the graph never ends (one
        # did: ffmpeg repeated a frame until memory ran out)
        "-map", made.video, "-frames:v", str(made.frames), "-c:v", "libx264", "-preset", spec.preset,
        "-crf", str(spec.crf), "-pix_fmt", "yuv420p", "-profile:v", "high", "-r", str(spec.fps),
        # sRGB photos (BT.709 primaries) carried with the BT.601 matrix, tagged so
        "-colorspace", "smpte170m", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
    ]
    if faststart:
        cmd += ["-movflags", "+faststart"]
    cmd += ["-f", "mp4", str(video)]
    cmd += ["-map", made.poster, "-fps_mode", "passthrough", "-c:v", "ppm", "-update", "1",
            "-f", "image2", str(poster)]
    return cmd


def end_card_start(duration: float, beat: float, fps: int, last_word: float, length: float) -> int:
    """The frame the end card starts on: ``length`` before the end, moved to the nearest beat
    of the music when that keeps it between 1.5 and 2.5 s long (between 75 % and 125 % of
    ``length``) and after the last spoken word."""
    ideal = duration - length
    earliest = max(last_word, duration - 1.25 * length)
    latest = duration - 0.75 * length
    on_beat = round(ideal / beat) * beat
    start = on_beat if earliest <= on_beat <= latest else min(max(ideal, earliest), latest)
    return max(1, round(start * fps))


def _hush_spoken_title(track: CaptionTrack, title: str, title_shown: list[tuple[float, float, int]]) -> CaptionTrack:
    """The captions without the voice saying the product's name first, while the template's
    own text shows that name: about as big as the captions when the voice starts it, and on
    screen (in that box, or the next) until the voice is halfway through it (unboxing's intro
    card leaves with the box lid as the voice ends the name). The name once on screen, not
    twice. (The WebVTT keeps it. A name shown only small, a chip or a kicker, leaves the
    captions to be the first second's bold type.)"""
    wanted, said = _letters(title), ""
    if not wanted:
        return track
    for last, cue in enumerate(track.cues):  # the first cues, as long as they spell the name
        said += _letters(cue.text)
        if not wanted.startswith(said):
            return track
        if said == wanted:
            break
    else:
        return track
    start, end = track.cues[0].start, track.cues[last].end
    opened = any(a <= start + TITLE_SLACK_S < b and size >= TITLE_AS_BIG * track.text_size
                 for a, b, size in title_shown)
    kept = any(a <= start + TITLE_SLACK_S and (start + end) / 2 <= b
               for a, b in _spans(sorted((a, b) for a, b, _ in title_shown)))
    if not (opened and kept):
        return track
    return track.hushed(set(range(last + 1)))


def _spans(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted windows joined where one box hands the name to the next (unboxing's intro card,
    then its banner) with a gap of at most TITLE_SLACK_S."""
    joined: list[tuple[float, float]] = []
    for a, b in windows:
        if joined and a <= joined[-1][1] + TITLE_SLACK_S:
            joined[-1] = (joined[-1][0], max(joined[-1][1], b))
        else:
            joined.append((a, b))
    return joined


def _letters(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _until(cues: list[Cue], end: float) -> list[Cue]:
    """The cues cut at ``end`` (the end card), those starting after it left out."""
    return [replace(cue, end=min(cue.end, end)) for cue in cues if cue.start < end - 0.05]


def _watermark(c: Ctx) -> Overlay | None:
    """The brand's logo, faint, in the first corner of the safe zone it fits in (the top-left
    one first; never the top-right of a tall frame, where the platforms draw their buttons).
    Its box in the layout reaches WATERMARK_AIR further into the frame, so that the template's
    text keeps that far from it."""
    image = watermark(c.spec.brand, c.width, c.height)
    if image is None:
        return None
    zone = c.safe
    when = (0.0, c.duration)
    air = c.px(WATERMARK_AIR)
    w, h = image.width + air, image.height + air
    # even pixels, rounded into the zone
    left, top = math.ceil(zone.x / 2) * 2, math.ceil(zone.y / 2) * 2
    right, bottom = math.floor((zone.right - image.width) / 2) * 2, math.floor((zone.bottom - image.height) / 2) * 2
    corners = [((left, top), Box(left, top, w, h)), ((left, bottom), Box(left, bottom - air, w, h)),
               ((right, bottom), Box(right - air, bottom - air, w, h))]
    if not c.tall:
        corners.insert(1, ((right, top), Box(right - air, top, w, h)))
    for (x, y), box in corners:
        if c.layout.fits(box, when=when):
            c.layout.place("watermark", box, when=when)
            return c.ov.save(image, x, y, trim=False)
    return None


def _card_product(c: Ctx) -> Image.Image | None:
    """What the end card shows of the product: the first cut-out, else the first photo's
    product, cropped from its scene."""
    staged = [look for look in c.looks if look.staged]
    if staged:
        with Image.open(staged[0].cutout) as opened:
            return opened.convert("RGBA")
    if not c.looks:
        return None
    look = c.looks[0]
    box = look.product_box
    pad_x, pad_y = box.w * 0.35, box.h * 0.2
    with Image.open(look.path) as opened:
        tile = opened.convert("RGB").crop((round(max(0, box.x - pad_x)), round(max(0, box.y - pad_y)),
                                           round(min(look.size[0], box.right + pad_x)),
                                           round(min(look.size[1], box.bottom + pad_y))))
    tile = fit_image(tile.convert("RGBA"), 1600, 1600)
    mask = Image.new("L", tile.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, tile.width - 1, tile.height - 1),
                                           radius=round(min(tile.size) * 0.06), fill=255)
    tile.putalpha(mask)
    return tile


def _look_at_all(images: Sequence[SourceImage], workdir: Path, looks: LookCache | None, *, draft: bool,
                 check_cancel: Callable[[], None]) -> list:
    """The looks at ``images``, in their order, two at a time (a cut-out is a second of OpenCV,
    which lets go of the GIL, so the two cores share them while the voice speaks), with the
    product found in each scene by its cut-out's colours."""

    def look(im: SourceImage):
        lower_thread_priority()  # like the render that waits for it
        check_cancel()
        return look_at(im.index, im.source, im.path, (im.width, im.height), workdir, looks, draft=draft)

    with ThreadPoolExecutor(max_workers=LOOK_THREADS, thread_name_prefix="look") as pool:
        futures = [pool.submit(look, im) for im in images]
        try:
            seen = [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return with_products_found(seen)


def _speak_niced(script: Sequence[str], wav: Path, duration: float | None) -> Speech:
    lower_thread_priority()  # like the render that waits for it
    return speak(script, wav, duration)


def _soundtrack_aac(exe: str, workdir: Path, *, duration: float, voice: Path | None,
                    spans: list[tuple[float, float]], mood: str | None) -> Path:
    lower_thread_priority()  # like the render that waits for it
    wav, _ = soundtrack(exe, workdir, duration=duration, voice=voice, voice_start=VOICE_START_S,
                        spans=spans, mood=mood)
    return encode_aac(exe, wav, workdir / "soundtrack.m4a")


def speak(script: Sequence[str], wav: Path, duration: float | None) -> Speech:
    """The voiceover of a video: paced to a chosen ``duration`` (less the lead-in and the end
    card), or at its natural pace when the video follows the speech, faster only when that
    would not fit the longest video."""
    room = speech_room(duration)
    if duration is not None:
        return synthesize_to_fit(script, wav, seconds=room)
    speech = synthesize(script, wav)
    return speech if speech.duration <= room else synthesize_to_fit(script, wav, seconds=room)


def video_seconds(duration: float | None, speech: Speech | None) -> float:
    """The chosen duration; else the speech with its lead-in and end card (within the bounds);
    else the default."""
    if duration is not None:
        return float(duration)
    if speech is None:
        return DEFAULT_DURATION
    return min(MAX_DURATION, max(MIN_DURATION, VOICE_START_S + speech.duration + END_CARD_S))


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
        out.append(SourceImage(i, src, path, w, h))
    return out


def _flatten(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im.convert("RGB")
